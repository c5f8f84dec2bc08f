import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createTestBoard, type TestBoard } from "./testing/index.ts";
import type { Task } from "./types.ts";

// complete/block/schedule release the claim of the task they settle; their result names the worker
// the caller must stop when someone other than that worker settled it (interface 2 of wave 3).
describe("complete, block and schedule report the worker they released", () => {
  let b: TestBoard;
  beforeEach(() => {
    b = createTestBoard({ hostname: "testhost", pid: 4242 });
  });
  afterEach(() => b.cleanup());

  /** A running task whose worker (pid 777) was spawned on this host. */
  function spawned(): Task {
    const id = b.createTask({ title: "t" }).id;
    const claimed = b.claimTask(id) as Task;
    b.recordSpawn(id, 777, claimed.current_run_id as number);
    return b.requireTask(id);
  }

  const worker = { pid: 777, lock: "testhost:4242" };

  it("an unfenced call (a person) under a live worker: that worker is to be stopped", () => {
    expect(b.completeTask(spawned().id, { summary: "done by hand" }).terminate).toEqual(worker);
    expect(b.blockTask(spawned().id, { reason: "needs a human" }).terminate).toEqual(worker);
    expect(b.scheduleTask(spawned().id, { reason: "after the release" }).terminate).toEqual(worker);
  });

  it("a call fenced by run id or claim lock is the worker itself: nobody to stop", () => {
    const a = spawned();
    expect(b.completeTask(a.id, { summary: "ok", expected_run_id: a.current_run_id }).terminate).toBeNull();
    const c = spawned();
    expect(b.blockTask(c.id, { reason: "stuck", claim_lock: c.claim_lock }).terminate).toBeNull();
    const d = spawned();
    expect(b.scheduleTask(d.id, { reason: "later", expected_run_id: d.current_run_id }).terminate).toBeNull();
  });

  it("a task nobody was running (ready): nobody to stop", () => {
    expect(b.completeTask(b.createTask({ title: "r1" }).id, { summary: "s" }).terminate).toBeNull();
    expect(b.blockTask(b.createTask({ title: "r2" }).id).terminate).toBeNull();
    expect(b.scheduleTask(b.createTask({ title: "r3" }).id).terminate).toBeNull();
  });

  it("the worker is named from the row before the release (the settled row no longer has a claim)", () => {
    const t = spawned();
    const out = b.completeTask(t.id, { result: "r" });
    expect(out.task).toMatchObject({ status: "done", claim_lock: null, worker_pid: null });
    expect(out.terminate).toEqual(worker);
  });

  it("another host's claim names some other machine's process: nobody to stop here", () => {
    const id = b.createTask({ title: "remote" }).id;
    const claimed = b.claimTask(id, { claimer: "otherhost:1" }) as Task;
    b.recordSpawn(id, 888, claimed.current_run_id as number);
    expect(b.blockTask(id, { reason: "r" }).terminate).toBeNull();
  });
});
