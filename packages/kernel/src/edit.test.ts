import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { boardInternals, createTestBoard, type TestBoard } from "./testing/index.ts";
import { caught } from "./testing/helpers.ts";

let board: TestBoard;
beforeEach(() => {
  board = createTestBoard();
});
afterEach(() => board.cleanup());

const RUNNING_REFUSED = "Cannot set status to 'running' directly; use the dispatcher/claim path";

function claimed(pid?: number): { id: string; runId: number } {
  const task = board.createTask({ title: "work", assignee: "coder" });
  const claim = board.claimTask(task.id);
  if (!claim || claim.current_run_id === null) throw new Error("claim failed");
  if (pid !== undefined) board.recordSpawn(task.id, pid, claim.current_run_id);
  return { id: task.id, runId: claim.current_run_id };
}

function lastEvent(id: string, kind: string) {
  const ev = board.listEvents(id).filter((e) => e.kind === kind);
  return ev[ev.length - 1];
}

function setStatus(id: string, status: string): void {
  boardInternals(board).sqlite.prepare("UPDATE tasks SET status = ? WHERE id = ?").run(status, id);
}

describe("editCompletedResult", () => {
  it("rewrites the result and the latest completed run's summary and metadata (event edited)", () => {
    const { id, runId } = claimed();
    board.completeTask(id, { result: "v1", summary: "first", metadata: { a: 1 } });
    board.clock.advance(60);
    const task = board.editCompletedResult(id, { result: "v2 result", summary: "second\nmore", metadata: { b: 2 } });
    expect(task).toMatchObject({ status: "done", result: "v2 result" });
    expect(board.getRun(runId)).toMatchObject({ summary: "second\nmore", metadata: { b: 2 }, outcome: "completed" });
    expect(board.listRuns(id)).toHaveLength(1);
    expect(lastEvent(id, "edited")).toMatchObject({
      run_id: runId,
      payload: { fields: ["result", "summary", "metadata"], result_len: 9, summary: "second" },
    });
  });

  it("uses the result as the summary when none is given and keeps the run's metadata", () => {
    const { id, runId } = claimed();
    board.completeTask(id, { result: "v1", metadata: { keep: true } });
    board.editCompletedResult(id, { result: "corrected" });
    expect(board.getRun(runId)).toMatchObject({ summary: "corrected", metadata: { keep: true } });
    expect(lastEvent(id, "edited")?.payload).toEqual({
      fields: ["result", "summary"],
      result_len: 9,
      summary: "corrected",
    });
  });

  it("synthesises a completed run for a done task that has none (backfill)", () => {
    const task = board.createTask({ title: "closed in bulk" });
    board.completeTask(task.id, {});
    expect(board.listRuns(task.id)).toEqual([]);
    board.editCompletedResult(task.id, { result: "what actually happened" });
    expect(board.listRuns(task.id)).toEqual([
      expect.objectContaining({
        outcome: "completed",
        status: "completed",
        summary: "what actually happened",
        started_at: board.clock.seconds,
        ended_at: board.clock.seconds,
      }),
    ]);
    expect(board.latestSummary(task.id)).toBe("what actually happened");
  });

  it("refuses a task that is not done, and an unknown one", () => {
    const { id } = claimed();
    const err = caught(() => board.editCompletedResult(id, { result: "x" }));
    expect(err.code).toBe("WRONG_STATE");
    expect(err.message).toBe(`cannot edit ${id}: only done tasks have a result to edit (status is 'running')`);
    expect(board.getTask(id)?.result).toBeNull();
    expect(caught(() => board.editCompletedResult("t_00000000", { result: "x" })).code).toBe("NOT_FOUND");
  });
});

