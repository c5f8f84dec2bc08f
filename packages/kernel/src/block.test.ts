import { beforeEach, describe, expect, it } from "vitest";
import { boardInternals, rawSql, type TestBoard } from "./testing/index.ts";
import { refuseInserts } from "./testing/internals.ts";
import { caught, useTestBoards } from "./testing/helpers.ts";

const boards = useTestBoards();
let board: TestBoard;
/** The board's failure limit (config's `failure_limit`), asked live; a test may change it. */
let limit = 2;
beforeEach(() => {
  limit = 2;
  board = boards({ failureLimit: () => limit });
});

async function claimed(title = "work"): Promise<{ id: string; runId: number }> {
  const task = await board.createTask({ title, assignee: "coder" });
  const claim = await board.claimTask(task.id);
  if (!claim || claim.current_run_id === null) throw new Error("claim failed");
  return { id: task.id, runId: claim.current_run_id };
}

async function setStatus(id: string, status: string): Promise<void> {
  await rawSql(board).run("UPDATE tasks SET status = ? WHERE id = ?", status, id);
}

async function lastEvent(id: string, kind: string) {
  const ev = (await board.listEvents(id)).filter((e) => e.kind === kind);
  return ev[ev.length - 1];
}

describe("blockTask", () => {
  it("blocks a running task: claim cleared, run closed as blocked with the reason as summary, blocked event", async () => {
    const { id, runId } = await claimed();
    await board.recordSpawn(id, 555, runId);
    board.clock.advance(20);
    const out = await board.blockTask(id, { reason: "  need the API key  " });
    expect(out.run_id).toBe(runId);
    expect(out.task).toMatchObject({
      status: "blocked",
      claim_lock: null,
      claim_expires: null,
      worker_pid: null,
      current_run_id: null,
    });
    expect(await board.getRun(runId)).toMatchObject({
      status: "blocked",
      outcome: "blocked",
      summary: "need the API key",
      ended_at: board.clock.seconds,
    });
    const ev = await lastEvent(id, "blocked");
    expect(ev?.payload).toEqual({ reason: "need the API key" });
    expect(ev?.run_id).toBe(runId);
  });

  it("synthesises a zero-length blocked run when a never-claimed (ready) task is blocked with a reason", async () => {
    const task = await board.createTask({ title: "t", assignee: "coder" });
    board.clock.advance(5);
    const out = await board.blockTask(task.id, { reason: "waiting on legal" });
    expect(out.task.status).toBe("blocked");
    expect(await board.listRuns(task.id)).toEqual([
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

  it("creates no run when a never-claimed task is blocked without a reason (blank reason = none)", async () => {
    const task = await board.createTask({ title: "t" });
    const out = await board.blockTask(task.id, { reason: "   " });
    expect(out.run_id).toBeNull();
    expect(await board.listRuns(task.id)).toEqual([]);
    expect((await lastEvent(task.id, "blocked"))?.payload).toEqual({ reason: null });
  });

  it.each(["todo", "triage", "scheduled", "blocked", "review", "done", "archived"])(
    "refuses to block a %s task",
    async (status) => {
      const task = await board.createTask({ title: "t" });
      await setStatus(task.id, status);
      const err = await caught(async () => await board.blockTask(task.id, { reason: "x" }));
      expect(err.code).toBe("WRONG_STATE");
      expect(err.message).toBe(`cannot block ${task.id}: status is '${status}' (expected running or ready)`);
      expect((await board.getTask(task.id))?.status).toBe(status);
    },
  );

  it("refuses an unknown task with NOT_FOUND", async () => {
    expect((await caught(async () => await board.blockTask("t_00000000"))).code).toBe("NOT_FOUND");
  });
});

describe("sticky blocks versus auto-recoverable breaker blocks", () => {
  it("a worker block is sticky: recomputeReady never promotes it, however many ticks pass", async () => {
    const { id } = await claimed();
    await board.blockTask(id, { reason: "please review" });
    for (let i = 0; i < 5; i++) await board.recomputeReady();
    expect((await board.getTask(id))?.status).toBe("blocked");
  });

  it("a worker block on a child stays sticky even when every parent is done", async () => {
    const parent = await board.createTask({ title: "parent" });
    const child = await board.createTask({ title: "child", parents: [parent.id] });
    await board.completeTask(parent.id, { result: "ok" });
    expect((await board.getTask(child.id))?.status).toBe("ready");
    await board.blockTask(child.id, { reason: "human decision needed" });
    await board.recomputeReady();
    expect((await board.getTask(child.id))?.status).toBe("blocked");
  });

  it("a block without a blocked event (direct DB edit) auto-recovers when its parents finish", async () => {
    const parent = await board.createTask({ title: "parent" });
    const child = await board.createTask({ title: "child", parents: [parent.id] });
    await setStatus(child.id, "blocked");
    await board.recomputeReady();
    expect((await board.getTask(child.id))?.status).toBe("blocked");
    await board.completeTask(parent.id, { result: "ok" });
    expect((await board.getTask(child.id))?.status).toBe("ready");
    expect(await lastEvent(child.id, "promoted")).toBeDefined();
  });

  it("a breaker block (gave_up only) is not sticky: it recovers under the effective limit and never at it", async () => {
    const task = await board.createTask({ title: "flaky" });
    limit = 1;
    expect(await board.recordTaskFailure(task.id, { error: "spawn failed", outcome: "spawn_failed" })).toBe(true);
    expect((await board.getTask(task.id))?.status).toBe("blocked");
    // At the limit the tripped breaker holds the task...
    await board.recomputeReady();
    expect((await board.getTask(task.id))?.status).toBe("blocked");
    // ...but a gave_up event alone is not a sticky block: once the counter is under the limit it recovers.
    limit = 3;
    await board.recomputeReady();
    expect((await board.getTask(task.id))?.status).toBe("ready");
  });

  it("unblock clears stickiness, so a later breaker block on the same task can auto-recover", async () => {
    const { id } = await claimed();
    await board.blockTask(id, { reason: "sticky" });
    await board.unblockTask(id);
    limit = 1;
    await board.recordTaskFailure(id, { error: "crash", outcome: "crashed" });
    expect((await board.getTask(id))?.status).toBe("blocked");
    limit = 5;
    await board.recomputeReady();
    expect((await board.getTask(id))?.status).toBe("ready");
  });
});

describe("unblockTask", () => {
  it("moves a blocked task with no unfinished parents to ready (unblocked event, null payload)", async () => {
    const { id } = await claimed();
    await board.blockTask(id, { reason: "r" });
    const task = await board.unblockTask(id);
    expect(task).toMatchObject({ status: "ready", current_run_id: null, claim_lock: null });
    expect((await lastEvent(id, "unblocked"))?.payload).toBeNull();
  });

  it("moves a blocked task with an unfinished parent to todo ({status: todo, resume_status: ready})", async () => {
    const parent = await board.createTask({ title: "parent" });
    const child = await board.createTask({ title: "child", parents: [parent.id] });
    await setStatus(child.id, "blocked");
    expect((await board.unblockTask(child.id)).status).toBe("todo");
    expect((await lastEvent(child.id, "unblocked"))?.payload).toEqual({ status: "todo", resume_status: "ready" });
  });

  it("resets the failure counter and last error (fresh retry budget)", async () => {
    const task = await board.createTask({ title: "t" });
    limit = 1;
    await board.recordTaskFailure(task.id, { error: "boom", outcome: "crashed" });
    expect(await board.getTask(task.id)).toMatchObject({
      status: "blocked",
      consecutive_failures: 1,
      last_failure_error: "boom",
    });
    expect(await board.unblockTask(task.id)).toMatchObject({
      status: "ready",
      consecutive_failures: 0,
      last_failure_error: null,
    });
  });

  it.each(["todo", "ready", "running", "done", "archived", "triage"])(
    "refuses to unblock a %s task",
    async (status) => {
      const task = await board.createTask({ title: "t" });
      await setStatus(task.id, status);
      const err = await caught(async () => await board.unblockTask(task.id));
      expect(err.code).toBe("WRONG_STATE");
      expect(err.message).toBe(`cannot unblock ${task.id}: status is '${status}' (not blocked or scheduled)`);
    },
  );

  it("closes a dangling open run left on a blocked task (invariant recovery) and leaves current_run_id null", async () => {
    const { id, runId } = await claimed();
    // Engineer the leak: the task says blocked but its run was never closed.
    await rawSql(board).run(
      "UPDATE tasks SET status = 'blocked', claim_lock = NULL, claim_expires = NULL WHERE id = ?",
      id,
    );
    await board.unblockTask(id);
    expect((await board.getTask(id))?.current_run_id).toBeNull();
    expect(await board.getRun(runId)).toMatchObject({ outcome: "reclaimed", summary: "invariant recovery on unblock" });
    expect(await board.activeRun(id)).toBeNull();
  });

  it("adds no run on the normal claim -> block -> unblock path", async () => {
    const { id } = await claimed();
    await board.blockTask(id, { reason: "r" });
    const runsBefore = await board.listRuns(id);
    await board.unblockTask(id);
    expect(await board.listRuns(id)).toEqual(runsBefore);
  });
});

describe("scheduleTask", () => {
  it.each(["todo", "ready", "blocked"])(
    "parks a never-claimed %s task as scheduled (scheduled event with the reason)",
    async (status) => {
      const task = await board.createTask({ title: "t" });
      await setStatus(task.id, status);
      const out = await board.scheduleTask(task.id, { reason: "after the release" });
      expect(out.task.status).toBe("scheduled");
      expect((await lastEvent(task.id, "scheduled"))?.payload).toEqual({ reason: "after the release" });
      expect(await board.listRuns(task.id)).toEqual([
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

  it("parks a running task: claim cleared and the run closed as scheduled", async () => {
    const { id, runId } = await claimed();
    const out = await board.scheduleTask(id, { reason: "wait for 9am" });
    expect(out.task).toMatchObject({ status: "scheduled", claim_lock: null, current_run_id: null });
    expect(await board.getRun(runId)).toMatchObject({
      status: "scheduled",
      outcome: "scheduled",
      summary: "wait for 9am",
    });
    expect((await lastEvent(id, "scheduled"))?.run_id).toBe(runId);
  });

  it.each(["triage", "scheduled", "review", "done", "archived"])("refuses to schedule a %s task", async (status) => {
    const task = await board.createTask({ title: "t" });
    await setStatus(task.id, status);
    const err = await caught(async () => await board.scheduleTask(task.id));
    expect(err.code).toBe("WRONG_STATE");
    expect(err.message).toBe(
      `cannot schedule ${task.id}: status is '${status}' (expected todo or ready or running or blocked)`,
    );
  });

  it("a scheduled task is never promoted or claimed; unblock re-checks the parent gate", async () => {
    const parent = await board.createTask({ title: "parent" });
    const child = await board.createTask({ title: "child", parents: [parent.id] });
    await board.scheduleTask(child.id, { reason: "later" });
    await board.completeTask(parent.id, { result: "ok" });
    await board.recomputeReady();
    expect((await board.getTask(child.id))?.status).toBe("scheduled");
    expect(await board.claimTask(child.id)).toBeNull();

    const other = await board.createTask({ title: "other parent" });
    await board.linkTasks(other.id, child.id);
    expect((await board.unblockTask(child.id)).status).toBe("todo");
    await board.completeTask(other.id, { result: "ok" });
    expect((await board.getTask(child.id))?.status).toBe("ready");
  });
});

describe("the reason as a comment (comment_author), in the verb's own transaction", () => {
  /** A real fault on the comment insert: the database aborts any statement that adds a comment. */
  async function refuseComments(): Promise<void> {
    await refuseInserts(board, { table: "task_comments", message: "comments refused" });
  }

  it("block, schedule and unblock store the prefixed reason as one comment, one transaction per verb", async () => {
    const { id } = await claimed();
    const scheduled = await board.createTask({ title: "s", assignee: "coder" });
    const ctx = boardInternals(board).ctx;
    const before = ctx.transactionsBegun;
    await board.blockTask(id, { reason: "  need the key ", comment_author: " alice " });
    expect(ctx.transactionsBegun - before).toBe(1);
    await board.unblockTask(id, { reason: "key given", comment_author: "bob" });
    await board.scheduleTask(scheduled.id, { reason: "after the release", comment_author: "carol" });
    expect(ctx.transactionsBegun - before).toBe(3);
    expect((await board.listComments(id)).map((c) => [c.author, c.body])).toEqual([
      ["alice", "BLOCKED: need the key"],
      ["bob", "UNBLOCK: key given"],
    ]);
    expect((await board.listComments(scheduled.id)).map((c) => [c.author, c.body])).toEqual([
      ["carol", "SCHEDULED: after the release"],
    ]);
    expect((await lastEvent(id, "commented"))?.payload).toEqual({ author: "bob", len: "UNBLOCK: key given".length });
  });

  it("writes no comment without an author or without a reason", async () => {
    const { id } = await claimed();
    await board.blockTask(id, { reason: "r" });
    await board.unblockTask(id, { comment_author: "bob", reason: "   " });
    expect(await board.listComments(id)).toEqual([]);
  });

  it("a failing comment insert undoes the block: status, claim, run and events stay as they were", async () => {
    const { id, runId } = await claimed();
    await refuseComments();
    const eventsBefore = (await board.listEvents(id)).length;
    await expect(board.blockTask(id, { reason: "stuck", comment_author: "alice" })).rejects.toThrow("comments refused");
    expect(await board.requireTask(id)).toMatchObject({ status: "running", current_run_id: runId });
    expect((await board.getRun(runId)).ended_at).toBeNull();
    expect(await board.listEvents(id)).toHaveLength(eventsBefore);
  });

  it("a failing comment insert undoes schedule and unblock too", async () => {
    const { id } = await claimed();
    await board.blockTask(id, { reason: "stuck" });
    const ready = await board.createTask({ title: "r", assignee: "coder" });
    await refuseComments();
    await expect(board.unblockTask(id, { reason: "go", comment_author: "bob" })).rejects.toThrow("comments refused");
    expect((await board.requireTask(id)).status).toBe("blocked");
    await expect(board.scheduleTask(ready.id, { reason: "later", comment_author: "bob" })).rejects.toThrow(
      "comments refused",
    );
    expect((await board.requireTask(ready.id)).status).toBe("ready");
    expect(await board.listRuns(ready.id)).toEqual([]);
  });
});
