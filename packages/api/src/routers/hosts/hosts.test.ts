import fs from "node:fs";
import path from "node:path";
import type { DatabaseTarget } from "@kanban/db";
import { makeTempDir } from "@kanban/db/testing";
import { TestClock } from "@kanban/kernel/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createKanbanClient, type KanbanClient } from "../../client.ts";
import { type RunningServer, startServer } from "../../server.ts";
import { testPgUrl, testStoreIsPostgres } from "../../test/pg-store.ts";
import { captureLogger, waitFor } from "../../testing.ts";

/**
 * Remote hosts against a real `kanban serve` on 127.0.0.1 (both engines): what a host token may do
 * and what it may not, the run token `hosts.claim` mints, fenced terminal calls of a run that
 * ended (replayed or recorded as a late report), the sweep that gives back a silent host's claims,
 * cancel, and that no token ever reaches the log.
 */
const ADMIN = "admin-token-0123456789abcdef";
const TENANT = "tenant-acme-token-0123456789";
const HOST_ANY = "host-any-token-0123456789abcd";
const HOST_ACME = "host-acme-token-0123456789abc";
const LEASE = 6;
const H1 = "kh-00000000000000a1";
const H2 = "kh-00000000000000b2";

let home: ReturnType<typeof makeTempDir>;
let server: RunningServer;
let logger: ReturnType<typeof captureLogger>;
let clock: TestClock;
const minted: string[] = [];

function client(token: string): KanbanClient {
  return createKanbanClient({ url: `${server.url}/trpc`, token });
}

beforeEach(async () => {
  home = makeTempDir("kanban-hosts-");
  fs.writeFileSync(
    path.join(home.dir, "config.json"),
    JSON.stringify({
      kanban: { host_lease_seconds: LEASE },
      tenant_tokens: { [TENANT]: "acme" },
      host_tokens: { [HOST_ANY]: { name: "mac-1" }, [HOST_ACME]: { tenant: "acme" } },
    }),
  );
  logger = captureLogger();
  clock = new TestClock();
  const database: DatabaseTarget = testStoreIsPostgres()
    ? { engine: "postgres", url: testPgUrl(), source: "KANBAN_DATABASE_URL" }
    : { engine: "sqlite" };
  server = await startServer({
    port: 0,
    location: { home: home.dir },
    logger,
    token: ADMIN,
    clock,
    database,
    remoteSweepMs: 25,
    terminate: () => {},
  });
});

afterEach(async () => {
  await server.close();
  // No token of any kind, nor a run token the server minted, is ever written to the log.
  const log = JSON.stringify(logger.lines);
  for (const token of [ADMIN, TENANT, HOST_ANY, HOST_ACME, ...minted.splice(0)]) expect(log).not.toContain(token);
  home.cleanup();
});

async function refusal(
  p: Promise<unknown>,
): Promise<{ httpStatus: number; kanbanCode: string | null; message: string }> {
  try {
    await p;
  } catch (err) {
    const e = err as { message: string; data?: { httpStatus: number; kanbanCode: string | null } };
    return { httpStatus: e.data?.httpStatus ?? 0, kanbanCode: e.data?.kanbanCode ?? null, message: e.message };
  }
  throw new Error("expected a refusal");
}

async function hello(host: KanbanClient, id: string, labels: string[] = [], runs: number[] = []) {
  return await host.hosts.hello.mutate({ host_id: id, name: "box", labels, version: "0.1.0", capacity: 4, runs });
}

/** One claim by `host`, its run token remembered so the log check looks for it. */
async function claimOne(host: KanbanClient, id: string) {
  const { claims } = await host.hosts.claim.mutate({ host_id: id, max: 1, profiles: null, pid: 4242 });
  for (const c of claims) minted.push(c.run_token);
  return claims;
}

async function events(admin: KanbanClient, id: string, kind: string) {
  return (await admin.tasks.get.query({ id })).events.filter((e) => e.kind === kind);
}

