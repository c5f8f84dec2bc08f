import { beforeEach, describe, expect, it } from "vitest";
import { rawSql, type TestBoard } from "./testing/index.ts";
import { caught, useTestBoards } from "./testing/helpers.ts";

const boards = useTestBoards();

let board: TestBoard;
beforeEach(() => {
  board = boards();
});

const RUNNING_REFUSED = "Cannot set status to 'running' directly; use the dispatcher/claim path";

async function claimed(pid?: number): Promise<{ id: string; runId: number }> {
  const task = await board.createTask({ title: "work", assignee: "coder" });
  const claim = await board.claimTask(task.id);
  if (!claim || claim.current_run_id === null) throw new Error("claim failed");
  if (pid !== undefined) await board.recordSpawn(task.id, pid, claim.current_run_id);
  return { id: task.id, runId: claim.current_run_id };
}

async function lastEvent(id: string, kind: string) {
  const ev = (await board.listEvents(id)).filter((e) => e.kind === kind);
  return ev[ev.length - 1];
}

async function setStatus(id: string, status: string): Promise<void> {
  await rawSql(board).run("UPDATE tasks SET status = ? WHERE id = ?", status, id);
}

describe("editCompletedResult", () => {
  it("rewrites the result and the latest completed run's summary and metadata (event edited)", async () => {
    const { id, runId } = await claimed();
    await board.completeTask(id, { result: "v1", summary: "first", metadata: { a: 1 } });
    board.clock.advance(60);
    const task = await board.editCompletedResult(id, {
      result: "v2 result",
      summary: "second\nmore",
      metadata: { b: 2 },
    });
    expect(task).toMatchObject({ status: "done", result: "v2 result" });
    expect(await board.getRun(runId)).toMatchObject({
      summary: "second\nmore",
      metadata: { b: 2 },
      outcome: "completed",
    });
    expect(await board.listRuns(id)).toHaveLength(1);
    expect(await lastEvent(id, "edited")).toMatchObject({
      run_id: runId,
      payload: { fields: ["result", "summary", "metadata"], result_len: 9, summary: "second" },
    });
  });

  it("uses the result as the summary when none is given and keeps the run's metadata", async () => {
    const { id, runId } = await claimed();
    await board.completeTask(id, { result: "v1", metadata: { keep: true } });
    await board.editCompletedResult(id, { result: "corrected" });
    expect(await board.getRun(runId)).toMatchObject({ summary: "corrected", metadata: { keep: true } });
    expect((await lastEvent(id, "edited"))?.payload).toEqual({
      fields: ["result", "summary"],
      result_len: 9,
      summary: "corrected",
    });
  });

  it("synthesises a completed run for a done task that has none (backfill)", async () => {
    const task = await board.createTask({ title: "closed in bulk" });
    await board.completeTask(task.id, {});
    expect(await board.listRuns(task.id)).toEqual([]);
    await board.editCompletedResult(task.id, { result: "what actually happened" });
    expect(await board.listRuns(task.id)).toEqual([
      expect.objectContaining({
        outcome: "completed",
        status: "completed",
        summary: "what actually happened",
        started_at: board.clock.seconds,
        ended_at: board.clock.seconds,
      }),
    ]);
    expect(await board.latestSummary(task.id)).toBe("what actually happened");
  });

  it("refuses a task that is not done, and an unknown one", async () => {
    const { id } = await claimed();
    const err = await caught(async () => await board.editCompletedResult(id, { result: "x" }));
    expect(err.code).toBe("WRONG_STATE");
    expect(err.message).toBe(`cannot edit ${id}: only done tasks have a result to edit (status is 'running')`);
    expect((await board.getTask(id))?.result).toBeNull();
    expect((await caught(async () => await board.editCompletedResult("t_00000000", { result: "x" }))).code).toBe(
      "NOT_FOUND",
    );
  });
});

