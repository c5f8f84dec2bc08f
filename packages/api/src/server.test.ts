import { spawn } from "node:child_process";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { BoardLocation } from "@kanban/db";
import { makeTempDir } from "@kanban/db/testing";
import { bundledScript } from "@kanban/db/testing-scripts";
import { openBoard, type TaskEvent } from "@kanban/kernel";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createKanbanClient, type KanbanClient } from "./client.ts";
import { type RunningServer, startServer } from "./server.ts";
import { captureLogger, waitFor } from "./testing.ts";

const ADMIN = "admin-token-0123456789abcdef";
const ACME = "acme-token-0123456789abcdef";
const pkgDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

interface Harness {
  server: RunningServer;
  location: BoardLocation;
  logger: ReturnType<typeof captureLogger>;
  url: string;
  cleanup(): Promise<void>;
}

async function harness(
  opts: { token?: string; bodyLimitBytes?: number; requestTimeoutMs?: number } = {},
): Promise<Harness> {
  const { dir, cleanup } = makeTempDir("kanban-serve-");
  const location: BoardLocation = { home: dir };
  const logger = captureLogger();
  const server = await startServer({
    port: 0,
    location,
    logger,
    token: opts.token,
    // Tenant tokens beside an admin token; an open server has none (with them, no token is no access).
    tenantTokens: opts.token ? { [ACME]: "acme" } : {},
    bodyLimitBytes: opts.bodyLimitBytes,
    requestTimeoutMs: opts.requestTimeoutMs,
    terminate: () => {},
    pollIntervalMs: 100,
  });
  return {
    server,
    location,
    logger,
    url: server.url,
    cleanup: async () => {
      await server.close();
      cleanup();
    },
  };
}

interface Reply {
  status: number;
  body: { result?: { data: unknown }; error?: { message: string; data: Record<string, unknown> } };
}

async function call(
  base: string,
  method: "GET" | "POST",
  proc: string,
  input?: unknown,
  headers: Record<string, string> = {},
): Promise<Reply> {
  const url =
    method === "GET"
      ? `${base}/trpc/${proc}${input === undefined ? "" : `?input=${encodeURIComponent(JSON.stringify(input))}`}`
      : `${base}/trpc/${proc}`;
  const res = await fetch(url, {
    method,
    headers: { "content-type": "application/json", ...headers },
    body: method === "POST" ? JSON.stringify(input ?? {}) : undefined,
  });
  return { status: res.status, body: (await res.json()) as Reply["body"] };
}