describe("a host token", () => {
  it("reaches hosts.* and nothing else; admin, tenant and run tokens are refused hosts.*", async () => {
    const admin = client(ADMIN);
    const host = client(HOST_ANY);
    const { task } = await admin.tasks.create.mutate({ title: "work", assignee: "coder" });
    const hi = await hello(host, H1, ["macos"]);
    expect(hi).toMatchObject({ host_id: H1, lease_seconds: LEASE, heartbeat_seconds: 2, revoked: [] });
    // Each call is awaited through refusal() at once: the client batches them into one request.
    const refused = await Promise.all(
      [
        host.tasks.list.query({}),
        host.tasks.get.query({ id: task.id }),
        host.tasks.complete.mutate({ id: task.id, summary: "not mine" }),
        host.tasks.create.mutate({ title: "sneaky" }),
        host.tasks.cancel.mutate({ id: task.id }),
        host.hosts.list.query({}),
        host.boards.list.query({}),
        host.events.list.query({}),
      ].map(refusal),
    );
    for (const r of refused) expect(r).toMatchObject({ httpStatus: 403 });
    expect((await admin.tasks.get.query({ id: task.id })).task.status).toBe("ready");
    const tenant = client(TENANT);
    for (const c of [admin, tenant]) {
      expect(await refusal(c.hosts.claim.mutate({ host_id: H1, max: 1, profiles: null }))).toMatchObject({
        httpStatus: 403,
      });
      expect(await refusal(hello(c, H1))).toMatchObject({ httpStatus: 403 });
      expect(await refusal(c.hosts.heartbeat.mutate({ host_id: H1, running: 0, runs: [] }))).toMatchObject({
        httpStatus: 403,
      });
    }
    const [claim] = await claimOne(host, H1);
    expect(claim?.task.id).toBe(task.id);
    const worker = client(claim?.run_token ?? "");
    expect(await refusal(worker.hosts.claim.mutate({ host_id: H1, max: 1, profiles: null }))).toMatchObject({
      httpStatus: 403,
    });
    expect(await refusal(worker.hosts.heartbeat.mutate({ host_id: H1, running: 1, runs: [] }))).toMatchObject({
      httpStatus: 403,
    });
  });

  it("claims by labels and tenant: a tenant-bound host only its tenant's tasks, a task requiring labels only a host having them", async () => {
    const admin = client(ADMIN);
    const acme = (await admin.tasks.create.mutate({ title: "acme job", assignee: "coder", tenant: "acme" })).task;
    const globex = (await admin.tasks.create.mutate({ title: "globex job", assignee: "coder", tenant: "globex" })).task;
    const mac = (await admin.tasks.create.mutate({ title: "xcode job", assignee: "coder", requires: ["MacOS "] })).task;
    expect(mac.requires).toEqual(["macos"]);
    const acmeHost = client(HOST_ACME);
    await hello(acmeHost, H2, []);
    const acmeClaims = await acmeHost.hosts.claim.mutate({ host_id: H2, max: 16, profiles: null });
    for (const c of acmeClaims.claims) minted.push(c.run_token);
    expect(acmeClaims.claims.map((c) => c.task.id)).toEqual([acme.id]);
    expect(acmeClaims.claims[0]?.task.claim_lock).toMatch(new RegExp(`^${H2}:`));

    const plain = client(HOST_ANY);
    await hello(plain, H1, []);
    // A host without the label never takes the card that requires it, whatever else is ready.
    const first = await plain.hosts.claim.mutate({ host_id: H1, max: 16, profiles: null });
    for (const c of first.claims) minted.push(c.run_token);
    expect(first.claims.map((c) => c.task.id)).toEqual([globex.id]);
    // The labels are those of its hello, never of the claim's input.
    await hello(plain, H1, ["macos", "xcode"]);
    const second = await plain.hosts.claim.mutate({ host_id: H1, max: 16, profiles: ["writer"] });
    expect(second.claims).toEqual([]);
    const third = await claimOne(plain, H1);
    expect(third.map((c) => c.task.id)).toEqual([mac.id]);
    expect(third[0]).toMatchObject({ board: "default", lease_seconds: LEASE, run_id: expect.any(Number) });
    expect(third[0]?.board_key).toMatch(/^[0-9a-f]{16}$/);
    // A tenant-bound token cannot act as another tenant's (or an untenanted) host by naming its id.
    expect(await refusal(acmeHost.hosts.heartbeat.mutate({ host_id: H1, running: 0, runs: [] }))).toMatchObject({
      httpStatus: 404,
    });
  });
});

