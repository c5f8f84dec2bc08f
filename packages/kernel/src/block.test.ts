import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { boardInternals, createTestBoard, type TestBoard } from "./testing/index.ts";
import { caught } from "./testing/helpers.ts";

let board: TestBoard;
/** The board's failure limit (config's `failure_limit`), asked live; a test may change it. */
let limit = 2;
beforeEach(() => {
  limit = 2;
  board = createTestBoard({ failureLimit: () => limit });
});
afterEach(() => board.cleanup());

function claimed(title = "work"): { id: string; runId: number } {
  const task = board.createTask({ title, assignee: "coder" });
  const claim = board.claimTask(task.id);
  if (!claim || claim.current_run_id === null) throw new Error("claim failed");
  return { id: task.id, runId: claim.current_run_id };
}

function setStatus(id: string, status: string): void {
  boardInternals(board).sqlite.prepare("UPDATE tasks SET status = ? WHERE id = ?").run(status, id);
}

function lastEvent(id: string, kind: string) {
  const ev = board.listEvents(id).filter((e) => e.kind === kind);
  return ev[ev.length - 1];
}

describe("blockTask", () => {
  it("blocks a running task: claim cleared, run closed as blocked with the reason as summary, blocked event", () => {
    const { id, runId } = claimed();
    board.recordSpawn(id, 555, runId);
    board.clock.advance(20);
    const out = board.blockTask(id, { reason: "  need the API key  " });
    expect(out.run_id).toBe(runId);
    expect(out.task).toMatchObject({
      status: "blocked",
      claim_lock: null,
      claim_expires: null,
      worker_pid: null,
      current_run_id: null,
    });
    expect(board.getRun(runId)).toMatchObject({
      status: "blocked",
      outcome: "blocked",
      summary: "need the API key",
      ended_at: board.clock.seconds,
    });
    const ev = lastEvent(id, "blocked");
    expect(ev?.payload).toEqual({ reason: "need the API key" });
    expect(ev?.run_id).toBe(runId);
  });

  it("synthesises a zero-length blocked run when a never-claimed (ready) task is blocked with a reason", () => {
    const task = board.createTask({ title: "t", assignee: "coder" });
    board.clock.advance(5);
    const out = board.blockTask(task.id, { reason: "waiting on legal" });
    expect(out.task.status).toBe("blocked");
    expect(board.listRuns(task.id)).toEqual([
      expect.objectContaining({
        id: out.run_id,
        status: "blocked",
        outcome: "blocked",
        summary: "waiting on legal",
        started_at: board.clock.seconds,
        ended_at: board.clock.seconds,
      }),
    ]);
  });

  it("creates no run when a never-claimed task is blocked without a reason (blank reason = none)", () => {
    const task = board.createTask({ title: "t" });
    const out = board.blockTask(task.id, { reason: "   " });
    expect(out.run_id).toBeNull();
    expect(board.listRuns(task.id)).toEqual([]);
    expect(lastEvent(task.id, "blocked")?.payload).toEqual({ reason: null });
  });

  it.each(["todo", "triage", "scheduled", "blocked", "review", "done", "archived"])(
    "refuses to block a %s task",
    (status) => {
      const task = board.createTask({ title: "t" });
      setStatus(task.id, status);
      const err = caught(() => board.blockTask(task.id, { reason: "x" }));
      expect(err.code).toBe("WRONG_STATE");
      expect(err.message).toBe(`cannot block ${task.id}: status is '${status}' (expected running or ready)`);
      expect(board.getTask(task.id)?.status).toBe(status);
    },
  );

  it("refuses an unknown task with NOT_FOUND", () => {
    expect(caught(() => board.blockTask("t_00000000")).code).toBe("NOT_FOUND");
  });
});