describe("moveTask and setStatusDirect", () => {
  it("refuses running with the spec's text, on both the move and the direct write", async () => {
    const task = await board.createTask({ title: "t" });
    for (const fn of [
      async () => await board.moveTask(task.id, { status: "running" }),
      async () => await board.setStatusDirect(task.id, "running"),
    ]) {
      const err = await caught(fn);
      expect(err.code).toBe("INVALID_INPUT");
      expect(err.message).toBe(RUNNING_REFUSED);
    }
    expect((await board.getTask(task.id))?.status).toBe("ready");
  });

  it("refuses an unknown status with 'unknown status: <s>', on both the move and the direct write", async () => {
    const task = await board.createTask({ title: "t" });
    for (const fn of [
      async () => await board.moveTask(task.id, { status: "doing" }),
      async () => await board.setStatusDirect(task.id, "doing"),
    ]) {
      const err = await caught(fn);
      expect(err.code).toBe("INVALID_INPUT");
      expect(err.message).toBe("unknown status: doing");
    }
    expect((await board.getTask(task.id))?.status).toBe("ready");
  });

  it("a move to review hands the card to its assignee as reviewer; a move out of review reopens it (Hermes B)", async () => {
    const task = await board.createTask({ title: "t", assignee: "critic" });
    const moved = await board.moveTask(task.id, { status: "review" });
    expect(moved.task).toMatchObject({ status: "review", assignee: "critic" });
    const back = await board.moveTask(task.id, { status: "ready" });
    expect(back.task.status).toBe("ready");
    expect((await board.listEvents(task.id)).map((e) => e.kind)).toEqual(
      expect.arrayContaining(["review_requested", "review_reopened"]),
    );
    const nobody = await board.createTask({ title: "unassigned" });
    expect((await caught(async () => await board.moveTask(nobody.id, { status: "review" }))).code).toBe(
      "INVALID_INPUT",
    );
  });

  it("refuses ready while parents are unfinished, naming each one", async () => {
    const p1 = await board.createTask({ title: "design" });
    const p2 = await board.createTask({ title: "review copy" });
    await rawSql(board).run("UPDATE tasks SET status = 'blocked' WHERE id = ?", p2.id);
    const child = await board.createTask({ title: "build", parents: [p1.id, p2.id] });
    const [first, second] = [p1, p2].sort((a, b) => a.id.localeCompare(b.id));
    const expected = `Cannot move to 'ready': blocked by parent(s) not done — ${[first, second]
      .map((p) => `'${p?.title}' (${p?.id}, status=${p?.id === p2.id ? "blocked" : "ready"})`)
      .join(", ")}`;
    for (const fn of [
      async () => await board.moveTask(child.id, { status: "ready" }),
      async () => await board.setStatusDirect(child.id, "ready"),
    ]) {
      const err = await caught(fn);
      expect(err.code).toBe("WRONG_STATE");
      expect(err.message).toBe(expected);
    }
    await setStatus(child.id, "blocked");
    expect((await caught(async () => await board.moveTask(child.id, { status: "ready" }))).message).toBe(expected);
    expect((await board.getTask(child.id))?.status).toBe("blocked");
  });

  it("a direct write away from running closes the run as reclaimed and reports the worker pid (status event)", async () => {
    const { id, runId } = await claimed(4321);
    board.clock.advance(15);
    const out = await board.moveTask(id, { status: "todo" });
    expect(out.terminate).toEqual({ pid: 4321, lock: "testhost:4242" });
    expect(out.task).toMatchObject({
      status: "todo",
      claim_lock: null,
      claim_expires: null,
      worker_pid: null,
      current_run_id: null,
    });
    expect(await board.getRun(runId)).toMatchObject({
      status: "reclaimed",
      outcome: "reclaimed",
      summary: "status changed to todo (dashboard/direct)",
      ended_at: board.clock.seconds,
    });
    expect(await lastEvent(id, "status")).toMatchObject({
      run_id: runId,
      payload: expect.objectContaining({ status: "todo", requested_status: "todo" }),
    });
  });

  it("a direct write between non-running states creates no run", async () => {
    const task = await board.createTask({ title: "t" });
    await board.setStatusDirect(task.id, "todo");
    const out = await board.setStatusDirect(task.id, "ready");
    expect(out).toEqual({ task: expect.objectContaining({ status: "ready" }), terminate: null });
    expect(await board.listRuns(task.id)).toEqual([]);
    expect((await lastEvent(task.id, "status"))?.run_id).toBeNull();
  });

  it("writing the current status again changes nothing", async () => {
    const task = await board.createTask({ title: "t" });
    const events = await board.listEvents(task.id);
    expect((await board.setStatusDirect(task.id, "ready")).task.status).toBe("ready");
    expect(await board.listEvents(task.id)).toEqual(events);
  });

  it("a direct write to done promotes children waiting on the task", async () => {
    const parent = await board.createTask({ title: "parent" });
    const child = await board.createTask({ title: "child", parents: [parent.id] });
    await board.setStatusDirect(parent.id, "done");
    expect((await board.getTask(child.id))?.status).toBe("ready");
  });

  it("routes a move to done through completion (result and summary kept)", async () => {
    const { id, runId } = await claimed();
    const out = await board.moveTask(id, { status: "done", result: "r", summary: "s" });
    expect(out).toEqual({ task: expect.objectContaining({ status: "done", result: "r" }), terminate: null });
    expect(await board.getRun(runId)).toMatchObject({ outcome: "completed", summary: "s" });
  });

  it("routes a move to blocked through block (sticky blocked event) and reports a running worker", async () => {
    const { id } = await claimed(4322);
    const out = await board.moveTask(id, { status: "blocked", reason: "needs a human" });
    expect(out.terminate).toEqual({ pid: 4322, lock: "testhost:4242" });
    expect((await lastEvent(id, "blocked"))?.payload).toEqual({ reason: "needs a human" });
    await board.recomputeReady();
    expect((await board.getTask(id))?.status).toBe("blocked");
  });

  it("refuses a move to blocked from a status that cannot block", async () => {
    const task = await board.createTask({ title: "t" });
    await setStatus(task.id, "todo");
    const err = await caught(async () => await board.moveTask(task.id, { status: "blocked" }));
    expect(err.code).toBe("WRONG_STATE");
    expect(err.message).toBe("status transition to 'blocked' not valid from current state");
  });

  it("routes a move to ready from blocked through unblock (breaker reset)", async () => {
    board = boards({ failureLimit: 1 }); // one failure trips the breaker
    const task = await board.createTask({ title: "t" });
    await board.recordTaskFailure(task.id, { error: "x", outcome: "crashed" });
    const out = await board.moveTask(task.id, { status: "ready" });
    expect(out.task).toMatchObject({ status: "ready", consecutive_failures: 0 });
    expect(await lastEvent(task.id, "unblocked")).toBeDefined();
  });

  it("routes moves to scheduled and archived through their verbs", async () => {
    const a = await board.createTask({ title: "a" });
    await board.moveTask(a.id, { status: "scheduled", reason: "next week" });
    expect((await lastEvent(a.id, "scheduled"))?.payload).toEqual({ reason: "next week" });
    const { id } = await claimed(4323);
    const out = await board.moveTask(id, { status: "archived" });
    expect(out.terminate).toEqual({ pid: 4323, lock: "testhost:4242" });
    expect(await lastEvent(id, "archived")).toBeDefined();
  });

  it("refuses an unknown task with NOT_FOUND", async () => {
    expect((await caught(async () => await board.moveTask("t_00000000", { status: "todo" }))).code).toBe("NOT_FOUND");
    expect((await caught(async () => await board.setStatusDirect("t_00000000", "todo"))).code).toBe("NOT_FOUND");
  });
});
