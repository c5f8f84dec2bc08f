import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { claimHolder, workerToStop } from "./termination.ts";
import { boardInternals, createTestBoard, type TestBoard } from "./testing/index.ts";
import type { Task } from "./types.ts";

describe("which worker to terminate (termination.ts, the one rule)", () => {
  let b: TestBoard;
  const ctx = () => boardInternals(b).ctx;
  beforeEach(() => {
    b = createTestBoard({ hostname: "testhost", pid: 4242 });
  });
  afterEach(() => b.cleanup());

  async function spawned(): Promise<Task> {
    const id = (await b.createTask({ title: "t" })).id;
    const claimed = (await b.claimTask(id)) as Task;
    await b.recordSpawn(id, 777, claimed.current_run_id as number);
    return await b.requireTask(id);
  }

  it("a running task claimed on this host with a pid: both rules name its worker", async () => {
    const task = await spawned();
    expect(workerToStop(ctx(), task)).toEqual({ pid: 777, lock: "testhost:4242" });
    expect(claimHolder(ctx(), task)).toEqual({ pid: 777, lock: "testhost:4242" });
  });

  it("a claim from another host names some other machine's process: nobody to stop here", async () => {
    const task = { ...(await spawned()), claim_lock: "otherhost:1" };
    expect(workerToStop(ctx(), task)).toBeNull();
    expect(claimHolder(ctx(), task)).toBeNull();
  });

  it("no recorded pid (or a non-positive one): nobody to stop", async () => {
    const task = await spawned();
    expect(claimHolder(ctx(), { ...task, worker_pid: null })).toBeNull();
    expect(claimHolder(ctx(), { ...task, worker_pid: 0 })).toBeNull();
  });

  it("a lock left on a task that is no longer running: a reclaim still stops its holder, a person's release does not", async () => {
    const task = { ...(await spawned()), status: "blocked" };
    expect(claimHolder(ctx(), task)).toEqual({ pid: 777, lock: "testhost:4242" });
    expect(workerToStop(ctx(), task)).toBeNull();
  });
});
