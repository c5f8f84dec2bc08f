import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_CLAIM_TTL_SECONDS, DEFAULT_CRASH_GRACE_SECONDS } from "./constants.ts";
import { KernelError } from "./errors.ts";
import { boardInternals, createTestBoard, type TestBoard } from "./testing/index.ts";

/**
 * pg-boss's claim-fencing scenarios on our board: worker A's attempt is taken away (reclaimed,
 * crashed, timed out...) and worker B claims the task. Whatever A sends late, carrying its own run
 * id (or lock), must fail with STALE_RUN and leave the database exactly as it was.
 */
const alive = new Set<number>();
let board: TestBoard;
beforeEach(() => {
  alive.clear();
  board = createTestBoard({ isPidAlive: (pid) => alive.has(pid) });
});
afterEach(() => board.cleanup());

const PID_A = 501;
const PID_B = 502;

function claim(id: string, pid: number, claimer?: string): number {
  const t = board.claimTask(id, { claimer });
  if (!t || t.current_run_id === null) throw new Error("claim failed");
  board.recordSpawn(id, pid, t.current_run_id);
  alive.add(pid);
  return t.current_run_id;
}

/** A's attempt expires with A dead, the dispatcher reclaims it, and B claims the task. */
function reclaimedAndReclaimed(opts: { claimerA?: string; claimerB?: string } = {}): {
  id: string;
  runA: number;
  runB: number;
} {
  const task = board.createTask({ title: "contended", assignee: "coder" });
  const runA = claim(task.id, PID_A, opts.claimerA);
  board.clock.advance(60);
  board.heartbeatWorker(task.id, { expected_run_id: runA, note: "A working" });
  alive.delete(PID_A);
  board.clock.advance(DEFAULT_CLAIM_TTL_SECONDS);
  expect(board.releaseStaleClaims().reclaimed).toEqual([task.id]);
  const runB = claim(task.id, PID_B, opts.claimerB);
  board.clock.advance(5);
  return { id: task.id, runA, runB };
}

/** Every row the task owns, exactly as stored. */
function snapshot(id: string) {
  return {
    task: boardInternals(board).sqlite.prepare("SELECT * FROM tasks WHERE id = ?").get(id),
    runs: boardInternals(board).sqlite.prepare("SELECT * FROM task_runs WHERE task_id = ? ORDER BY id").all(id),
    events: boardInternals(board).sqlite.prepare("SELECT * FROM task_events WHERE task_id = ? ORDER BY id").all(id),
    comments: boardInternals(board).sqlite.prepare("SELECT * FROM task_comments WHERE task_id = ? ORDER BY id").all(id),
    allTasks: boardInternals(board).sqlite.prepare("SELECT count(*) AS n FROM tasks").get(),
  };
}

