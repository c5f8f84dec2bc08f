import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { bundledScript } from "@kanban/db/testing-scripts";
import { describe, expect, it } from "vitest";
import { claimerLaunch } from "../test/claimer-board.ts";
import { boardInternals, rawSql, type TestBoard } from "./testing/index.ts";
import { refuseInserts } from "./testing/internals.ts";
import { openTestBoardAgain, testBoardAddress } from "./testing/test-board.ts";
import { kernelError, useTestBoards } from "./testing/helpers.ts";

// Spec §2.5 (claim_task, heartbeat_claim, heartbeat_worker), §1.3 task_runs invariant, §1.7 `claimed`,
// `claim_rejected`, `heartbeat`; Hermes tests: test_kanban_db.py (claim/heartbeat/concurrency),
// test_kanban_core_functionality.py (runs on claim, invariant leak, stale attempts).

const board = useTestBoards();
const setStatus = async (b: TestBoard, id: string, status: string) =>
  await rawSql(b).run("UPDATE tasks SET status = ? WHERE id = ?", status, id);
const kinds = async (b: TestBoard, id: string) => (await b.listEvents(id)).map((e) => e.kind);
const runId = (t: { current_run_id: number | null } | null): number => {
  if (!t || t.current_run_id === null) throw new Error("expected a claimed task with a run");
  return t.current_run_id;
};