describe("the run token hosts.claim mints", () => {
  it("acts on its own task only; a re-sent complete gets the same answer and writes no second event", async () => {
    const admin = client(ADMIN);
    const host = client(HOST_ANY);
    const { task } = await admin.tasks.create.mutate({ title: "work", assignee: "coder" });
    const other = (await admin.tasks.create.mutate({ title: "other", assignee: "nobody-runs-this" })).task;
    await hello(host, H1);
    const [claim] = await claimOne(host, H1);
    if (!claim) throw new Error("no claim");
    const worker = client(claim.run_token);
    const b = { board: claim.board };
    expect((await worker.tasks.get.query({ ...b, id: task.id })).task.status).toBe("running");
    expect(await refusal(worker.tasks.get.query({ ...b, id: other.id }))).toMatchObject({ httpStatus: 403 });
    expect(await refusal(worker.tasks.list.query(b))).toMatchObject({ httpStatus: 403 });
    expect(
      await refusal(worker.tasks.complete.mutate({ ...b, id: other.id, expected_run_id: claim.run_id, summary: "x" })),
    ).toMatchObject({ httpStatus: 403 });
    // An id that does not exist is refused alike: the answer says nothing about which tasks exist.
    expect(
      await refusal(worker.tasks.complete.mutate({ ...b, id: "t_00000000", expected_run_id: claim.run_id })),
    ).toMatchObject({ httpStatus: 403 });
    await worker.tasks.heartbeat.mutate({ ...b, id: task.id, expected_run_id: claim.run_id });

    const input = { ...b, id: task.id, expected_run_id: claim.run_id, summary: "built it" };
    const first = await worker.tasks.complete.mutate(input);
    expect(first.task.status).toBe("done");
    // The outbox re-sends when it did not hear the answer: the same call is answered the same way.
    const again = await worker.tasks.complete.mutate(input);
    expect(again.task.status).toBe("done");
    expect(again.task.id).toBe(first.task.id);
    expect(again).toMatchObject({ replayed: true });
    expect(await events(admin, task.id, "completed")).toHaveLength(1);
    expect(await events(admin, task.id, "late_report")).toHaveLength(0);
    // Anything but the terminal verbs still stops at the ended run.
    expect(
      await refusal(worker.tasks.heartbeat.mutate({ ...b, id: task.id, expected_run_id: claim.run_id })),
    ).toMatchObject({ httpStatus: 409, kanbanCode: "STALE_RUN" });
  });

  it("a re-sent block of a run that ended blocked gets the same answer; a complete after it is a late report", async () => {
    const admin = client(ADMIN);
    const host = client(HOST_ANY);
    const { task } = await admin.tasks.create.mutate({ title: "needs a human", assignee: "coder" });
    await hello(host, H1);
    const [claim] = await claimOne(host, H1);
    if (!claim) throw new Error("no claim");
    const worker = client(claim.run_token);
    const input = { board: claim.board, id: task.id, expected_run_id: claim.run_id, reason: "which API key?" };
    expect((await worker.tasks.block.mutate(input)).task.status).toBe("blocked");
    const again = await worker.tasks.block.mutate(input);
    expect(again).toMatchObject({ replayed: true, task: { id: task.id, status: "blocked" } });
    expect(await events(admin, task.id, "blocked")).toHaveLength(1);
    const late = await refusal(
      worker.tasks.complete.mutate({ board: claim.board, id: task.id, expected_run_id: claim.run_id, summary: "x" }),
    );
    expect(late).toMatchObject({ httpStatus: 409, kanbanCode: "STALE_RUN" });
    expect((await events(admin, task.id, "late_report"))[0]?.payload).toMatchObject({
      run_id: claim.run_id,
      verb: "complete",
    });
  });

  it("a complete for a run that was reclaimed meanwhile is refused (409) and recorded once as a late report", async () => {
    const admin = client(ADMIN);
    const host = client(HOST_ANY);
    const { task } = await admin.tasks.create.mutate({ title: "work", assignee: "coder" });
    await hello(host, H1);
    const [claim] = await claimOne(host, H1);
    if (!claim) throw new Error("no claim");
    await admin.tasks.reclaim.mutate({ id: task.id, reason: "operator" });
    const worker = client(claim.run_token);
    const input = { board: claim.board, id: task.id, expected_run_id: claim.run_id, summary: "too late" };
    for (let i = 0; i < 2; i++) {
      expect(await refusal(worker.tasks.complete.mutate(input))).toMatchObject({
        httpStatus: 409,
        kanbanCode: "STALE_RUN",
      });
    }
    const late = await events(admin, task.id, "late_report");
    expect(late).toHaveLength(1);
    expect(late[0]?.payload).toMatchObject({ run_id: claim.run_id, verb: "complete", summary: "too late" });
    expect((await admin.tasks.get.query({ id: task.id })).task.status).toBe("ready");
  });
});

