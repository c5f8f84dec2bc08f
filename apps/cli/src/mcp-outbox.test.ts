import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { KanbanClient } from "./client.ts";
import { QUEUED_LINE } from "./outbox-call.ts";
import { apiClient, KANBAN_BIN, startBinary, type TempHome, tempHome } from "./testing/harness.ts";

/**
 * `kanban_complete` / `kanban_block` of an MCP-driven worker on a remote host (KANBAN_OUTBOX,
 * KANBAN_URL, its own task and run): the SDK's client against a real `kanban mcp` process. The
 * call is kept on disk before it is sent; a server that does not answer gets `queued`, not an
 * error; a real `kanban serve` that answers leaves the answer in delivered/.
 */
let dir: string;
const mcps: Client[] = [];
let stub: http.Server | null = null;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "kanban-mcp-outbox-"));
});
afterEach(async () => {
  for (const c of mcps.splice(0)) await c.close();
  const s = stub;
  stub = null;
  if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function worker(env: Record<string, string>): Promise<Client> {
  const client = new Client({ name: "kanban-outbox-test", version: "1.0.0" });
  await client.connect(
    new StdioClientTransport({
      command: process.execPath,
      args: [KANBAN_BIN, "mcp"],
      env: { PATH: process.env.PATH ?? "", HOME: dir, KANBAN_HOME: path.join(dir, "worker-home"), ...env },
      stderr: "pipe",
    }),
  );
  mcps.push(client);
  return client;
}

async function call(client: Client, name: string, args: Record<string, unknown>) {
  const res = await client.callTool({ name, arguments: args });
  const content = res.content as { type: string; text: string }[];
  return { isError: res.isError === true, body: JSON.parse(content[0]?.text ?? "null") as Record<string, unknown> };
}

function pending(outbox: string): string[] {
  return fs.existsSync(outbox) ? fs.readdirSync(outbox).filter((n) => n.endsWith(".json")) : [];
}

function readJson(file: string): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>;
}

/** A port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

describe("MCP terminal tools of a remote host's worker, server not answering", { timeout: 60_000 }, () => {
  it("a closed port: the entry stays on disk and the tools answer queued, not an error", async () => {
    const outbox = path.join(dir, "outbox-closed");
    const url = `http://127.0.0.1:${await closedPort()}`;
    const mcp = await worker({
      KANBAN_URL: url,
      KANBAN_TOKEN: "kbr1.the-run-token",
      KANBAN_TASK: "t_1",
      KANBAN_RUN_ID: "7",
      KANBAN_OUTBOX: outbox,
    });
    const done = await call(mcp, "kanban_complete", { summary: "all good", metadata: { tests_run: 3 } });
    expect(done.isError, JSON.stringify(done.body)).toBe(false);
    expect(done.body).toMatchObject({ ok: true, queued: true, task_id: "t_1", run_id: 7 });
    expect(String(done.body.message)).toMatch(new RegExp(`^${QUEUED_LINE}\\.`));
    const blocked = await call(mcp, "kanban_block", { reason: "need the API key" });
    expect(blocked.isError, JSON.stringify(blocked.body)).toBe(false);
    expect(blocked.body).toMatchObject({ ok: true, queued: true, task_id: "t_1", run_id: 7 });

    expect(pending(outbox).sort()).toEqual(["7-block.json", "7-complete.json"]);
    const entry = readJson(path.join(outbox, "7-complete.json"));
    expect(entry).toMatchObject({
      v: 1,
      verb: "complete",
      url: `${url}/trpc`,
      task_id: "t_1",
      run_id: 7,
      input: { id: "t_1", summary: "all good", metadata: { tests_run: 3 }, expected_run_id: 7 },
    });
    expect(readJson(path.join(outbox, "7-block.json")).input).toMatchObject({
      id: "t_1",
      reason: "need the API key",
      expected_run_id: 7,
    });
    expect(fs.statSync(path.join(outbox, "7-complete.json")).mode & 0o777).toBe(0o600);
    expect(fs.existsSync(path.join(outbox, "delivered"))).toBe(false);
    // Nothing the agent reads carries the run token.
    expect(JSON.stringify([done.body, blocked.body])).not.toContain("the-run-token");
  });

  it("a server answering 503: the entry was on disk before the call arrived, and stays pending", async () => {
    const outbox = path.join(dir, "outbox-503");
    const seen: { path: string; onDisk: string[] }[] = [];
    stub = http.createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        seen.push({ path: req.url ?? "", onDisk: pending(outbox) });
        res.writeHead(503, { "content-type": "text/plain" }).end("down for maintenance");
      });
    });
    const s = stub;
    await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
    const mcp = await worker({
      KANBAN_URL: `http://127.0.0.1:${(s.address() as AddressInfo).port}`,
      KANBAN_TOKEN: "kbr1.the-run-token",
      KANBAN_TASK: "t_2",
      KANBAN_RUN_ID: "9",
      KANBAN_OUTBOX: outbox,
    });
    const done = await call(mcp, "kanban_complete", { summary: "finished" });
    expect(done.body).toMatchObject({ ok: true, queued: true, task_id: "t_2", run_id: 9 });
    expect(seen).toEqual([{ path: "/trpc/tasks.complete", onDisk: ["9-complete.json"] }]);
    expect(pending(outbox)).toEqual(["9-complete.json"]);
  });

  it("an outbox that cannot be written: a tool error saying so, and nothing sent", async () => {
    const seen: string[] = [];
    stub = http.createServer((req, res) => {
      seen.push(req.url ?? "");
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ result: { data: {} } }));
    });
    const s = stub;
    await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
    const notADir = path.join(dir, "a-file");
    fs.writeFileSync(notADir, "");
    const mcp = await worker({
      KANBAN_URL: `http://127.0.0.1:${(s.address() as AddressInfo).port}`,
      KANBAN_TOKEN: "kbr1.the-run-token",
      KANBAN_TASK: "t_3",
      KANBAN_RUN_ID: "11",
      KANBAN_OUTBOX: path.join(notADir, "outbox"),
    });
    const done = await call(mcp, "kanban_complete", { summary: "finished" });
    expect(done.isError).toBe(true);
    expect(String(done.body.error)).toMatch(
      /^cannot keep the complete of t_3 in the outbox \(.*\): .*; nothing was sent$/,
    );
    expect(String(done.body.error)).not.toContain("the-run-token");
    expect(seen).toEqual([]);
  });
});

describe("MCP terminal tools of a remote host's worker, against a real `kanban serve`", { timeout: 60_000 }, () => {
  let server: TempHome;
  let serve: ReturnType<typeof startBinary>;
  let url: string;
  let api: KanbanClient;

  beforeAll(async () => {
    server = tempHome();
    serve = startBinary(["serve", "--port", "0"], { ...server.env, KANBAN_TOKEN: "tok" });
    const m = await serve.waitFor(/Serving the kanban API at (http:\/\/127\.0\.0\.1:\d+)\/trpc/);
    url = m[1] ?? "";
    api = await apiClient({ ...server.env, KANBAN_URL: url, KANBAN_TOKEN: "tok" });
  });
  afterAll(() => {
    serve.kill();
    server.cleanup();
  });

  async function claimedWorker(outbox: string) {
    const { task } = await api.tasks.create.mutate({ title: "remote job", assignee: "coder" });
    const claimed = await api.tasks.claim.mutate({ id: task.id });
    const mcp = await worker({
      KANBAN_URL: url,
      KANBAN_TOKEN: "tok",
      KANBAN_TASK: task.id,
      KANBAN_RUN_ID: String(claimed.run_id),
      KANBAN_CLAIM_LOCK: claimed.task.claim_lock ?? "",
      KANBAN_OUTBOX: outbox,
    });
    return { id: task.id, runId: claimed.run_id, mcp };
  }

  it("kanban_complete is delivered: the task is done and delivered/ holds the answer; a re-send is a replay", async () => {
    const outbox = path.join(dir, "outbox-served");
    const { id, runId, mcp } = await claimedWorker(outbox);
    const done = await call(mcp, "kanban_complete", { summary: "shipped" });
    expect(done).toEqual({ isError: false, body: { ok: true, task_id: id, run_id: runId } });
    expect((await api.tasks.get.query({ id })).task.status).toBe("done");
    expect(pending(outbox)).toEqual([]);
    const file = path.join(outbox, "delivered", `${runId}-complete.json`);
    expect(readJson(file)).toMatchObject({ verb: "complete", task_id: id, run_id: runId, answer: { ok: true } });

    const again = await call(mcp, "kanban_complete", { summary: "shipped" });
    expect(again).toEqual({ isError: false, body: { ok: true, task_id: id, run_id: runId } });
    expect(readJson(file).answer).toEqual({ ok: true, replayed: true });
    const completed = (await api.tasks.get.query({ id })).events.filter((e) => e.kind === "completed");
    expect(completed).toHaveLength(1);
  });

  it("kanban_complete of a gated card: the agent is told it waits at a gate, and delivered/ keeps the stage", async () => {
    const outbox = path.join(dir, "outbox-gated");
    const { id, runId, mcp } = await claimedWorker(outbox);
    await api.gates.set.mutate({ scope: "card", key: id, spec: { approval: true } });
    const held = await call(mcp, "kanban_complete", { summary: "shipped" });
    expect(held.isError).toBe(false);
    expect(held.body).toMatchObject({ ok: true, task_id: id, run_id: runId, status: "review", gated: "approval" });
    expect(String(held.body.message)).toMatch(/not done yet: it waits in review at its approval gate.*stop here/);
    expect((await api.tasks.get.query({ id })).task.status).toBe("review");
    expect(readJson(path.join(outbox, "delivered", `${runId}-complete.json`)).answer).toEqual({
      ok: true,
      gated: "approval",
    });
  });

  it("kanban_block of a reclaimed run: the refusal is delivered and the agent told to stop", async () => {
    const outbox = path.join(dir, "outbox-stale");
    const { id, runId, mcp } = await claimedWorker(outbox);
    await api.tasks.reclaim.mutate({ id, reason: "test" });
    const blocked = await call(mcp, "kanban_block", { reason: "need input" });
    expect(blocked.isError).toBe(true);
    expect(String(blocked.body.error)).toMatch(/^kanban_block refused: .*Your attempt on .* is over/);
    expect(pending(outbox)).toEqual([]);
    expect(readJson(path.join(outbox, "delivered", `${runId}-block.json`)).answer).toMatchObject({
      ok: false,
      code: "STALE_RUN",
    });
    expect((await api.tasks.get.query({ id })).task.status).toBe("ready");
  });
});