describe("claim", () => {
  it("claim: a ready task goes running, locked by <host>:<pid> under the default 900 s lease", async () => {
    const b = board();
    const t = await b.createTask({ title: "x", assignee: "alice" });
    b.clock.advance(5);
    const now = b.clock.seconds;
    const claimed = await b.claimTask(t.id);
    expect(claimed).toMatchObject({
      id: t.id,
      status: "running",
      claim_lock: "testhost:4242",
      claim_expires: now + 900,
      started_at: now,
    });
    const stored = await b.getTask(t.id);
    expect(stored).toMatchObject({
      status: "running",
      claim_lock: "testhost:4242",
      claim_expires: now + 900,
      started_at: now,
    });
    expect(stored?.current_run_id).toBe(claimed?.current_run_id);
  });

  it("claim: opens a run row mirroring the claim and points current_run_id at it", async () => {
    const b = board();
    const t = await b.createTask({
      title: "x",
      assignee: "alice",
      max_runtime_seconds: 600,
      current_step_key: "draft",
    });
    const claimed = await b.claimTask(t.id);
    const now = b.clock.seconds;
    expect(await b.listRuns(t.id)).toEqual([
      {
        id: runId(claimed),
        task_id: t.id,
        profile: "alice",
        step_key: "draft",
        status: "running",
        claim_lock: "testhost:4242",
        claim_expires: now + 900,
        worker_pid: null,
        max_runtime_seconds: 600,
        last_heartbeat_at: null,
        started_at: now,
        ended_at: null,
        outcome: null,
        summary: null,
        metadata: null,
        error: null,
      },
    ]);
    expect((await b.activeRun(t.id))?.id).toBe(runId(claimed));
  });

  it("claim: writes a claimed event {lock, expires, run_id} scoped to the run", async () => {
    const b = board();
    const t = await b.createTask({ title: "x" });
    const claimed = await b.claimTask(t.id);
    const ev = (await b.listEvents(t.id)).at(-1);
    expect(ev).toEqual({
      id: expect.any(Number),
      task_id: t.id,
      run_id: runId(claimed),
      kind: "claimed",
      payload: { lock: "testhost:4242", expires: b.clock.seconds + 900, run_id: runId(claimed) },
      created_at: b.clock.seconds,
    });
  });

  it("claim: an explicit ttl_seconds sets the lease, floored to at least 1 s", async () => {
    const b = board();
    const a = await b.createTask({ title: "a" });
    const c = await b.createTask({ title: "c" });
    expect((await b.claimTask(a.id, { ttl_seconds: 60 }))?.claim_expires).toBe(b.clock.seconds + 60);
    expect((await b.claimTask(c.id, { ttl_seconds: 0 }))?.claim_expires).toBe(b.clock.seconds + 1);
    expect((await b.listRuns(a.id))[0]?.claim_expires).toBe(b.clock.seconds + 60);
  });

  it("claim: refuses a ttl_seconds that is not a number", async () => {
    const b = board();
    const t = await b.createTask({ title: "x" });
    await expect(b.claimTask(t.id, { ttl_seconds: Number.NaN })).rejects.toThrow(
      kernelError("INVALID_INPUT", "ttl_seconds must be a number"),
    );
    expect((await b.getTask(t.id))?.status).toBe("ready");
  });

  it("claim: the board's configured claim TTL replaces the 900 s default", async () => {
    const b = board({ claimTtlSeconds: 120 });
    const t = await b.createTask({ title: "x" });
    expect((await b.claimTask(t.id))?.claim_expires).toBe(b.clock.seconds + 120);
  });

  it("claim: an explicit claimer becomes the lock on the task, the run and the event", async () => {
    const b = board();
    const t = await b.createTask({ title: "x" });
    await b.claimTask(t.id, { claimer: "worker-host:999" });
    expect((await b.getTask(t.id))?.claim_lock).toBe("worker-host:999");
    expect((await b.listRuns(t.id))[0]?.claim_lock).toBe("worker-host:999");
    expect((await b.listEvents(t.id)).at(-1)?.payload?.lock).toBe("worker-host:999");
  });

  it("claim: the second claim returns null and opens no second run (compare-and-swap)", async () => {
    const b = board();
    const t = await b.createTask({ title: "x" });
    const first = await b.claimTask(t.id);
    expect(first).not.toBeNull();
    expect(await b.claimTask(t.id, { claimer: "other:1" })).toBeNull();
    expect((await b.getTask(t.id))?.claim_lock).toBe("testhost:4242");
    expect(await b.listRuns(t.id)).toHaveLength(1);
    expect(await kinds(b, t.id)).toEqual(["created", "claimed"]);
  });

  it("claim: a claim already lost (running, claimed, done, unknown) returns null without taking the write lock", async () => {
    const b = board();
    const t = await b.createTask({ title: "x" });
    const done = await b.createTask({ title: "y" });
    await b.completeTask(done.id, { summary: "finished" });
    expect(await b.claimTask(t.id)).not.toBeNull();
    const ctx = boardInternals(b).ctx;
    const before = ctx.transactionsBegun;
    expect(await b.claimTask(t.id, { claimer: "other:1" })).toBeNull();
    expect(await b.claimTask(done.id)).toBeNull();
    expect(await b.claimTask("t_missing")).toBeNull();
    expect(ctx.transactionsBegun - before).toBe(0);
    // A ready task still goes through the lock, where the compare-and-swap decides.
    const ready = await b.createTask({ title: "z" });
    const beforeWin = ctx.transactionsBegun;
    expect(await b.claimTask(ready.id)).not.toBeNull();
    expect(ctx.transactionsBegun - beforeWin).toBe(1);
  });

  it("claim: two connections to one board file: only one claim wins", async () => {
    const b = board();
    const other = openTestBoardAgain(b, { clock: b.clock, hostname: "otherhost", pid: 7 });
    try {
      const t = await b.createTask({ title: "x" });
      const results = [await other.claimTask(t.id), await b.claimTask(t.id)];
      expect(results.map((r) => r?.claim_lock ?? null)).toEqual(["otherhost:7", null]);
      expect(await b.listRuns(t.id)).toHaveLength(1);
    } finally {
      await other.close();
    }
  });

  it("claim: exactly one of several processes claiming the same task at once wins", async () => {
    const b = board();
    const t = await b.createTask({ title: "contended" });
    const here = path.dirname(fileURLToPath(import.meta.url));
    // Each child opens the board (as this run made it: an SQLite file, or a PostgreSQL board), says
    // "ready", and claims only when the parent releases the gate, so all claims hit the database at
    // the same moment.
    const { arg, env } = claimerLaunch(testBoardAddress(b));
    const script = `
      import { openClaimerBoard } from ${JSON.stringify(path.join(here, "..", "test", "claimer-board.ts"))};
      const board = await openClaimerBoard(${JSON.stringify(arg)});
      process.stdout.write("ready\\n");
      process.stdin.once("data", async () => {
        const won = await board.claimTask(${JSON.stringify(t.id)}, { claimer: "proc:" + process.pid });
        board.close();
        process.stdout.write(JSON.stringify({ won: won !== null }) + "\\n");
        process.exit(0);
      });
    `;
    const n = 4;
    const bundle = await bundledScript({ code: script, resolveDir: here });
    const children = Array.from({ length: n }, () =>
      spawn(process.execPath, [bundle], {
        stdio: ["pipe", "pipe", "inherit"],
        env,
      }),
    );
    const outputs = children.map(
      (child) =>
        new Promise<{ lines: string[]; code: number | null }>((resolve) => {
          let buf = "";
          child.stdout.on("data", (d: Buffer) => {
            buf += d.toString();
          });
          child.on("exit", (code) => resolve({ lines: buf.trim().split("\n"), code }));
        }),
    );
    // Ready, or exited early (a crashed child then fails the exit-code assertion instead of hanging).
    const readies = children.map(
      (child) =>
        new Promise<void>((resolve) => {
          const onData = (d: Buffer) => {
            if (d.toString().includes("ready")) {
              child.stdout.off("data", onData);
              resolve();
            }
          };
          child.stdout.on("data", onData);
          child.on("exit", () => resolve());
        }),
    );
    await Promise.all(readies);
    for (const child of children) if (child.exitCode === null) child.stdin.write("go\n");
    const results = await Promise.all(outputs);
    expect(results.map((r) => r.code)).toEqual(Array(n).fill(0));
    const wins = results.map((r) => (JSON.parse(r.lines.at(-1) ?? "{}") as { won?: boolean }).won);
    expect(wins.filter((w) => w === true)).toHaveLength(1);
    expect(wins.filter((w) => w === false)).toHaveLength(n - 1);
    const stored = await b.getTask(t.id);
    expect(stored?.status).toBe("running");
    expect(stored?.claim_lock).toMatch(/^proc:\d+$/);
    expect(await b.listRuns(t.id)).toHaveLength(1);
    expect(await kinds(b, t.id)).toEqual(["created", "claimed"]);
  }, 60_000);

  it.each(["todo", "triage", "scheduled", "blocked", "review", "done", "archived"])(
    "claim: a %s task is never claimed",
    async (s) => {
      const b = board();
      const t = await b.createTask({ title: "x" });
      await setStatus(b, t.id, s);
      expect(await b.claimTask(t.id)).toBeNull();
      expect((await b.getTask(t.id))?.status).toBe(s);
      expect(await b.listRuns(t.id)).toEqual([]);
    },
  );

  it("claim: an unknown task returns null", async () => {
    expect(await board().claimTask("t_missing0")).toBeNull();
  });

  it("claim: a running task whose lease expired is not claimable until recovery releases it", async () => {
    const b = board();
    const t = await b.createTask({ title: "x" });
    await b.claimTask(t.id, { ttl_seconds: 10 });
    b.clock.advance(3600);
    expect(await b.claimTask(t.id, { claimer: "other:1" })).toBeNull();
    expect((await b.getTask(t.id))?.claim_lock).toBe("testhost:4242");
  });

  it("claim: parents are re-checked at claim time: an unfinished parent sends a ready child back to todo with claim_rejected", async () => {
    const b = board();
    const p = await b.createTask({ title: "parent" });
    const c = await b.createTask({ title: "child", parents: [p.id] });
    await setStatus(b, c.id, "ready"); // someone wrote ready behind the gate's back
    expect(await b.claimTask(c.id)).toBeNull();
    expect(await b.getTask(c.id)).toMatchObject({ status: "todo", claim_lock: null, current_run_id: null });
    expect((await b.listEvents(c.id)).at(-1)).toMatchObject({
      kind: "claim_rejected",
      payload: { reason: "parents_not_done" },
      run_id: null,
    });
    expect(await b.listRuns(c.id)).toEqual([]);
    expect(await b.claimTask(c.id)).toBeNull(); // now todo: no second rejection event
    expect(await kinds(b, c.id)).toEqual(["created", "claim_rejected"]);
  });

  it("claim: succeeds once the parents are done (complete -> recompute -> claim)", async () => {
    const b = board();
    const p = await b.createTask({ title: "parent" });
    const c = await b.createTask({ title: "child", parents: [p.id] });
    await b.completeTask(p.id);
    await b.recomputeReady();
    expect((await b.getTask(c.id))?.status).toBe("ready");
    expect((await b.claimTask(c.id))?.status).toBe("running");
  });

  it("claim: an archived parent does not hold the claim back", async () => {
    const b = board();
    const p = await b.createTask({ title: "parent" });
    const c = await b.createTask({ title: "child", parents: [p.id] });
    await setStatus(b, p.id, "archived");
    await setStatus(b, c.id, "ready");
    expect((await b.claimTask(c.id))?.status).toBe("running");
  });

  it("claim: a dangling open run on a ready task is closed as reclaimed before the new run opens", async () => {
    const b = board();
    const t = await b.createTask({ title: "x", assignee: "alice" });
    const first = runId(await b.claimTask(t.id));
    // Engineer the leak: the task went back to ready without its run being closed.
    await rawSql(b).run(
      "UPDATE tasks SET status = 'ready', claim_lock = NULL, claim_expires = NULL WHERE id = ?",
      t.id,
    );
    b.clock.advance(30);
    const second = runId(await b.claimTask(t.id));
    expect(second).not.toBe(first);
    const runs = await b.listRuns(t.id);
    expect(runs.map((r) => [r.id, r.status, r.outcome, r.summary, r.ended_at])).toEqual([
      [first, "reclaimed", "reclaimed", "invariant recovery on re-claim", b.clock.seconds],
      [second, "running", null, null, null],
    ]);
    expect(runs[0]?.claim_lock).toBeNull();
    expect((await b.getTask(t.id))?.current_run_id).toBe(second);
  });

  it("claim: a stranded current_run_id pointing at a closed run is cleared and replaced", async () => {
    const b = board();
    const t = await b.createTask({ title: "x" });
    const first = runId(await b.claimTask(t.id));
    await rawSql(b).run(
      "UPDATE task_runs SET ended_at = ?, status = 'crashed', outcome = 'crashed' WHERE id = ?",
      b.clock.seconds,
      first,
    );
    await rawSql(b).run(
      "UPDATE tasks SET status = 'ready', claim_lock = NULL, claim_expires = NULL WHERE id = ?",
      t.id,
    );
    const second = runId(await b.claimTask(t.id));
    expect((await b.listRuns(t.id)).map((r) => [r.id, r.status])).toEqual([
      [first, "crashed"],
      [second, "running"],
    ]);
    expect((await b.getTask(t.id))?.current_run_id).toBe(second);
  });

  it("claim: started_at survives retries; the previous attempt's heartbeat and pid do not carry over", async () => {
    const b = board();
    const t = await b.createTask({ title: "x" });
    const firstStart = b.clock.seconds;
    const first = runId(await b.claimTask(t.id));
    await b.recordSpawn(t.id, 12345, first);
    await b.heartbeatWorker(t.id, { expected_run_id: first });
    await b.reclaimTask(t.id);
    b.clock.advance(100);
    const again = await b.claimTask(t.id);
    expect(again).toMatchObject({ started_at: firstStart, last_heartbeat_at: null, worker_pid: null });
    expect(await b.getTask(t.id)).toMatchObject({ started_at: firstStart, last_heartbeat_at: null, worker_pid: null });
    expect((await b.listRuns(t.id)).map((r) => r.started_at)).toEqual([firstStart, firstStart + 100]);
  });
});