/** Runs a late call from A; it must fail with STALE_RUN and change nothing. */
function expectFenced(id: string, call: () => unknown): KernelError {
  const before = snapshot(id);
  board.clock.advance(7); // any write would now carry a different timestamp
  let thrown: unknown;
  try {
    call();
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(KernelError);
  const err = thrown as KernelError;
  expect(err.code).toBe("STALE_RUN");
  expect(snapshot(id)).toEqual(before);
  return err;
}

describe("fencing: a reclaimed worker cannot touch the newer attempt", () => {
  it("refuses the old worker's heartbeat (worker heartbeat and lease heartbeat), database unchanged", () => {
    const { id, runA, runB } = reclaimedAndReclaimed();
    const err = expectFenced(id, () => board.heartbeatWorker(id, { expected_run_id: runA, note: "still here" }));
    expect(err.details).toEqual({ task_id: id, expected_run_id: runA, current_run_id: runB });
    expect(err.message).toBe(
      `run ${runA} is no longer the active run of ${id} (the claim was reclaimed or settled); refusing to act on a newer attempt`,
    );
    expectFenced(id, () => board.heartbeatClaim(id, { expected_run_id: runA }));
  });

  it("refuses the old worker's completion, database unchanged, and the task stays B's", () => {
    const { id, runA, runB } = reclaimedAndReclaimed();
    expectFenced(id, () =>
      board.completeTask(id, { result: "A's late result", summary: "from A", expected_run_id: runA }),
    );
    expect(board.getTask(id)).toMatchObject({ status: "running", current_run_id: runB, worker_pid: PID_B });
  });

  it("refuses the old worker's completion with created_cards before the card gate (no audit event written)", () => {
    const { id, runA } = reclaimedAndReclaimed();
    expectFenced(id, () => board.completeTask(id, { created_cards: ["t_ffffffff"], expected_run_id: runA }));
  });

  it("refuses the old worker's block and schedule, database unchanged", () => {
    const { id, runA } = reclaimedAndReclaimed();
    expectFenced(id, () => board.blockTask(id, { reason: "A gives up", expected_run_id: runA }));
    expectFenced(id, () => board.scheduleTask(id, { reason: "A defers", expected_run_id: runA }));
  });

  it("refuses the old worker's comment when it carries its fence, database unchanged", () => {
    const { id, runA } = reclaimedAndReclaimed();
    expectFenced(id, () => board.addComment(id, "coder", "late note from A", { expected_run_id: runA }));
  });

  it("does not record a spawn against the old run", () => {
    const { id, runA } = reclaimedAndReclaimed();
    const before = snapshot(id);
    expect(board.recordSpawn(id, 999, runA)).toBe(false);
    expect(snapshot(id)).toEqual(before);
  });

  it("fences by claim lock too: a lock that no longer holds the task is refused", () => {
    const { id } = reclaimedAndReclaimed({ claimerA: "testhost:1001", claimerB: "testhost:1002" });
    const err = expectFenced(id, () => board.heartbeatClaim(id, { claimer: "testhost:1001" }));
    expect(err.message).toBe(`claim testhost:1001 no longer holds ${id}; refusing to act on a newer attempt`);
    expectFenced(id, () => board.completeTask(id, { result: "A", claim_lock: "testhost:1001" }));
    expectFenced(id, () => board.blockTask(id, { claim_lock: "testhost:1001" }));
  });

  it("refuses the old worker while the task waits in ready between the reclaim and the next claim", () => {
    const task = board.createTask({ title: "t" });
    const runA = claim(task.id, PID_A);
    board.reclaimTask(task.id, { reason: "operator" });
    expect(board.getTask(task.id)?.status).toBe("ready");
    expectFenced(task.id, () => board.completeTask(task.id, { result: "A", expected_run_id: runA }));
    expectFenced(task.id, () => board.blockTask(task.id, { expected_run_id: runA }));
  });

  it("still refuses the old worker after the newer attempt has completed", () => {
    const { id, runA, runB } = reclaimedAndReclaimed();
    board.completeTask(id, { result: "B's result", expected_run_id: runB });
    expectFenced(id, () => board.completeTask(id, { result: "A's result", expected_run_id: runA }));
    expect(board.getTask(id)?.result).toBe("B's result");
  });

  it("lets the current worker, with its own fence, heartbeat, comment and complete", () => {
    const { id, runB } = reclaimedAndReclaimed();
    expect(board.heartbeatWorker(id, { expected_run_id: runB })).toBe(true);
    expect(board.heartbeatClaim(id, { expected_run_id: runB })).toBe(true);
    board.addComment(id, "coder", "B here", { expected_run_id: runB });
    expect(board.completeTask(id, { result: "B", expected_run_id: runB }).run_id).toBe(runB);
  });

  it.each<[string, (id: string) => void]>([
    [
      "an expired lease with a dead worker",
      () => {
        alive.delete(PID_A);
        board.clock.advance(DEFAULT_CLAIM_TTL_SECONDS + 1);
        board.releaseStaleClaims();
      },
    ],
    [
      "a crash",
      () => {
        alive.delete(PID_A);
        board.clock.advance(DEFAULT_CRASH_GRACE_SECONDS + 1);
        board.detectCrashedWorkers();
      },
    ],
    [
      "a timeout",
      (id) => {
        board.updateTask(id, { max_runtime_seconds: 60 });
        board.clock.advance(61);
        board.enforceMaxRuntime();
      },
    ],
    [
      "a stale-heartbeat sweep",
      () => {
        board.clock.advance(2 * 3600);
        board.detectStaleRunning(3600);
      },
    ],
    ["an operator reclaim", (id) => board.reclaimTask(id, { reason: "operator" })],
    ["a direct status write", (id) => board.setStatusDirect(id, "ready")],
  ])("fences the old worker after %s took its attempt away and B claimed the task", (_how, takeAway) => {
    const task = board.createTask({ title: "t", assignee: "coder" });
    const runA = claim(task.id, PID_A);
    takeAway(task.id);
    expect(board.getTask(task.id)?.status).toBe("ready");
    const runB = claim(task.id, PID_B);
    expectFenced(task.id, () => board.completeTask(task.id, { result: "A", expected_run_id: runA }));
    expectFenced(task.id, () => board.heartbeatWorker(task.id, { expected_run_id: runA }));
    expect(board.getTask(task.id)?.current_run_id).toBe(runB);
  });

  it("a fresh claim resets heartbeat state: no heartbeat or pid carries over from a previous attempt", () => {
    const task = board.createTask({ title: "t" });
    const runA = claim(task.id, PID_A);
    board.heartbeatWorker(task.id, { expected_run_id: runA });
    board.reclaimTask(task.id);
    // Whatever the previous attempt left on the row, the claim starts from a clean slate.
    boardInternals(board)
      .sqlite.prepare("UPDATE tasks SET last_heartbeat_at = ?, worker_pid = ? WHERE id = ?")
      .run(board.clock.seconds, PID_A, task.id);
    const fresh = board.claimTask(task.id);
    expect(fresh).toMatchObject({ last_heartbeat_at: null, worker_pid: null });
    expect(board.getTask(task.id)).toMatchObject({ last_heartbeat_at: null, worker_pid: null });
    expect(board.activeRun(task.id)).toMatchObject({ last_heartbeat_at: null, worker_pid: null });
    expect(board.getRun(runA).last_heartbeat_at).toBe(board.clock.seconds); // the old attempt keeps its history
  });
});