describe("moveTask and setStatusDirect", () => {
  it("refuses running with the spec's text, on both the move and the direct write", () => {
    const task = board.createTask({ title: "t" });
    for (const fn of [
      () => board.moveTask(task.id, { status: "running" }),
      () => board.setStatusDirect(task.id, "running"),
    ]) {
      const err = caught(fn);
      expect(err.code).toBe("INVALID_INPUT");
      expect(err.message).toBe(RUNNING_REFUSED);
    }
    expect(board.getTask(task.id)?.status).toBe("ready");
  });

  it("refuses an unknown status with 'unknown status: <s>', on both the move and the direct write", () => {
    const task = board.createTask({ title: "t" });
    for (const fn of [
      () => board.moveTask(task.id, { status: "doing" }),
      () => board.setStatusDirect(task.id, "doing"),
    ]) {
      const err = caught(fn);
      expect(err.code).toBe("INVALID_INPUT");
      expect(err.message).toBe("unknown status: doing");
    }
    expect(board.getTask(task.id)?.status).toBe("ready");
  });

  it("refuses a move to review as an unknown status (A has no review verb)", () => {
    const task = board.createTask({ title: "t" });
    expect(caught(() => board.moveTask(task.id, { status: "review" })).message).toBe("unknown status: review");
  });

  it("refuses ready while parents are unfinished, naming each one", () => {
    const p1 = board.createTask({ title: "design" });
    const p2 = board.createTask({ title: "review copy" });
    boardInternals(board).sqlite.prepare("UPDATE tasks SET status = 'blocked' WHERE id = ?").run(p2.id);
    const child = board.createTask({ title: "build", parents: [p1.id, p2.id] });
    const [first, second] = [p1, p2].sort((a, b) => a.id.localeCompare(b.id));
    const expected = `Cannot move to 'ready': blocked by parent(s) not done — ${[first, second]
      .map((p) => `'${p?.title}' (${p?.id}, status=${p?.id === p2.id ? "blocked" : "ready"})`)
      .join(", ")}`;
    for (const fn of [
      () => board.moveTask(child.id, { status: "ready" }),
      () => board.setStatusDirect(child.id, "ready"),
    ]) {
      const err = caught(fn);
      expect(err.code).toBe("WRONG_STATE");
      expect(err.message).toBe(expected);
    }
    setStatus(child.id, "blocked");
    expect(caught(() => board.moveTask(child.id, { status: "ready" })).message).toBe(expected);
    expect(board.getTask(child.id)?.status).toBe("blocked");
  });

  it("a direct write away from running closes the run as reclaimed and reports the worker pid (status event)", () => {
    const { id, runId } = claimed(4321);
    board.clock.advance(15);
    const out = board.moveTask(id, { status: "todo" });
    expect(out.terminate).toEqual({ pid: 4321, lock: "testhost:4242" });
    expect(out.task).toMatchObject({
      status: "todo",
      claim_lock: null,
      claim_expires: null,
      worker_pid: null,
      current_run_id: null,
    });
    expect(board.getRun(runId)).toMatchObject({
      status: "reclaimed",
      outcome: "reclaimed",
      summary: "status changed to todo (dashboard/direct)",
      ended_at: board.clock.seconds,
    });
    expect(lastEvent(id, "status")).toMatchObject({
      run_id: runId,
      payload: expect.objectContaining({ status: "todo", requested_status: "todo" }),
    });
  });

  it("a direct write between non-running states creates no run", () => {
    const task = board.createTask({ title: "t" });
    board.setStatusDirect(task.id, "todo");
    const out = board.setStatusDirect(task.id, "ready");
    expect(out).toEqual({ task: expect.objectContaining({ status: "ready" }), terminate: null });
    expect(board.listRuns(task.id)).toEqual([]);
    expect(lastEvent(task.id, "status")?.run_id).toBeNull();
  });

  it("writing the current status again changes nothing", () => {
    const task = board.createTask({ title: "t" });
    const events = board.listEvents(task.id);
    expect(board.setStatusDirect(task.id, "ready").task.status).toBe("ready");
    expect(board.listEvents(task.id)).toEqual(events);
  });

  it("a direct write to done promotes children waiting on the task", () => {
    const parent = board.createTask({ title: "parent" });
    const child = board.createTask({ title: "child", parents: [parent.id] });
    board.setStatusDirect(parent.id, "done");
    expect(board.getTask(child.id)?.status).toBe("ready");
  });

  it("routes a move to done through completion (result and summary kept)", () => {
    const { id, runId } = claimed();
    const out = board.moveTask(id, { status: "done", result: "r", summary: "s" });
    expect(out).toEqual({ task: expect.objectContaining({ status: "done", result: "r" }), terminate: null });
    expect(board.getRun(runId)).toMatchObject({ outcome: "completed", summary: "s" });
  });

  it("routes a move to blocked through block (sticky blocked event) and reports a running worker", () => {
    const { id } = claimed(4322);
    const out = board.moveTask(id, { status: "blocked", reason: "needs a human" });
    expect(out.terminate).toEqual({ pid: 4322, lock: "testhost:4242" });
    expect(lastEvent(id, "blocked")?.payload).toEqual({ reason: "needs a human" });
    board.recomputeReady();
    expect(board.getTask(id)?.status).toBe("blocked");
  });

  it("refuses a move to blocked from a status that cannot block", () => {
    const task = board.createTask({ title: "t" });
    setStatus(task.id, "todo");
    const err = caught(() => board.moveTask(task.id, { status: "blocked" }));
    expect(err.code).toBe("WRONG_STATE");
    expect(err.message).toBe("status transition to 'blocked' not valid from current state");
  });

  it("routes a move to ready from blocked through unblock (breaker reset)", () => {
    board.cleanup();
    board = createTestBoard({ failureLimit: 1 }); // one failure trips the breaker
    const task = board.createTask({ title: "t" });
    board.recordTaskFailure(task.id, { error: "x", outcome: "crashed" });
    const out = board.moveTask(task.id, { status: "ready" });
    expect(out.task).toMatchObject({ status: "ready", consecutive_failures: 0 });
    expect(lastEvent(task.id, "unblocked")).toBeDefined();
  });

  it("routes moves to scheduled and archived through their verbs", () => {
    const a = board.createTask({ title: "a" });
    board.moveTask(a.id, { status: "scheduled", reason: "next week" });
    expect(lastEvent(a.id, "scheduled")?.payload).toEqual({ reason: "next week" });
    const { id } = claimed(4323);
    const out = board.moveTask(id, { status: "archived" });
    expect(out.terminate).toEqual({ pid: 4323, lock: "testhost:4242" });
    expect(lastEvent(id, "archived")).toBeDefined();
  });

  it("refuses an unknown task with NOT_FOUND", () => {
    expect(caught(() => board.moveTask("t_00000000", { status: "todo" })).code).toBe("NOT_FOUND");
    expect(caught(() => board.setStatusDirect("t_00000000", "todo")).code).toBe("NOT_FOUND");
  });
});