describe("heartbeat_claim", () => {
  it("heartbeat_claim: extends the lease to now + the default TTL and mirrors it on the run, without an event", async () => {
    const b = board();
    const t = await b.createTask({ title: "x" });
    const run = runId(await b.claimTask(t.id, { ttl_seconds: 60 }));
    b.clock.advance(50);
    expect(await b.heartbeatClaim(t.id, { claimer: "testhost:4242" })).toBe(true);
    expect((await b.getTask(t.id))?.claim_expires).toBe(b.clock.seconds + 900);
    expect((await b.getRun(run))?.claim_expires).toBe(b.clock.seconds + 900);
    expect(await kinds(b, t.id)).toEqual(["created", "claimed"]);
  });

  it("heartbeat_claim: an explicit ttl_seconds sets the new lease", async () => {
    const b = board();
    const t = await b.createTask({ title: "x" });
    const run = runId(await b.claimTask(t.id));
    b.clock.advance(10);
    expect(await b.heartbeatClaim(t.id, { ttl_seconds: 30, expected_run_id: run })).toBe(true);
    expect((await b.getTask(t.id))?.claim_expires).toBe(b.clock.seconds + 30);
    expect((await b.getRun(run))?.claim_expires).toBe(b.clock.seconds + 30);
  });

  it("heartbeat_claim: uses the board's configured claim TTL by default", async () => {
    const b = board({ claimTtlSeconds: 45 });
    const t = await b.createTask({ title: "x" });
    await b.claimTask(t.id);
    b.clock.advance(20);
    await b.heartbeatClaim(t.id, { claimer: "testhost:4242" });
    expect((await b.getTask(t.id))?.claim_expires).toBe(b.clock.seconds + 45);
  });

  it("heartbeat_claim: is fenced by the claim lock: another claimer is refused and the lease is unchanged", async () => {
    const b = board();
    const t = await b.createTask({ title: "x" });
    const claimed = await b.claimTask(t.id);
    b.clock.advance(10);
    await expect(b.heartbeatClaim(t.id, { claimer: "intruder:1" })).rejects.toThrow(
      kernelError("STALE_RUN", `claim intruder:1 no longer holds ${t.id}; refusing to act on a newer attempt`),
    );
    expect((await b.getTask(t.id))?.claim_expires).toBe(claimed?.claim_expires);
  });

  it("heartbeat_claim: is fenced by expected_run_id: a stale attempt cannot extend the new one", async () => {
    const b = board();
    const t = await b.createTask({ title: "x" });
    const old = runId(await b.claimTask(t.id));
    await b.reclaimTask(t.id);
    const fresh = await b.claimTask(t.id);
    b.clock.advance(10);
    await expect(b.heartbeatClaim(t.id, { expected_run_id: old })).rejects.toThrow(
      kernelError(
        "STALE_RUN",
        `run ${old} is no longer the active run of ${t.id} (the claim was reclaimed or settled); refusing to act on a newer attempt`,
      ),
    );
    expect((await b.getTask(t.id))?.claim_expires).toBe(fresh?.claim_expires);
  });

  it("heartbeat_claim: a task that is not running is refused", async () => {
    const b = board();
    const t = await b.createTask({ title: "x" });
    const run = runId(await b.claimTask(t.id, { claimer: "w:1" }));
    await b.blockTask(t.id, { reason: "wait" });
    await expect(b.heartbeatClaim(t.id)).rejects.toThrow(
      kernelError(
        "INVALID_INPUT",
        `cannot extend the claim on ${t.id}: pass the claim lock or run id this worker was given`,
      ),
    );
    await expect(b.heartbeatClaim(t.id, { expected_run_id: run })).rejects.toThrow(
      kernelError(
        "STALE_RUN",
        `run ${run} is no longer the active run of ${t.id} (the claim was reclaimed or settled); refusing to act on a newer attempt`,
      ),
    );
    await expect(b.heartbeatClaim("t_missing0", { claimer: "w:1" })).rejects.toThrow(
      kernelError("NOT_FOUND", "task t_missing0 not found"),
    );
  });

  it("heartbeat_claim: refuses to extend a lease without the holder's lock or run id", async () => {
    const b = board();
    const t = await b.createTask({ title: "x" });
    const claimed = await b.claimTask(t.id, { claimer: "w:1", ttl_seconds: 60 });
    const before = await b.getTask(t.id);
    await expect(b.heartbeatClaim(t.id)).rejects.toThrow(
      kernelError(
        "INVALID_INPUT",
        `cannot extend the claim on ${t.id}: pass the claim lock or run id this worker was given`,
      ),
    );
    expect(await b.getTask(t.id)).toEqual(before);
    expect(claimed?.claim_lock).toBe("w:1");
  });
});

