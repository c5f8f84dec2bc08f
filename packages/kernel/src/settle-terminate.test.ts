import { useTestBoards } from "./testing/helpers.ts";
import { beforeEach, describe, expect, it } from "vitest";
import type { TestBoard } from "./testing/index.ts";
import type { Task } from "./types.ts";

const boards = useTestBoards();

// complete/block/schedule release the claim of the task they settle; their result names the worker
// the caller must stop when someone other than that worker settled it (interface 2 of wave 3).
describe("complete, block and schedule report the worker they released", () => {
  let b: TestBoard;
  beforeEach(() => {
    b = boards({ hostname: "testhost", pid: 4242 });
  });

  /** A running task whose worker (pid 777) was spawned on this host. */
  async function spawned(): Promise<Task> {
    const id = (await b.createTask({ title: "t" })).id;
    const claimed = (await b.claimTask(id)) as Task;
    await b.recordSpawn(id, 777, claimed.current_run_id as number);
    return await b.requireTask(id);
  }

  const worker = { pid: 777, lock: "testhost:4242" };

  it("an unfenced call (a person) under a live worker: that worker is to be stopped", async () => {
    expect((await b.completeTask((await spawned()).id, { summary: "done by hand" })).terminate).toEqual(worker);
    expect((await b.blockTask((await spawned()).id, { reason: "needs a human" })).terminate).toEqual(worker);
    expect((await b.scheduleTask((await spawned()).id, { reason: "after the release" })).terminate).toEqual(worker);
  });

  it("a call fenced by run id or claim lock is the worker itself: nobody to stop", async () => {
    const a = await spawned();
    expect((await b.completeTask(a.id, { summary: "ok", expected_run_id: a.current_run_id })).terminate).toBeNull();
    const c = await spawned();
    expect((await b.blockTask(c.id, { reason: "stuck", claim_lock: c.claim_lock })).terminate).toBeNull();
    const d = await spawned();
    expect((await b.scheduleTask(d.id, { reason: "later", expected_run_id: d.current_run_id })).terminate).toBeNull();
  });

  it("a task nobody was running (ready): nobody to stop", async () => {
    expect((await b.completeTask((await b.createTask({ title: "r1" })).id, { summary: "s" })).terminate).toBeNull();
    expect((await b.blockTask((await b.createTask({ title: "r2" })).id)).terminate).toBeNull();
    expect((await b.scheduleTask((await b.createTask({ title: "r3" })).id)).terminate).toBeNull();
  });

  it("the worker is named from the row before the release (the settled row no longer has a claim)", async () => {
    const t = await spawned();
    const out = await b.completeTask(t.id, { result: "r" });
    expect(out.task).toMatchObject({ status: "done", claim_lock: null, worker_pid: null });
    expect(out.terminate).toEqual(worker);
  });

  it("another host's claim names some other machine's process: nobody to stop here", async () => {
    const id = (await b.createTask({ title: "remote" })).id;
    const claimed = (await b.claimTask(id, { claimer: "otherhost:1" })) as Task;
    await b.recordSpawn(id, 888, claimed.current_run_id as number);
    expect((await b.blockTask(id, { reason: "r" })).terminate).toBeNull();
  });
});
