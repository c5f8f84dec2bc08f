import { useTestBoards } from "./testing/helpers.ts";
import { beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_CLAIM_TTL_SECONDS, DEFAULT_CRASH_GRACE_SECONDS } from "./constants.ts";
import { KernelError } from "./errors.ts";
import { rawSql, type TestBoard } from "./testing/index.ts";

const boards = useTestBoards();

/**
 * pg-boss's claim-fencing scenarios on our board: worker A's attempt is taken away (reclaimed,
 * crashed, timed out...) and worker B claims the task. Whatever A sends late, carrying its own run
 * id (or lock), must fail with STALE_RUN and leave the database exactly as it was, but for one
 * thing (issue 15): a late complete or block fenced by its run id is recorded on the task as one
 * `late_report` event, so a remote worker's late report is refused but never silently dropped.
 */
const alive = new Set<number>();
let board: TestBoard;
beforeEach(() => {
  alive.clear();
  board = boards({ isPidAlive: (pid) => alive.has(pid) });
});

const PID_A = 501;
const PID_B = 502;

async function claim(id: string, pid: number, claimer?: string): Promise<number> {
  const t = await board.claimTask(id, { claimer });
  if (!t || t.current_run_id === null) throw new Error("claim failed");
  await board.recordSpawn(id, pid, t.current_run_id);
  alive.add(pid);
  return t.current_run_id;
}

/** A's attempt expires with A dead, the dispatcher reclaims it, and B claims the task. */
async function reclaimedAndReclaimed(opts: { claimerA?: string; claimerB?: string } = {}): Promise<{
  id: string;
  runA: number;
  runB: number;
}> {
  const task = await board.createTask({ title: "contended", assignee: "coder" });
  const runA = await claim(task.id, PID_A, opts.claimerA);
  board.clock.advance(60);
  await board.heartbeatWorker(task.id, { expected_run_id: runA, note: "A working" });
  alive.delete(PID_A);
  board.clock.advance(DEFAULT_CLAIM_TTL_SECONDS);
  expect((await board.releaseStaleClaims()).reclaimed).toEqual([task.id]);
  const runB = await claim(task.id, PID_B, opts.claimerB);
  board.clock.advance(5);
  return { id: task.id, runA, runB };
}

/** Every row the task owns, exactly as stored. */
async function snapshot(id: string) {
  const sql = rawSql(board);
  return {
    task: await sql.get("SELECT * FROM tasks WHERE id = ?", id),
    runs: await sql.all("SELECT * FROM task_runs WHERE task_id = ? ORDER BY id", id),
    events: await sql.all("SELECT * FROM task_events WHERE task_id = ? ORDER BY id", id),
    comments: await sql.all("SELECT * FROM task_comments WHERE task_id = ? ORDER BY id", id),
    allTasks: await sql.get("SELECT count(*) AS n FROM tasks"),
  };
}

/**
 * Runs a late call from A; it must fail with STALE_RUN and change nothing, except for the one
 * `late_report` event of a late terminal call (`late`: its run and verb).
 */