describe("sticky blocks versus auto-recoverable breaker blocks", () => {
  it("a worker block is sticky: recomputeReady never promotes it, however many ticks pass", () => {
    const { id } = claimed();
    board.blockTask(id, { reason: "please review" });
    for (let i = 0; i < 5; i++) board.recomputeReady();
    expect(board.getTask(id)?.status).toBe("blocked");
  });

  it("a worker block on a child stays sticky even when every parent is done", () => {
    const parent = board.createTask({ title: "parent" });
    const child = board.createTask({ title: "child", parents: [parent.id] });
    board.completeTask(parent.id, { result: "ok" });
    expect(board.getTask(child.id)?.status).toBe("ready");
    board.blockTask(child.id, { reason: "human decision needed" });
    board.recomputeReady();
    expect(board.getTask(child.id)?.status).toBe("blocked");
  });

  it("a block without a blocked event (direct DB edit) auto-recovers when its parents finish", () => {
    const parent = board.createTask({ title: "parent" });
    const child = board.createTask({ title: "child", parents: [parent.id] });
    setStatus(child.id, "blocked");
    board.recomputeReady();
    expect(board.getTask(child.id)?.status).toBe("blocked");
    board.completeTask(parent.id, { result: "ok" });
    expect(board.getTask(child.id)?.status).toBe("ready");
    expect(lastEvent(child.id, "promoted")).toBeDefined();
  });

  it("a breaker block (gave_up only) is not sticky: it recovers under the effective limit and never at it", () => {
    const task = board.createTask({ title: "flaky" });
    limit = 1;
    expect(board.recordTaskFailure(task.id, { error: "spawn failed", outcome: "spawn_failed" })).toBe(true);
    expect(board.getTask(task.id)?.status).toBe("blocked");
    // At the limit the tripped breaker holds the task...
    board.recomputeReady();
    expect(board.getTask(task.id)?.status).toBe("blocked");
    // ...but a gave_up event alone is not a sticky block: once the counter is under the limit it recovers.
    limit = 3;
    board.recomputeReady();
    expect(board.getTask(task.id)?.status).toBe("ready");
  });

  it("unblock clears stickiness, so a later breaker block on the same task can auto-recover", () => {
    const { id } = claimed();
    board.blockTask(id, { reason: "sticky" });
    board.unblockTask(id);
    limit = 1;
    board.recordTaskFailure(id, { error: "crash", outcome: "crashed" });
    expect(board.getTask(id)?.status).toBe("blocked");
    limit = 5;
    board.recomputeReady();
    expect(board.getTask(id)?.status).toBe("ready");
  });
});

describe("unblockTask", () => {
  it("moves a blocked task with no unfinished parents to ready (unblocked event, null payload)", () => {
    const { id } = claimed();
    board.blockTask(id, { reason: "r" });
    const task = board.unblockTask(id);
    expect(task).toMatchObject({ status: "ready", current_run_id: null, claim_lock: null });
    expect(lastEvent(id, "unblocked")?.payload).toBeNull();
  });

  it("moves a blocked task with an unfinished parent to todo ({status: todo, resume_status: ready})", () => {
    const parent = board.createTask({ title: "parent" });
    const child = board.createTask({ title: "child", parents: [parent.id] });
    setStatus(child.id, "blocked");
    expect(board.unblockTask(child.id).status).toBe("todo");
    expect(lastEvent(child.id, "unblocked")?.payload).toEqual({ status: "todo", resume_status: "ready" });
  });

  it("resets the failure counter and last error (fresh retry budget)", () => {
    const task = board.createTask({ title: "t" });
    limit = 1;
    board.recordTaskFailure(task.id, { error: "boom", outcome: "crashed" });
    expect(board.getTask(task.id)).toMatchObject({
      status: "blocked",
      consecutive_failures: 1,
      last_failure_error: "boom",
    });
    expect(board.unblockTask(task.id)).toMatchObject({
      status: "ready",
      consecutive_failures: 0,
      last_failure_error: null,
    });
  });

  it.each(["todo", "ready", "running", "done", "archived", "triage"])("refuses to unblock a %s task", (status) => {
    const task = board.createTask({ title: "t" });
    setStatus(task.id, status);
    const err = caught(() => board.unblockTask(task.id));
    expect(err.code).toBe("WRONG_STATE");
    expect(err.message).toBe(`cannot unblock ${task.id}: status is '${status}' (not blocked or scheduled)`);
  });

  it("closes a dangling open run left on a blocked task (invariant recovery) and leaves current_run_id null", () => {
    const { id, runId } = claimed();
    // Engineer the leak: the task says blocked but its run was never closed.
    boardInternals(board)
      .sqlite.prepare("UPDATE tasks SET status = 'blocked', claim_lock = NULL, claim_expires = NULL WHERE id = ?")
      .run(id);
    board.unblockTask(id);
    expect(board.getTask(id)?.current_run_id).toBeNull();
    expect(board.getRun(runId)).toMatchObject({ outcome: "reclaimed", summary: "invariant recovery on unblock" });
    expect(board.activeRun(id)).toBeNull();
  });

  it("adds no run on the normal claim -> block -> unblock path", () => {
    const { id } = claimed();
    board.blockTask(id, { reason: "r" });
    const runsBefore = board.listRuns(id);
    board.unblockTask(id);
    expect(board.listRuns(id)).toEqual(runsBefore);
  });
});