describe("heartbeat_worker", () => {
  it("heartbeat_worker: stamps last_heartbeat_at on the task and its run, with a heartbeat event carrying the note", async () => {
    const b = board();
    const t = await b.createTask({ title: "x" });
    const run = runId(await b.claimTask(t.id));
    b.clock.advance(42);
    expect(await b.heartbeatWorker(t.id, { note: "  halfway through the tests ", expected_run_id: run })).toBe(true);
    expect((await b.getTask(t.id))?.last_heartbeat_at).toBe(b.clock.seconds);
    expect((await b.getRun(run))?.last_heartbeat_at).toBe(b.clock.seconds);
    expect((await b.listEvents(t.id)).at(-1)).toMatchObject({
      kind: "heartbeat",
      run_id: run,
      payload: { note: "halfway through the tests" },
      created_at: b.clock.seconds,
    });
  });

  it("heartbeat_worker: without a note (or with a blank one) the event payload is null", async () => {
    const b = board();
    const t = await b.createTask({ title: "x" });
    await b.claimTask(t.id);
    await b.heartbeatWorker(t.id);
    await b.heartbeatWorker(t.id, { note: "   " });
    expect((await b.listEvents(t.id)).slice(-2).map((e) => [e.kind, e.payload])).toEqual([
      ["heartbeat", null],
      ["heartbeat", null],
    ]);
  });

  it("heartbeat_worker: does not extend the claim lease (that is heartbeat_claim's job)", async () => {
    const b = board();
    const t = await b.createTask({ title: "x" });
    const claimed = await b.claimTask(t.id);
    b.clock.advance(100);
    await b.heartbeatWorker(t.id);
    expect((await b.getTask(t.id))?.claim_expires).toBe(claimed?.claim_expires);
  });

  it("heartbeat_worker: a stale run id is refused after reclaim and re-claim; the new attempt is untouched", async () => {
    const b = board();
    const t = await b.createTask({ title: "x" });
    const old = runId(await b.claimTask(t.id));
    await b.reclaimTask(t.id);
    const fresh = runId(await b.claimTask(t.id));
    b.clock.advance(10);
    await expect(b.heartbeatWorker(t.id, { note: "late", expected_run_id: old })).rejects.toThrow(
      kernelError(
        "STALE_RUN",
        `run ${old} is no longer the active run of ${t.id} (the claim was reclaimed or settled); refusing to act on a newer attempt`,
      ),
    );
    expect((await b.getTask(t.id))?.last_heartbeat_at).toBeNull();
    expect((await b.getRun(fresh))?.last_heartbeat_at).toBeNull();
    expect(await kinds(b, t.id)).not.toContain("heartbeat");
  });

  it("heartbeat_worker: is fenced by the claim lock", async () => {
    const b = board();
    const t = await b.createTask({ title: "x" });
    await b.claimTask(t.id, { claimer: "w:1" });
    await expect(b.heartbeatWorker(t.id, { claim_lock: "w:2" })).rejects.toThrow(
      expect.objectContaining({ code: "STALE_RUN" }),
    );
    expect(await b.heartbeatWorker(t.id, { claim_lock: "w:1" })).toBe(true);
  });

  it("heartbeat_worker: refused when the task is not running", async () => {
    const b = board();
    const t = await b.createTask({ title: "x" });
    await expect(b.heartbeatWorker(t.id, { note: "hi" })).rejects.toThrow(
      kernelError("WRONG_STATE", `cannot heartbeat ${t.id} (not running)`),
    );
    expect(await kinds(b, t.id)).toEqual(["created"]);
    await expect(b.heartbeatWorker("t_missing0")).rejects.toThrow(
      kernelError("NOT_FOUND", "task t_missing0 not found"),
    );
  });
});

