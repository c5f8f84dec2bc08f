import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { caught } from "./testing/helpers.ts";
import { createTestBoard, type TestBoard } from "./testing/index.ts";

let board: TestBoard;
beforeEach(() => {
  board = createTestBoard();
});
afterEach(() => board.cleanup());

/** Event kinds after `created`, with the `edited` events' field lists spelled out. */
function history(id: string): string[] {
  return board
    .listEvents(id)
    .filter((e) => e.kind !== "created")
    .map((e) => (e.kind === "edited" ? `edited:${((e.payload?.fields ?? []) as string[]).join(",")}` : e.kind));
}

function claimed(pid = 9001): string {
  const task = board.createTask({ title: "work", assignee: "coder" });
  const claim = board.claimTask(task.id);
  if (!claim || claim.current_run_id === null) throw new Error("claim failed");
  board.recordSpawn(task.id, pid, claim.current_run_id);
  return task.id;
}

describe("patchTask", () => {
  it("applies assignee, status, model override, priority, then title/body/limits, in that order", () => {
    const task = board.createTask({ title: "draft", assignee: "alice" });
    const out = board.patchTask(task.id, {
      title: "final",
      body: "the body",
      max_retries: 3,
      priority: 5,
      model_override: "big-model",
      status: "blocked",
      block_reason: "waiting on legal",
      assignee: "Bob",
    });
    expect(history(task.id)).toEqual([
      "assigned",
      "blocked",
      "edited:model_override",
      "reprioritized",
      "edited:title,body,max_retries",
    ]);
    expect(out.task).toMatchObject({
      status: "blocked",
      assignee: "bob",
      model_override: "big-model",
      priority: 5,
      title: "final",
      body: "the body",
      max_retries: 3,
    });
    expect(out.terminate).toBeNull();
  });

  it("judges the assignee before the status: a running task refuses a new assignee even when the patch would block it", () => {
    const id = claimed();
    expect(caught(() => board.patchTask(id, { assignee: "bob", status: "blocked" })).code).toBe("WRONG_STATE");
    expect(board.requireTask(id)).toMatchObject({ status: "running", assignee: "coder" });
    expect(board.requireTask(id).claim_lock).not.toBeNull();
    expect(history(id)).toEqual(["claimed", "spawned"]);
  });

  it("is one transaction: a refused status undoes the assignee change before it", () => {
    const parent = board.createTask({ title: "parent" });
    const child = board.createTask({ title: "child", assignee: "alice", parents: [parent.id] });
    expect(child.status).toBe("todo");
    // ready needs finished parents: the move is refused after the reassignment went through.
    expect(caught(() => board.patchTask(child.id, { assignee: "bob", status: "ready" })).code).toBe("WRONG_STATE");
    expect(caught(() => board.patchTask(child.id, { assignee: "bob", status: "no-such-status" })).code).toBe(
      "INVALID_INPUT",
    );
    expect(board.requireTask(child.id)).toMatchObject({ status: "todo", assignee: "alice" });
    expect(history(child.id)).toEqual([]);
  });

  it("is one transaction: a refused edit after the status move keeps the task claimed and stops no one", () => {
    const id = claimed();
    expect(caught(() => board.patchTask(id, { status: "blocked", title: "   " })).code).toBe("INVALID_INPUT");
    const task = board.requireTask(id);
    expect(task).toMatchObject({ status: "running", title: "work", worker_pid: 9001 });
    expect(task.claim_lock).not.toBeNull();
    expect(board.activeRun(id)).not.toBeNull();
    expect(history(id)).toEqual(["claimed", "spawned"]);
  });

  it("re-sending the current assignee while running is no change: the rest of the patch applies", () => {
    const id = claimed();
    const out = board.patchTask(id, { assignee: " Coder ", title: "renamed" });
    expect(out.task).toMatchObject({ status: "running", assignee: "coder", title: "renamed" });
    expect(out.terminate).toBeNull();
    expect(history(id)).toEqual(["claimed", "spawned", "edited:title"]);
  });

  it("reports the worker to stop when the status move released its claim", () => {
    const id = claimed(9002);
    const out = board.patchTask(id, { status: "blocked", block_reason: "needs a person" });
    expect(out.task.status).toBe("blocked");
    expect(out.terminate).toMatchObject({ pid: 9002 });
  });

  it("clear_model_override wins over a model_override in the same patch", () => {
    const task = board.createTask({ title: "t", model_override: "old" });
    const out = board.patchTask(task.id, { model_override: "new", clear_model_override: true });
    expect(out.task.model_override).toBeNull();
  });

  it("refuses an unknown task with NOT_FOUND", () => {
    expect(caught(() => board.patchTask("t_missing", { title: "x" })).code).toBe("NOT_FOUND");
  });
});