describe("scheduleTask", () => {
  it.each(["todo", "ready", "blocked"])(
    "parks a never-claimed %s task as scheduled (scheduled event with the reason)",
    (status) => {
      const task = board.createTask({ title: "t" });
      setStatus(task.id, status);
      const out = board.scheduleTask(task.id, { reason: "after the release" });
      expect(out.task.status).toBe("scheduled");
      expect(lastEvent(task.id, "scheduled")?.payload).toEqual({ reason: "after the release" });
      expect(board.listRuns(task.id)).toEqual([
        expect.objectContaining({
          status: "scheduled",
          outcome: "scheduled",
          summary: "after the release",
          started_at: board.clock.seconds,
          ended_at: board.clock.seconds,
        }),
      ]);
    },
  );

  it("parks a running task: claim cleared and the run closed as scheduled", () => {
    const { id, runId } = claimed();
    const out = board.scheduleTask(id, { reason: "wait for 9am" });
    expect(out.task).toMatchObject({ status: "scheduled", claim_lock: null, current_run_id: null });
    expect(board.getRun(runId)).toMatchObject({ status: "scheduled", outcome: "scheduled", summary: "wait for 9am" });
    expect(lastEvent(id, "scheduled")?.run_id).toBe(runId);
  });

  it.each(["triage", "scheduled", "review", "done", "archived"])("refuses to schedule a %s task", (status) => {
    const task = board.createTask({ title: "t" });
    setStatus(task.id, status);
    const err = caught(() => board.scheduleTask(task.id));
    expect(err.code).toBe("WRONG_STATE");
    expect(err.message).toBe(
      `cannot schedule ${task.id}: status is '${status}' (expected todo or ready or running or blocked)`,
    );
  });

  it("a scheduled task is never promoted or claimed; unblock re-checks the parent gate", () => {
    const parent = board.createTask({ title: "parent" });
    const child = board.createTask({ title: "child", parents: [parent.id] });
    board.scheduleTask(child.id, { reason: "later" });
    board.completeTask(parent.id, { result: "ok" });
    board.recomputeReady();
    expect(board.getTask(child.id)?.status).toBe("scheduled");
    expect(board.claimTask(child.id)).toBeNull();

    const other = board.createTask({ title: "other parent" });
    board.linkTasks(other.id, child.id);
    expect(board.unblockTask(child.id).status).toBe("todo");
    board.completeTask(other.id, { result: "ok" });
    expect(board.getTask(child.id)?.status).toBe("ready");
  });
});

describe("the reason as a comment (comment_author), in the verb's own transaction", () => {
  /** A real fault on the comment insert: SQLite aborts any statement that adds a comment. */
  function refuseComments(): void {
    boardInternals(board).sqlite.exec(
      "CREATE TRIGGER refuse_comments BEFORE INSERT ON task_comments BEGIN SELECT RAISE(ABORT, 'comments refused'); END",
    );
  }

  it("block, schedule and unblock store the prefixed reason as one comment, one transaction per verb", () => {
    const { id } = claimed();
    const scheduled = board.createTask({ title: "s", assignee: "coder" });
    const ctx = boardInternals(board).ctx;
    const before = ctx.transactionsBegun;
    board.blockTask(id, { reason: "  need the key ", comment_author: " alice " });
    expect(ctx.transactionsBegun - before).toBe(1);
    board.unblockTask(id, { reason: "key given", comment_author: "bob" });
    board.scheduleTask(scheduled.id, { reason: "after the release", comment_author: "carol" });
    expect(ctx.transactionsBegun - before).toBe(3);
    expect(board.listComments(id).map((c) => [c.author, c.body])).toEqual([
      ["alice", "BLOCKED: need the key"],
      ["bob", "UNBLOCK: key given"],
    ]);
    expect(board.listComments(scheduled.id).map((c) => [c.author, c.body])).toEqual([
      ["carol", "SCHEDULED: after the release"],
    ]);
    expect(lastEvent(id, "commented")?.payload).toEqual({ author: "bob", len: "UNBLOCK: key given".length });
  });

  it("writes no comment without an author or without a reason", () => {
    const { id } = claimed();
    board.blockTask(id, { reason: "r" });
    board.unblockTask(id, { comment_author: "bob", reason: "   " });
    expect(board.listComments(id)).toEqual([]);
  });

  it("a failing comment insert undoes the block: status, claim, run and events stay as they were", () => {
    const { id, runId } = claimed();
    refuseComments();
    const eventsBefore = board.listEvents(id).length;
    expect(() => board.blockTask(id, { reason: "stuck", comment_author: "alice" })).toThrow("comments refused");
    expect(board.requireTask(id)).toMatchObject({ status: "running", current_run_id: runId });
    expect(board.getRun(runId).ended_at).toBeNull();
    expect(board.listEvents(id)).toHaveLength(eventsBefore);
  });

  it("a failing comment insert undoes schedule and unblock too", () => {
    const { id } = claimed();
    board.blockTask(id, { reason: "stuck" });
    const ready = board.createTask({ title: "r", assignee: "coder" });
    refuseComments();
    expect(() => board.unblockTask(id, { reason: "go", comment_author: "bob" })).toThrow("comments refused");
    expect(board.requireTask(id).status).toBe("blocked");
    expect(() => board.scheduleTask(ready.id, { reason: "later", comment_author: "bob" })).toThrow("comments refused");
    expect(board.requireTask(ready.id).status).toBe("ready");
    expect(board.listRuns(ready.id)).toEqual([]);
  });
});
