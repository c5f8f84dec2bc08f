import { useTestBoards } from "./testing/helpers.ts";
import { beforeEach, describe, expect, it } from "vitest";
import { claimHolder, endedRuns, workerToStop } from "./termination.ts";
import { boardInternals, type TestBoard } from "./testing/index.ts";
import type { Task } from "./types.ts";

const boards = useTestBoards();

describe("which worker to terminate (termination.ts, the one rule)", () => {
  let b: TestBoard;
  const ctx = () => boardInternals(b).ctx;
  beforeEach(() => {
    b = boards({ hostname: "testhost", pid: 4242 });
  });

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

describe("which runs a host must stop (endedRuns) and the record of what it stopped", () => {
  let b: TestBoard;
  const ctx = () => boardInternals(b).ctx;
  beforeEach(() => {
    b = boards({ hostname: "testhost", pid: 4242 });
  });

  async function running(title: string): Promise<{ id: string; run: number }> {
    const id = (await b.createTask({ title })).id;
    const claimed = (await b.claimTask(id)) as Task;
    await b.recordSpawn(id, 700, claimed.current_run_id as number);
    return { id, run: claimed.current_run_id as number };
  }

  it("a running task's current run is live; completed, blocked, reclaimed, archived and deleted runs are not", async () => {
    const live = await running("live");
    const done = await running("done");
    const blocked = await running("blocked");
    const reclaimed = await running("reclaimed");
    const archived = await running("archived");
    const deleted = await running("deleted");
    await b.completeTask(done.id, { summary: "ok", expected_run_id: done.run });
    await b.blockTask(blocked.id, { reason: "wait" });
    await b.reclaimTask(reclaimed.id, { reason: "test" });
    // Its next run is live, the old one is not: processes of run 1 must go while run 2 works.
    const again = (await b.claimTask(reclaimed.id)) as Task;
    await b.archiveTask(archived.id);
    await b.deleteTask(deleted.id);
    const all = [
      live.run,
      done.run,
      blocked.run,
      reclaimed.run,
      again.current_run_id as number,
      archived.run,
      deleted.run,
    ];
    const ended = await endedRuns(ctx(), [...all, 999_999]);
    expect(Object.fromEntries(ended.map((e) => [e.run_id, [e.task_id, e.outcome]]))).toEqual({
      [done.run]: [done.id, "completed"],
      [blocked.run]: [blocked.id, "blocked"],
      [reclaimed.run]: [reclaimed.id, "reclaimed"],
      [archived.run]: [archived.id, "reclaimed"],
      [deleted.run]: [null, "deleted"],
      999999: [null, "deleted"],
    });
    // When each closed (the sweep gives a worker that settled its own card a moment to exit first).
    const at = Object.fromEntries(ended.map((e) => [e.run_id, e.ended_at]));
    expect(at[done.run]).toBe(b.now());
    expect(at[deleted.run]).toBeNull();
  });

  it("what was stopped is a terminal_worker_reaped event on the task (pids, how many, SIGKILL); a deleted task gets none", async () => {
    const t = await running("t");
    await b.reclaimTask(t.id, { reason: "test" });
    const stopped = {
      pids: [700, 701, 702],
      killed: [702],
      run_outcome: "reclaimed",
      by: "dispatcher pid 1 on testhost",
    };
    expect(await b.recordTreeStopped(t.id, t.run, stopped, 700)).toBe(true);
    const events = await b.eventsAfter(0, { kinds: ["terminal_worker_reaped"], limit: 10 });
    expect(events).toHaveLength(1);
    expect(events[0]?.run_id).toBe(t.run);
    expect(events[0]?.payload).toMatchObject({
      pid: 700,
      run_id: t.run,
      pids: [700, 701, 702],
      count: 3,
      killed: [702],
      sigkill: true,
      terminated: true,
    });
    await b.deleteTask(t.id);
    expect(await b.recordTreeStopped(t.id, t.run, stopped, 700)).toBe(false);
  });
});