describe("kanban serve's remote sweep", () => {
  it("gives back a silent host's claims after the lease; the host hears they are revoked; hosts.list shows it disconnected", async () => {
    const admin = client(ADMIN);
    const host = client(HOST_ANY);
    const { task } = await admin.tasks.create.mutate({ title: "work", assignee: "coder" });
    await hello(host, H1, ["linux"]);
    const [claim] = await claimOne(host, H1);
    if (!claim) throw new Error("no claim");
    await host.hosts.spawned.mutate({ host_id: H1, run_id: claim.run_id, pid: 31337 });
    // Heartbeats renew the lease: well past the first lease, the claim is still the host's.
    for (let i = 0; i < 3; i++) {
      clock.advance(LEASE - 1);
      expect((await host.hosts.heartbeat.mutate({ host_id: H1, running: 1, runs: [claim.run_id] })).revoked).toEqual(
        [],
      );
    }
    expect((await admin.tasks.get.query({ id: task.id })).task.status).toBe("running");
    expect((await admin.hosts.list.query({})).hosts).toMatchObject([
      { id: H1, name: "mac-1", labels: ["linux"], connected: true, running: 1, capacity: 4, version: "0.1.0" },
    ]);
    // Then the host goes silent.
    clock.advance(LEASE + 1);
    await waitFor(() => logger.lines.some((l) => l.message === "claims of silent hosts given back"), 10_000, "sweep");
    const after = await admin.tasks.get.query({ id: task.id });
    expect(after.task.status).toBe("ready");
    expect(after.runs.find((r) => r.id === claim.run_id)?.outcome).toBe("reclaimed");
    expect((await admin.hosts.list.query({})).hosts[0]).toMatchObject({ id: H1, connected: false });
    const back = await hello(host, H1, ["linux"], [claim.run_id]);
    expect(back.revoked).toEqual([{ run_id: claim.run_id, task_id: task.id }]);
    expect((await admin.hosts.list.query({})).hosts[0]).toMatchObject({ id: H1, connected: true });
    // The host stopped the revoked run's tree and says so: recorded on the task.
    await host.hosts.stopped.mutate({
      host_id: H1,
      run_id: claim.run_id,
      pids: [31337, 31338],
      killed: 1,
      sigkill: true,
    });
    const reaped = await events(admin, task.id, "terminal_worker_reaped");
    expect(reaped.at(-1)?.payload).toMatchObject({ run_id: claim.run_id, count: 2, sigkill: true });
    // A late exit report of a run that is over changes nothing.
    expect(
      await host.hosts.exited.mutate({
        host_id: H1,
        run_id: claim.run_id,
        exit_code: 1,
        signal: null,
        output_tail: "x",
      }),
    ).toEqual({ recorded: "ignored" });
  });

  it("a tenant sees its own hosts and those serving everyone; an exit of a live run is the crash path", async () => {
    const admin = client(ADMIN);
    await hello(client(HOST_ANY), H1);
    await hello(client(HOST_ACME), H2);
    expect((await client(TENANT).hosts.list.query({})).hosts.map((h) => h.id).sort()).toEqual([H1, H2]);
    expect((await admin.hosts.list.query({})).hosts.find((h) => h.id === H2)?.tenant).toBe("acme");
    const { task } = await admin.tasks.create.mutate({ title: "crashy", assignee: "coder" });
    const host = client(HOST_ANY);
    const [claim] = await claimOne(host, H1);
    if (!claim) throw new Error("no claim");
    // Another host's run is not this one's to report on.
    expect(
      await refusal(
        client(HOST_ACME).hosts.exited.mutate({ host_id: H2, run_id: claim.run_id, exit_code: 1, signal: null }),
      ),
    ).toMatchObject({ httpStatus: 404 });
    expect(
      await host.hosts.exited.mutate({
        host_id: H1,
        run_id: claim.run_id,
        exit_code: 137,
        signal: "SIGKILL",
        output_tail: "out of memory",
      }),
    ).toEqual({ recorded: "crashed" });
    const after = await admin.tasks.get.query({ id: task.id });
    expect(after.task.status).not.toBe("running");
    expect(after.runs.find((r) => r.id === claim.run_id)?.outcome).toBe("crashed");
  });
});

describe("tasks.cancel", () => {
  it("blocks a running remote task with its reason, and its host hears the run is revoked", async () => {
    const admin = client(ADMIN);
    const host = client(HOST_ANY);
    const { task } = await admin.tasks.create.mutate({ title: "hangs", assignee: "coder" });
    await hello(host, H1);
    const [claim] = await claimOne(host, H1);
    if (!claim) throw new Error("no claim");
    const r = await admin.tasks.cancel.mutate({ id: task.id, reason: "hung on a dialog" });
    expect(r.task.status).toBe("blocked");
    const d = await admin.tasks.get.query({ id: task.id });
    expect(JSON.stringify(d.events)).toContain("cancelled: hung on a dialog");
    expect(d.runs.find((x) => x.id === claim.run_id)?.outcome).toBe("reclaimed");
    const beat = await host.hosts.heartbeat.mutate({ host_id: H1, running: 1, runs: [claim.run_id] });
    expect(beat.revoked).toEqual([{ run_id: claim.run_id, task_id: task.id }]);
    // A tenant cancels only its own tasks; another's is unknown to it.
    expect(await refusal(client(TENANT).tasks.cancel.mutate({ id: task.id, reason: "x" }))).toMatchObject({
      httpStatus: 404,
    });
  });
});