/** A raw HTTP request (for bodies and headers fetch will not send as-is). */
function raw(
  base: string,
  opts: { method: string; path: string; headers?: Record<string, string>; body?: string },
): Promise<{ status: number; text: string }> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: u.hostname, port: u.port, method: opts.method, path: opts.path, headers: opts.headers },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => {
          text += c;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on("error", reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

/** Collects events of a typed-client subscription. */
function subscribe(client: KanbanClient, input: Parameters<KanbanClient["events"]["subscribe"]["subscribe"]>[0]) {
  const events: (TaskEvent & { receivedAt: number })[] = [];
  const errors: unknown[] = [];
  let started = false;
  const sub = client.events.subscribe.subscribe(input, {
    onStarted: () => {
      started = true;
    },
    onData: (d) => {
      events.push({ ...d.data, receivedAt: Date.now() });
    },
    onError: (e) => errors.push(e),
  });
  return { events, errors, started: () => started, stop: () => sub.unsubscribe() };
}

describe("kanban serve: open on loopback", () => {
  let h: Harness;
  let client: KanbanClient;
  beforeAll(async () => {
    h = await harness();
    client = createKanbanClient({ url: `${h.url}/trpc` });
  });
  afterAll(async () => {
    await h.cleanup();
  });

  it("answers /healthz and 404s unknown paths and procedures (never 500)", async () => {
    expect((await raw(h.url, { method: "GET", path: "/healthz" })).status).toBe(200);
    const other = await raw(h.url, { method: "GET", path: "/nothing/here" });
    expect(other.status).toBe(404);
    expect(JSON.parse(other.text)).toMatchObject({ error: { data: { code: "NOT_FOUND", httpStatus: 404 } } });
    expect((await call(h.url, "GET", "tasks.nope")).status).toBe(404);
  });

  it("keeps an idle keep-alive connection open past Node's 5 s default, and says so (Keep-Alive: timeout=65)", async () => {
    // A server that closes idle sockets first loses the request a client sends at that moment.
    const { port } = new URL(h.url);
    const socket = net.connect(Number(port), "127.0.0.1");
    let received = "";
    socket.setEncoding("utf8");
    socket.on("data", (d: string) => {
      received += d;
    });
    const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
    const answers = async (n: number) => {
      for (let i = 0; received.split("HTTP/1.1 200").length - 1 < n; i++) {
        if (i > 200) throw new Error(`no answer ${n}: ${received}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    };
    const get = `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: keep-alive\r\n\r\n`;
    try {
      socket.write(get);
      await answers(1);
      expect(received.toLowerCase()).toContain("keep-alive: timeout=65");
      await new Promise((r) => setTimeout(r, 5_500));
      expect(socket.destroyed).toBe(false);
      socket.write(get);
      await answers(2);
    } finally {
      socket.end();
      await closed;
    }
  });

  it("sends anti-framing and no-sniff headers on every response: health, 404, refusals and procedures", async () => {
    const responses = [
      await fetch(`${h.url}/healthz`),
      await fetch(`${h.url}/nowhere`),
      await fetch(`${h.url}/trpc/stats.get`),
      await fetch(`${h.url}/trpc/stats.get`, { headers: { authorization: "Bearer wrong-token-0123456789" } }),
      await fetch(`${h.url}/trpc/tasks.create`, {
        method: "POST",
        headers: { origin: "http://evil.example", "content-type": "application/json" },
        body: "{}",
      }),
    ];
    expect(responses.map((r) => r.status)).toEqual([200, 404, 200, 401, 403]);
    for (const r of responses) {
      expect(r.headers.get("x-frame-options")).toBe("DENY");
      expect(r.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
      expect(r.headers.get("content-security-policy")).toContain("default-src 'none'");
      expect(r.headers.get("x-content-type-options")).toBe("nosniff");
      await r.text();
    }
  });

  it("walks every procedure's happy path over HTTP with the typed client (plain JSON on the wire)", async () => {
    const board = await client.boards.create.mutate({ slug: "tour" });
    expect(board.board.slug).toBe("tour");
    const b = { board: "tour" };
    const parent = (await client.tasks.create.mutate({ ...b, title: "parent", assignee: "w" })).task;
    const child = (await client.tasks.create.mutate({ ...b, title: "child", parents: [parent.id] })).task;
    expect((await client.board.get.query(b)).columns.find((c) => c.name === "ready")?.tasks.map((x) => x.id)).toEqual([
      parent.id,
    ]);
    expect((await client.board.column.query({ ...b, column: "todo" })).tasks.map((x) => x.id)).toEqual([child.id]);
    expect((await client.tasks.list.query(b)).tasks).toHaveLength(2);
    await client.comments.add.mutate({ ...b, task_id: parent.id, body: "note" });
    expect((await client.comments.list.query({ ...b, task_id: parent.id })).comments).toHaveLength(1);
    const claimed = await client.tasks.claim.mutate({ ...b, id: parent.id });
    await client.tasks.heartbeat.mutate({ ...b, id: parent.id, expected_run_id: claimed.run_id, note: "hi" });
    expect((await client.workers.active.query(b)).count).toBe(1);
    expect((await client.runs.list.query({ ...b, task_id: parent.id })).runs).toHaveLength(1);
    expect((await client.runs.get.query({ ...b, run_id: claimed.run_id ?? 0 })).run.status).toBe("running");
    expect((await client.tasks.context.query({ ...b, id: parent.id })).context).toContain("parent");
    expect((await client.tasks.log.query({ ...b, id: parent.id })).exists).toBe(false);
    await client.tasks.complete.mutate({
      ...b,
      id: parent.id,
      expected_run_id: claimed.run_id,
      summary: "ok",
      metadata: { n: 1 },
    });
    await client.tasks.editResult.mutate({ ...b, id: parent.id, result: "R2" });
    const detail = await client.tasks.get.query({ ...b, id: parent.id });
    expect(detail.task).toMatchObject({ status: "done", result: "R2" });
    expect(detail.runs[0]?.metadata).toEqual({ n: 1 });
    await client.tasks.patch.mutate({ ...b, id: child.id, priority: 3, title: "child!" });
    await client.tasks.block.mutate({ ...b, id: child.id, reason: "wait" });
    await client.tasks.unblock.mutate({ ...b, id: child.id });
    await client.tasks.schedule.mutate({ ...b, id: child.id });
    await client.tasks.unblock.mutate({ ...b, id: child.id });
    await client.tasks.reassign.mutate({ ...b, id: child.id, profile: "w2" });
    await client.tasks.claim.mutate({ ...b, id: child.id });
    await client.tasks.reclaim.mutate({ ...b, id: child.id });
    const run2 = await client.tasks.claim.mutate({ ...b, id: child.id });
    await client.runs.terminate.mutate({ ...b, run_id: run2.run_id ?? 0 });
    const other = (await client.tasks.create.mutate({ ...b, title: "other", triage: true })).task;
    await client.tasks.patch.mutate({ ...b, id: other.id, status: "todo" });
    await client.tasks.promote.mutate({ ...b, id: other.id });
    await client.links.add.mutate({ ...b, parent_id: other.id, child_id: child.id });
    await client.links.remove.mutate({ ...b, parent_id: other.id, child_id: child.id });
    expect(
      (await client.tasks.bulk.mutate({ ...b, ids: [other.id, child.id], priority: 1 })).results.every((r) => r.ok),
    ).toBe(true);
    await client.notify.subscribe.mutate({ ...b, task_id: child.id, platform: "p", chat_id: "c" });
    expect((await client.notify.list.query(b)).subscriptions).toHaveLength(1);
    await client.notify.unsubscribe.mutate({ ...b, task_id: child.id, platform: "p", chat_id: "c" });
    expect((await client.diagnostics.list.query(b)).count).toBeGreaterThanOrEqual(0);
    expect((await client.stats.get.query(b)).by_status).toMatchObject({ done: 1 });
    expect((await client.assignees.list.query(b)).assignees.map((a) => a.name)).toContain("w2");
    expect((await client.profiles.list.query()).profiles).toEqual([]);
    expect((await client.config.get.query()).lane_by_profile).toBe(true);
    expect((await client.dispatcher.status.query()).alive).toBe(false);
    expect((await client.dispatcher.nudge.mutate()).nudged).toBe(false);
    expect((await client.events.list.query({ ...b, task_id: child.id })).events.length).toBeGreaterThan(5);
    await client.tasks.archive.mutate({ ...b, id: other.id });
    await client.tasks.delete.mutate({ ...b, id: other.id });
    expect((await client.tasks.recompute.mutate(b)).promoted).toBeGreaterThanOrEqual(0);
    await client.boards.update.mutate({ slug: "tour", name: "Tour" });
    await client.boards.switch.mutate({ slug: "tour" });
    expect((await client.boards.list.query()).current).toBe("tour");
    await client.boards.switch.mutate({ slug: "default" });
    expect((await client.boards.remove.mutate({ slug: "tour" })).result.action).toBe("archived");
  });

  it("maps errors to HTTP: 404 unknown id, 409 wrong state, 400 invalid input, 412 phantom cards; data has codes, never a stack", async () => {
    const notFound = await call(h.url, "GET", "tasks.get", { id: "t_missing" });
    expect(notFound.status).toBe(404);
    expect(notFound.body.error).toMatchObject({
      message: "task t_missing not found",
      data: { code: "NOT_FOUND", httpStatus: 404, kanbanCode: "NOT_FOUND" },
    });
    expect(notFound.body.error?.data).not.toHaveProperty("stack");

    const { task } = (await client.tasks.create.mutate({ title: "t", assignee: "w" })) as { task: { id: string } };
    const conflict = await call(h.url, "POST", "tasks.unblock", { id: task.id });
    expect(conflict.status).toBe(409);
    expect(conflict.body.error?.data).toMatchObject({ code: "CONFLICT", kanbanCode: "WRONG_STATE" });

    const running = await call(h.url, "POST", "tasks.patch", { id: task.id, status: "running" });
    expect(running.status).toBe(400);
    expect(running.body.error?.message).toBe("Cannot set status to 'running' directly; use the dispatcher/claim path");

    const invalid = await call(h.url, "POST", "tasks.create", { title: "x".repeat(501) });
    expect(invalid.status).toBe(400);
    expect(invalid.body.error?.data.zodError).toMatchObject({
      fieldErrors: { title: [expect.stringContaining("500")] },
    });

    await client.tasks.claim.mutate({ id: task.id });
    const phantom = await call(h.url, "POST", "tasks.complete", { id: task.id, created_cards: ["t_0000000000ff"] });
    expect(phantom.status).toBe(412);
    expect(phantom.body.error?.data).toMatchObject({
      kanbanCode: "HALLUCINATED_CARDS",
      details: { phantom: ["t_0000000000ff"] },
    });

    expect((await call(h.url, "GET", "board.get", { board: "no-such" })).status).toBe(404);
    expect((await call(h.url, "GET", "board.get", { board: "BAD SLUG" })).status).toBe(400);
    expect((await call(h.url, "GET", "tasks.create", { title: "x" })).status).toBe(405);
  });

  it("answers malformed bodies and inputs with 400, never 500", async () => {
    const bad = await raw(h.url, {
      method: "POST",
      path: "/trpc/tasks.create",
      headers: { "content-type": "application/json" },
      body: "{not json",
    });
    expect(bad.status).toBe(400);
    const badInput = await raw(h.url, { method: "GET", path: "/trpc/tasks.get?input=%7Bnope" });
    expect(badInput.status).toBe(400);
    const wrongType = await call(h.url, "POST", "tasks.create", { title: 42 });
    expect(wrongType.status).toBe(400);
    const nested = await call(h.url, "POST", "tasks.create", ["array"]);
    expect(nested.status).toBe(400);
  });

  it("refuses a cross-origin browser write (403) and accepts same-origin and non-browser writes", async () => {
    const host = new URL(h.url).host;
    const evil = await call(h.url, "POST", "tasks.create", { title: "x" }, { origin: "http://evil.example" });
    expect(evil.status).toBe(403);
    expect(evil.body.error?.message).toBe("cross-origin write refused: Origin must match Host");
    expect((await call(h.url, "POST", "tasks.create", { title: "x" }, { origin: `http://${host}` })).status).toBe(200);
    expect((await call(h.url, "POST", "tasks.create", { title: "x" })).status).toBe(200);
    // Reads are not writes: a GET with a foreign Origin is still answered (CORS keeps it from the page).
    expect((await call(h.url, "GET", "stats.get", undefined, { origin: "http://evil.example" })).status).toBe(200);
  });

  it("open mode answers only loopback Host names (a DNS-rebinding page gets 403)", async () => {
    const rebound = await raw(h.url, {
      method: "GET",
      path: "/trpc/stats.get",
      headers: { host: "attacker.example:4100" },
    });
    expect(rebound.status).toBe(403);
    expect(
      (await raw(h.url, { method: "GET", path: "/trpc/stats.get", headers: { host: "localhost:4100" } })).status,
    ).toBe(200);
  });

  it("rejects a wrong bearer token even in open mode (401)", async () => {
    expect((await call(h.url, "GET", "stats.get", undefined, { authorization: "Bearer nope" })).status).toBe(401);
  });

  // Its latency (the 1 s promise) is measured by the bench's "live events" row, not here.
  it("delivers an event written by a separate OS process", async () => {
    const board = openBoard({ location: h.location, warn: () => {} });
    const after = await board.latestEventId();
    board.close();
    const sub = subscribe(client, { after });
    await waitFor(sub.started, 5000, "subscription to start");
    const writer = await bundledScript({
      code: `const { openBoard } = await import("@kanban/kernel");
         const board = openBoard({ location: { home: process.env.TEST_HOME }, warn: () => {} });
         const t = await board.createTask({ title: "from another process" });
         process.stdout.write(JSON.stringify({ id: t.id }) + "\\n");
         await board.addComment(t.id, "cli", "hello from afar");
         board.close();`,
      resolveDir: pkgDir,
    });
    const child = spawn(process.execPath, [writer], {
      cwd: pkgDir,
      env: { ...process.env, TEST_HOME: h.location.home },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (c: Buffer) => {
      out += c.toString();
    });
    child.stderr.on("data", (c: Buffer) => {
      err += c.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    expect(err).toBe("");
    expect(code).toBe(0);
    const written = JSON.parse(out.trim()) as { id: string };
    await waitFor(
      () => sub.events.some((e) => e.kind === "commented" && e.task_id === written.id),
      10_000,
      "the other process's events",
    );
    sub.stop();
    const created = sub.events.find((e) => e.kind === "created" && e.task_id === written.id);
    expect(created).toBeDefined();
    expect(sub.errors).toEqual([]);
  }, 30_000);

  it("resumes from lastEventId without losing anything (typed client, and raw SSE with a Last-Event-ID header)", async () => {
    const board = openBoard({ location: h.location, warn: () => {} });
    try {
      const { id } = await board.createTask({ title: "resume" });
      const after = await board.latestEventId();
      const first = subscribe(client, { task_id: id, after });
      await waitFor(first.started, 5000, "subscription to start");
      await board.addComment(id, "a", "one");
      await board.addComment(id, "a", "two");
      await waitFor(() => first.events.length === 2, 10_000, "the first two events");
      first.stop();
      const lastSeen = first.events[1]?.id ?? 0;
      // Written while nobody listens.
      await board.addComment(id, "a", "three");
      await board.blockTask(id, { reason: "four" });
      const resumed = subscribe(client, { task_id: id, lastEventId: String(lastSeen) });
      await waitFor(() => resumed.events.length === 2, 10_000, "the missed events");
      await board.unblockTask(id);
      await waitFor(() => resumed.events.length === 3, 10_000, "a live event after the replay");
      resumed.stop();
      expect(resumed.events.map((e) => e.kind)).toEqual(["commented", "blocked", "unblocked"]);
      expect(resumed.events[0]?.id).toBe(lastSeen + 1);

      // The same over plain HTTP: what curl or a browser EventSource sends when it reconnects.
      const ac = new AbortController();
      const res = await fetch(
        `${h.url}/trpc/events.subscribe?input=${encodeURIComponent(JSON.stringify({ task_id: id }))}`,
        {
          headers: { accept: "text/event-stream", "last-event-id": String(lastSeen) },
          signal: ac.signal,
        },
      );
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toContain("text/event-stream");
      let text = "";
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      const decoder = new TextDecoder();
      while ((text.match(/^id: /gm) ?? []).length < 3) {
        const { value, done } = await reader.read();
        if (done) break;
        text += decoder.decode(value);
      }
      ac.abort();
      const ids = [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
      expect(ids).toEqual([lastSeen + 1, lastSeen + 2, lastSeen + 3]);
    } finally {
      board.close();
    }
  }, 30_000);

  it("50 concurrent subscribers each get every event", async () => {
    const board = openBoard({ location: h.location, warn: () => {} });
    try {
      const after = await board.latestEventId();
      const subs = Array.from({ length: 50 }, () => subscribe(client, { after }));
      await waitFor(() => subs.every((s) => s.started()), 10_000, "50 subscriptions to start");
      const { id } = await board.createTask({ title: "fan-out" });
      for (let i = 0; i < 19; i++) await board.addComment(id, "a", `c${i}`);
      await waitFor(() => subs.every((s) => s.events.length >= 20), 10_000, "every subscriber to get all 20 events");
      const expected = subs[0]?.events.map((e) => e.id);
      expect(expected).toHaveLength(20);
      for (const s of subs) {
        expect(s.events.map((e) => e.id)).toEqual(expected);
        s.stop();
      }
    } finally {
      board.close();
    }
  }, 30_000);

  it("a subscriber whose socket stalls does not delay the others", async () => {
    const board = openBoard({ location: h.location, warn: () => {} });
    const u = new URL(h.url);
    let stalledRes: http.IncomingMessage | null = null;
    const stalledReq = http.get(
      {
        host: u.hostname,
        port: u.port,
        path: `/trpc/events.subscribe?input=${encodeURIComponent(JSON.stringify({ after: await board.latestEventId() }))}`,
        headers: { accept: "text/event-stream" },
      },
      (res) => {
        stalledRes = res;
        res.pause(); // never read: the server's socket buffer fills up
      },
    );
    try {
      await waitFor(() => stalledRes !== null, 5000, "stalled stream to open");
      const { id } = await board.createTask({ title: "noisy" });
      const live = subscribe(client, { after: await board.latestEventId(), kinds: ["blocked"] });
      await waitFor(live.started, 5000, "live subscription");
      // ~9 MB of events, more than loopback socket buffers hold, for a reader that never reads.
      const reason = "r".repeat(60_000);
      for (let i = 0; i < 150; i++) {
        await board.blockTask(id, { reason });
        await board.unblockTask(id);
        // The server shares this process: let it run between writes, as it would beside a real writer.
        await new Promise((r) => setImmediate(r));
      }
      // Were the stalled socket holding the stream up, these would never all arrive while it stays unread.
      await waitFor(() => live.events.length === 150, 20_000, "all blocks to reach the live subscriber");
      live.stop();
      expect(live.events.map((e) => e.kind)).toEqual(Array(150).fill("blocked"));
    } finally {
      stalledReq.destroy();
      board.close();
    }
  }, 30_000);
});

describe("kanban serve: with a token", () => {
  let h: Harness;
  afterEach(async () => {
    await h?.cleanup();
  });

  it("needs Authorization: Bearer (401 missing or wrong); a tenant token is confined to its tenant", async () => {
    h = await harness({ token: ADMIN });
    expect((await call(h.url, "GET", "stats.get")).status).toBe(401);
    expect((await call(h.url, "GET", "stats.get", undefined, { authorization: "Bearer wrong" })).status).toBe(401);
    expect((await call(h.url, "GET", "stats.get", undefined, { authorization: `Basic ${ADMIN}` })).status).toBe(401);
    const admin = createKanbanClient({ url: `${h.url}/trpc`, token: ADMIN });
    const acme = createKanbanClient({ url: `${h.url}/trpc`, token: ACME });
    const zeta = (await admin.tasks.create.mutate({ title: "zeta secret", tenant: "zeta" })).task;
    const mine = (await acme.tasks.create.mutate({ title: "mine", tenant: "zeta" })).task;
    expect(mine.tenant).toBe("acme");
    const read = await call(h.url, "GET", "tasks.get", { id: zeta.id }, { authorization: `Bearer ${ACME}` });
    expect(read.status).toBe(404);
    const write = await call(
      h.url,
      "POST",
      "tasks.patch",
      { id: zeta.id, title: "pwned" },
      { authorization: `Bearer ${ACME}` },
    );
    expect(write.status).toBe(404);
    expect((await admin.tasks.get.query({ id: zeta.id })).task.title).toBe("zeta secret");
    expect(
      (await call(h.url, "POST", "boards.create", { slug: "x" }, { authorization: `Bearer ${ACME}` })).status,
    ).toBe(403);
    const board = (await acme.board.get.query()).columns.flatMap((c) => c.tasks.map((x) => x.id));
    expect(board).toEqual([mine.id]);
  });

  it("accepts ?token= only on GET (what a browser EventSource can send), never on writes", async () => {
    h = await harness({ token: ADMIN });
    expect((await raw(h.url, { method: "GET", path: `/trpc/stats.get?token=${ADMIN}` })).status).toBe(200);
    expect((await raw(h.url, { method: "GET", path: "/trpc/stats.get?token=wrong" })).status).toBe(401);
    const post = await raw(h.url, {
      method: "POST",
      path: `/trpc/tasks.create?token=${ADMIN}`,
      headers: { "content-type": "application/json" },
      body: '{"title":"x"}',
    });
    expect(post.status).toBe(401);
  });

  it("streams to a tenant token over SSE with the header, only its tenant's events", async () => {
    h = await harness({ token: ADMIN });
    const admin = createKanbanClient({ url: `${h.url}/trpc`, token: ADMIN });
    const acme = createKanbanClient({ url: `${h.url}/trpc`, token: ACME });
    const start = (await admin.board.get.query()).latest_event_id;
    const sub = subscribe(acme, { after: start });
    await waitFor(sub.started, 5000, "subscription");
    await admin.tasks.create.mutate({ title: "other tenant", tenant: "zeta" });
    const mine = (await acme.tasks.create.mutate({ title: "mine" })).task;
    await waitFor(() => sub.events.length >= 1, 10_000, "the tenant's event");
    await admin.tasks.create.mutate({ title: "after", tenant: "zeta" });
    await acme.comments.add.mutate({ task_id: mine.id, body: "x" });
    await waitFor(() => sub.events.length >= 2, 10_000, "the tenant's second event");
    sub.stop();
    expect(sub.events.map((e) => [e.task_id, e.kind])).toEqual([
      [mine.id, "created"],
      [mine.id, "commented"],
    ]);
  });

  it("never writes a token to the log", async () => {
    h = await harness({ token: ADMIN });
    await call(h.url, "GET", "stats.get", undefined, { authorization: `Bearer ${ADMIN}` });
    await raw(h.url, { method: "GET", path: `/trpc/stats.get?token=${ADMIN}` });
    await raw(h.url, { method: "GET", path: `/trpc/stats.get?token=${ACME}` });
    await call(h.url, "GET", "stats.get", undefined, { authorization: "Bearer not-a-real-one" });
    const log = JSON.stringify(h.logger.lines);
    expect(h.logger.lines.filter((l) => l.message === "request")).toHaveLength(4);
    expect(log).not.toContain(ADMIN);
    expect(log).not.toContain(ACME);
    expect(log).not.toContain("not-a-real-one");
  });
});

describe("kanban serve: limits and binding", () => {
  it("refuses to listen beyond loopback without a token, and listens with one", async () => {
    const { dir, cleanup } = makeTempDir("kanban-serve-");
    try {
      await expect(
        startServer({ host: "0.0.0.0", port: 0, location: { home: dir }, logger: captureLogger() }),
      ).rejects.toThrow("refusing to listen on 0.0.0.0 without a token");
      const s = await startServer({
        host: "0.0.0.0",
        port: 0,
        token: ADMIN,
        location: { home: dir },
        logger: captureLogger(),
      });
      const res = await fetch(`http://127.0.0.1:${s.port}/trpc/stats.get`, {
        headers: { authorization: `Bearer ${ADMIN}` },
      });
      expect(res.status).toBe(200);
      await s.close();
    } finally {
      cleanup();
    }
  });

  it("caps the body (413), times out a body that never arrives (408), and keeps serving", async () => {
    const h = await harness({ bodyLimitBytes: 10_000, requestTimeoutMs: 300 });
    try {
      const big = await call(h.url, "POST", "tasks.create", { title: "t", body: "x".repeat(20_000) });
      expect(big.status).toBe(413);
      expect(big.body.error?.data).toMatchObject({ code: "PAYLOAD_TOO_LARGE" });
      // A chunked body (no Content-Length) over the cap is cut by tRPC's own limit: 413 as well.
      const chunked = await raw(h.url, {
        method: "POST",
        path: "/trpc/tasks.create",
        headers: { "content-type": "application/json", "transfer-encoding": "chunked" },
        body: JSON.stringify({ title: "t", body: "y".repeat(20_000) }),
      });
      expect(chunked.status).toBe(413);
      const u = new URL(h.url);
      const status = await new Promise<string>((resolve, reject) => {
        const sock = net.connect(Number(u.port), u.hostname, () => {
          sock.write(
            `POST /trpc/tasks.create HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"title":`,
          );
        });
        let got = "";
        sock.on("data", (c) => {
          got += c.toString();
        });
        sock.on("close", () => resolve(got.split("\r\n")[0] ?? ""));
        sock.on("error", reject);
      });
      expect(status).toBe("HTTP/1.1 408 Request Timeout");
      expect((await call(h.url, "GET", "stats.get")).status).toBe(200);
    } finally {
      await h.cleanup();
    }
  });
});