async function expectFenced(
  id: string,
  call: () => unknown,
  late?: { run: number; verb: "complete" | "block" },
): Promise<KernelError> {
  const before = await snapshot(id);
  board.clock.advance(7); // any write would now carry a different timestamp
  let thrown: unknown;
  try {
    await call();
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(KernelError);
  const err = thrown as KernelError;
  expect(err.code).toBe("STALE_RUN");
  const after = await snapshot(id);
  if (late !== undefined) {
    const added = after.events.slice(before.events.length) as { kind: string; run_id: number; payload: string }[];
    expect(added.map((e) => [e.kind, e.run_id])).toEqual([["late_report", late.run]]);
    expect(JSON.parse(added[0]?.payload ?? "null")).toMatchObject({ run_id: late.run, verb: late.verb });
    expect({ ...after, events: after.events.slice(0, before.events.length) }).toEqual(before);
  } else expect(after).toEqual(before);
  return err;
}

describe("fencing: a reclaimed worker cannot touch the newer attempt", () => {
  it("refuses the old worker's heartbeat (worker heartbeat and lease heartbeat), database unchanged", async () => {
    const { id, runA, runB } = await reclaimedAndReclaimed();
    const err = await expectFenced(
      id,
      async () => await board.heartbeatWorker(id, { expected_run_id: runA, note: "still here" }),
    );
    expect(err.details).toEqual({ task_id: id, expected_run_id: runA, current_run_id: runB });
    expect(err.message).toBe(
      `run ${runA} is no longer the active run of ${id} (the claim was reclaimed or settled); refusing to act on a newer attempt`,
    );
    await expectFenced(id, async () => await board.heartbeatClaim(id, { expected_run_id: runA }));
  });

  it("refuses the old worker's completion (recorded as a late report only), and the task stays B's", async () => {
    const { id, runA, runB } = await reclaimedAndReclaimed();
    await expectFenced(
      id,
      async () => await board.completeTask(id, { result: "A's late result", summary: "from A", expected_run_id: runA }),
      { run: runA, verb: "complete" },
    );
    expect(await board.getTask(id)).toMatchObject({ status: "running", current_run_id: runB, worker_pid: PID_B });
  });

  it("refuses the old worker's completion with created_cards before the card gate (no audit event written)", async () => {
    const { id, runA } = await reclaimedAndReclaimed();
    await expectFenced(
      id,
      async () => await board.completeTask(id, { created_cards: ["t_ffffffff"], expected_run_id: runA }),
      { run: runA, verb: "complete" },
    );
  });

  it("refuses the old worker's block (recorded as a late report only) and schedule (database unchanged)", async () => {
    const { id, runA } = await reclaimedAndReclaimed();
    await expectFenced(id, async () => await board.blockTask(id, { reason: "A gives up", expected_run_id: runA }), {
      run: runA,
      verb: "block",
    });
    await expectFenced(id, async () => await board.scheduleTask(id, { reason: "A defers", expected_run_id: runA }));
  });

  it("refuses the old worker's comment when it carries its fence, database unchanged", async () => {
    const { id, runA } = await reclaimedAndReclaimed();
    await expectFenced(
      id,
      async () => await board.addComment(id, "coder", "late note from A", { expected_run_id: runA }),
    );
  });

  it("does not record a spawn against the old run", async () => {
    const { id, runA } = await reclaimedAndReclaimed();
    const before = await snapshot(id);
    expect(await board.recordSpawn(id, 999, runA)).toBe(false);
    expect(await snapshot(id)).toEqual(before);
  });

  it("fences by claim lock too: a lock that no longer holds the task is refused", async () => {
    const { id } = await reclaimedAndReclaimed({ claimerA: "testhost:1001", claimerB: "testhost:1002" });
    const err = await expectFenced(id, async () => await board.heartbeatClaim(id, { claimer: "testhost:1001" }));
    expect(err.message).toBe(`claim testhost:1001 no longer holds ${id}; refusing to act on a newer attempt`);
    await expectFenced(id, async () => await board.completeTask(id, { result: "A", claim_lock: "testhost:1001" }));
    await expectFenced(id, async () => await board.blockTask(id, { claim_lock: "testhost:1001" }));
  });

  it("refuses the old worker while the task waits in ready between the reclaim and the next claim", async () => {
    const task = await board.createTask({ title: "t" });
    const runA = await claim(task.id, PID_A);
    await board.reclaimTask(task.id, { reason: "operator" });
    expect((await board.getTask(task.id))?.status).toBe("ready");
    await expectFenced(task.id, async () => await board.completeTask(task.id, { result: "A", expected_run_id: runA }), {
      run: runA,
      verb: "complete",
    });
    await expectFenced(task.id, async () => await board.blockTask(task.id, { expected_run_id: runA }), {
      run: runA,
      verb: "block",
    });
  });

  it("still refuses the old worker after the newer attempt has completed", async () => {
    const { id, runA, runB } = await reclaimedAndReclaimed();
    await board.completeTask(id, { result: "B's result", expected_run_id: runB });
    await expectFenced(id, async () => await board.completeTask(id, { result: "A's result", expected_run_id: runA }), {
      run: runA,
      verb: "complete",
    });
    expect((await board.getTask(id))?.result).toBe("B's result");
  });

  it("lets the current worker, with its own fence, heartbeat, comment and complete", async () => {
    const { id, runB } = await reclaimedAndReclaimed();
    expect(await board.heartbeatWorker(id, { expected_run_id: runB })).toBe(true);
    expect(await board.heartbeatClaim(id, { expected_run_id: runB })).toBe(true);
    await board.addComment(id, "coder", "B here", { expected_run_id: runB });
    expect((await board.completeTask(id, { result: "B", expected_run_id: runB })).run_id).toBe(runB);
  });

  it.each<[string, (id: string) => Promise<unknown>]>([
    [
      "an expired lease with a dead worker",
      async () => {
        alive.delete(PID_A);
        board.clock.advance(DEFAULT_CLAIM_TTL_SECONDS + 1);
        await board.releaseStaleClaims();
      },
    ],
    [
      "a crash",
      async () => {
        alive.delete(PID_A);
        board.clock.advance(DEFAULT_CRASH_GRACE_SECONDS + 1);
        await board.detectCrashedWorkers();
      },
    ],
    [
      "a timeout",
      async (id) => {
        await board.updateTask(id, { max_runtime_seconds: 60 });
        board.clock.advance(61);
        await board.enforceMaxRuntime();
      },
    ],
    [
      "a stale-heartbeat sweep",
      async () => {
        board.clock.advance(2 * 3600);
        await board.detectStaleRunning(3600);
      },
    ],
    ["an operator reclaim", async (id) => await board.reclaimTask(id, { reason: "operator" })],
    ["a direct status write", async (id) => await board.setStatusDirect(id, "ready")],
  ])("fences the old worker after %s took its attempt away and B claimed the task", async (_how, takeAway) => {
    const task = await board.createTask({ title: "t", assignee: "coder" });
    const runA = await claim(task.id, PID_A);
    await takeAway(task.id);
    expect((await board.getTask(task.id))?.status).toBe("ready");
    const runB = await claim(task.id, PID_B);
    await expectFenced(task.id, async () => await board.completeTask(task.id, { result: "A", expected_run_id: runA }), {
      run: runA,
      verb: "complete",
    });
    await expectFenced(task.id, async () => await board.heartbeatWorker(task.id, { expected_run_id: runA }));
    expect((await board.getTask(task.id))?.current_run_id).toBe(runB);
  });

  it("a fresh claim resets heartbeat state: no heartbeat or pid carries over from a previous attempt", async () => {
    const task = await board.createTask({ title: "t" });
    const runA = await claim(task.id, PID_A);
    await board.heartbeatWorker(task.id, { expected_run_id: runA });
    await board.reclaimTask(task.id);
    // Whatever the previous attempt left on the row, the claim starts from a clean slate.
    await rawSql(board).run(
      "UPDATE tasks SET last_heartbeat_at = ?, worker_pid = ? WHERE id = ?",
      board.clock.seconds,
      PID_A,
      task.id,
    );
    const fresh = await board.claimTask(task.id);
    expect(fresh).toMatchObject({ last_heartbeat_at: null, worker_pid: null });
    expect(await board.getTask(task.id)).toMatchObject({ last_heartbeat_at: null, worker_pid: null });
    expect(await board.activeRun(task.id)).toMatchObject({ last_heartbeat_at: null, worker_pid: null });
    expect((await board.getRun(runA)).last_heartbeat_at).toBe(board.clock.seconds); // the old attempt keeps its history
  });
});