describe("heartbeat (lease and liveness as one write)", () => {
  it("extends the lease, stamps the heartbeat and records the event, beginning one transaction", async () => {
    const b = board();
    const t = await b.createTask({ title: "x" });
    const run = runId(await b.claimTask(t.id));
    b.clock.advance(30);
    const ctx = boardInternals(b).ctx;
    const before = ctx.transactionsBegun;
    expect(await b.heartbeat(t.id, { expected_run_id: run, ttl_seconds: 120, note: " alive " })).toBe(true);
    expect(ctx.transactionsBegun - before).toBe(1);
    expect(await b.getTask(t.id)).toMatchObject({
      claim_expires: b.clock.seconds + 120,
      last_heartbeat_at: b.clock.seconds,
    });
    expect(await b.getRun(run)).toMatchObject({
      claim_expires: b.clock.seconds + 120,
      last_heartbeat_at: b.clock.seconds,
    });
    expect((await b.listEvents(t.id)).at(-1)).toMatchObject({
      kind: "heartbeat",
      run_id: run,
      payload: { note: "alive" },
    });
  });

  it("a failing heartbeat event leaves the lease where it was (both or neither)", async () => {
    const b = board();
    const t = await b.createTask({ title: "x" });
    const run = runId(await b.claimTask(t.id, { ttl_seconds: 60 }));
    const expires = (await b.getTask(t.id))?.claim_expires;
    await refuseInserts(b, {
      table: "task_events",
      where: { column: "kind", equals: "heartbeat" },
      message: "heartbeat refused",
    });
    b.clock.advance(30);
    await expect(b.heartbeat(t.id, { expected_run_id: run, note: "n" })).rejects.toThrow("heartbeat refused");
    expect(await b.getTask(t.id)).toMatchObject({ claim_expires: expires, last_heartbeat_at: null });
    expect((await b.getRun(run)).claim_expires).toBe(expires);
  });

  it("needs the worker's fence and a running task: INVALID_INPUT without one, STALE_RUN for an old run, refused once parked", async () => {
    const b = board();
    const t = await b.createTask({ title: "x" });
    const first = runId(await b.claimTask(t.id));
    await expect(b.heartbeat(t.id)).rejects.toThrow(expect.objectContaining({ code: "INVALID_INPUT" }));
    await b.reclaimTask(t.id);
    runId(await b.claimTask(t.id));
    await expect(b.heartbeat(t.id, { expected_run_id: first })).rejects.toThrow(
      expect.objectContaining({ code: "STALE_RUN" }),
    );
    const other = await b.createTask({ title: "y" });
    const otherRun = runId(await b.claimTask(other.id));
    await b.blockTask(other.id, { reason: "r" });
    await expect(b.heartbeat(other.id, { expected_run_id: otherRun })).rejects.toThrow();
  });
});
