import { beforeEach, describe, expect, it } from "vitest";
import { caught, useTestBoards } from "./testing/helpers.ts";
import type { TestBoard } from "./testing/index.ts";

const boards = useTestBoards();

let board: TestBoard;
beforeEach(() => {
  board = boards();
});

/** Event kinds after `created`, with the `edited` events' field lists spelled out. */
async function history(id: string): Promise<string[]> {
  return (await board.listEvents(id))
    .filter((e) => e.kind !== "created")
    .map((e) => (e.kind === "edited" ? `edited:${((e.payload?.fields ?? []) as string[]).join(",")}` : e.kind));
}

async function claimed(pid = 9001): Promise<string> {
  const task = await board.createTask({ title: "work", assignee: "coder" });
  const claim = await board.claimTask(task.id);
  if (!claim || claim.current_run_id === null) throw new Error("claim failed");
  await board.recordSpawn(task.id, pid, claim.current_run_id);
  return task.id;
}

describe("patchTask", () => {
  it("applies assignee, status, model override, priority, then title/body/limits, in that order", async () => {
    const task = await board.createTask({ title: "draft", assignee: "alice" });
    const out = await board.patchTask(task.id, {
      title: "final",
      body: "the body",
      max_retries: 3,
      priority: 5,
      model_override: "big-model",
      status: "blocked",
      block_reason: "waiting on legal",
      assignee: "Bob",
    });
    expect(await history(task.id)).toEqual([
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

  it("judges the assignee before the status: a running task refuses a new assignee even when the patch would block it", async () => {
    const id = await claimed();
    expect((await caught(async () => await board.patchTask(id, { assignee: "bob", status: "blocked" }))).code).toBe(
      "WRONG_STATE",
    );
    expect(await board.requireTask(id)).toMatchObject({ status: "running", assignee: "coder" });
    expect((await board.requireTask(id)).claim_lock).not.toBeNull();
    expect(await history(id)).toEqual(["claimed", "spawned"]);
  });

  it("is one transaction: a refused status undoes the assignee change before it", async () => {
    const parent = await board.createTask({ title: "parent" });
    const child = await board.createTask({ title: "child", assignee: "alice", parents: [parent.id] });
    expect(child.status).toBe("todo");
    // ready needs finished parents: the move is refused after the reassignment went through.
    expect((await caught(async () => await board.patchTask(child.id, { assignee: "bob", status: "ready" }))).code).toBe(
      "WRONG_STATE",
    );
    expect(
      (await caught(async () => await board.patchTask(child.id, { assignee: "bob", status: "no-such-status" }))).code,
    ).toBe("INVALID_INPUT");
    expect(await board.requireTask(child.id)).toMatchObject({ status: "todo", assignee: "alice" });
    expect(await history(child.id)).toEqual([]);
  });

  it("is one transaction: a refused edit after the status move keeps the task claimed and stops no one", async () => {
    const id = await claimed();
    expect((await caught(async () => await board.patchTask(id, { status: "blocked", title: "   " }))).code).toBe(
      "INVALID_INPUT",
    );
    const task = await board.requireTask(id);
    expect(task).toMatchObject({ status: "running", title: "work", worker_pid: 9001 });
    expect(task.claim_lock).not.toBeNull();
    expect(await board.activeRun(id)).not.toBeNull();
    expect(await history(id)).toEqual(["claimed", "spawned"]);
  });

  it("re-sending the current assignee while running is no change: the rest of the patch applies", async () => {
    const id = await claimed();
    const out = await board.patchTask(id, { assignee: " Coder ", title: "renamed" });
    expect(out.task).toMatchObject({ status: "running", assignee: "coder", title: "renamed" });
    expect(out.terminate).toBeNull();
    expect(await history(id)).toEqual(["claimed", "spawned", "edited:title"]);
  });

  it("reports the worker to stop when the status move released its claim", async () => {
    const id = await claimed(9002);
    const out = await board.patchTask(id, { status: "blocked", block_reason: "needs a person" });
    expect(out.task.status).toBe("blocked");
    expect(out.terminate).toMatchObject({ pid: 9002 });
  });

  it("clear_model_override wins over a model_override in the same patch", async () => {
    const task = await board.createTask({ title: "t", model_override: "old" });
    const out = await board.patchTask(task.id, { model_override: "new", clear_model_override: true });
    expect(out.task.model_override).toBeNull();
  });

  it("refuses an unknown task with NOT_FOUND", async () => {
    expect((await caught(async () => await board.patchTask("t_missing", { title: "x" }))).code).toBe("NOT_FOUND");
  });
});
