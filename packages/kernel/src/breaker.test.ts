import { useTestBoards } from "./testing/helpers.ts";
import { beforeEach, describe, expect, it } from "vitest";
import type { TestBoard } from "./testing/index.ts";

const boards = useTestBoards();

let board: TestBoard;
/** The board's failure limit (config's `failure_limit`), asked live; a test may change it. */
let limit = 2;
beforeEach(() => {
  limit = 2;
  board = boards({ failureLimit: () => limit });
});

async function claimed(opts: { max_retries?: number } = {}): Promise<{ id: string; runId: number }> {
  const task = await board.createTask({ title: "work", assignee: "coder", max_retries: opts.max_retries });
  return { id: task.id, runId: await claimAgain(task.id) };
}

async function claimAgain(id: string): Promise<number> {
  const claim = await board.claimTask(id);
  if (!claim || claim.current_run_id === null) throw new Error("claim failed");
  return claim.current_run_id;
}

async function lastEvent(id: string, kind: string) {
  const ev = (await board.listEvents(id)).filter((e) => e.kind === kind);
  return ev[ev.length - 1];
}

describe("recordTaskFailure (crash/timeout path)", () => {
  it("below the limit stores the counter and the error and leaves the status alone", async () => {
    const task = await board.createTask({ title: "t" });
    expect(await board.recordTaskFailure(task.id, { error: "pid 1 not alive", outcome: "crashed" })).toBe(false);
    expect(await board.getTask(task.id)).toMatchObject({
      status: "ready",
      consecutive_failures: 1,
      last_failure_error: "pid 1 not alive",
    });
    expect((await board.listEvents(task.id)).map((e) => e.kind)).toEqual(["created"]);
  });

  it("trips at the default limit of 2: blocked with a gave_up event (limit_source dispatcher)", async () => {
    const task = await board.createTask({ title: "t" });
    await board.recordTaskFailure(task.id, { error: "first", outcome: "crashed" });
    expect(await board.recordTaskFailure(task.id, { error: "second", outcome: "timed_out" })).toBe(true);
    expect(await board.getTask(task.id)).toMatchObject({
      status: "blocked",
      consecutive_failures: 2,
      last_failure_error: "second",
    });
    expect(await lastEvent(task.id, "gave_up")).toMatchObject({
      run_id: null,
      payload: {
        failures: 2,
        effective_limit: 2,
        limit_source: "dispatcher",
        error: "second",
        trigger_outcome: "timed_out",
      },
    });
  });

  it("uses the dispatcher's failure limit when the task has no max_retries", async () => {
    limit = 4;
    const task = await board.createTask({ title: "t" });
    for (let i = 1; i < 4; i++)
      expect(await board.recordTaskFailure(task.id, { error: `e${i}`, outcome: "crashed" })).toBe(false);
    expect(await board.recordTaskFailure(task.id, { error: "e4", outcome: "crashed" })).toBe(true);
    expect((await lastEvent(task.id, "gave_up"))?.payload).toMatchObject({
      failures: 4,
      effective_limit: 4,
      limit_source: "dispatcher",
    });
  });

  it("lets a per-task max_retries above the dispatcher limit win (limit_source task)", async () => {
    limit = 2;
    const task = await board.createTask({ title: "t", max_retries: 5 });
    for (let i = 1; i < 5; i++)
      expect(await board.recordTaskFailure(task.id, { error: `e${i}`, outcome: "crashed" })).toBe(false);
    expect((await board.getTask(task.id))?.status).toBe("ready");
    expect(await board.recordTaskFailure(task.id, { error: "e5", outcome: "crashed" })).toBe(true);
    expect((await lastEvent(task.id, "gave_up"))?.payload).toMatchObject({
      failures: 5,
      effective_limit: 5,
      limit_source: "task",
    });
  });

  it("lets a per-task max_retries below the dispatcher limit win: max_retries 1 trips on the first failure", async () => {
    limit = 10;
    const task = await board.createTask({ title: "t", max_retries: 1 });
    expect(await board.recordTaskFailure(task.id, { error: "once", outcome: "crashed" })).toBe(true);
    expect((await lastEvent(task.id, "gave_up"))?.payload).toMatchObject({
      failures: 1,
      effective_limit: 1,
      limit_source: "task",
    });
  });

  it("truncates the stored error to 500 characters", async () => {
    const task = await board.createTask({ title: "t" });
    await board.recordTaskFailure(task.id, { error: "e".repeat(800), outcome: "crashed" });
    expect((await board.getTask(task.id))?.last_failure_error).toBe("e".repeat(500));
  });

  it("merges extra payload fields into the gave_up event", async () => {
    limit = 1;
    const task = await board.createTask({ title: "t" });
    await board.recordTaskFailure(task.id, {
      error: "x",
      outcome: "crashed",
      extra: { pid: 12, claimer: "testhost:4242" },
    });
    expect((await lastEvent(task.id, "gave_up"))?.payload).toMatchObject({ pid: 12, claimer: "testhost:4242" });
  });

  it("returns false for an unknown task", async () => {
    expect(await board.recordTaskFailure("t_00000000", { error: "x", outcome: "crashed" })).toBe(false);
  });
});

describe("recordTaskFailure (spawn path, releaseClaim)", () => {
  it("below the limit releases the claim back to ready, closes the run spawn_failed and emits spawn_failed", async () => {
    const { id, runId } = await claimed();
    expect(
      await board.recordTaskFailure(id, { error: "ENOENT: hermes", outcome: "spawn_failed", releaseClaim: true }),
    ).toBe(false);
    expect(await board.getTask(id)).toMatchObject({
      status: "ready",
      claim_lock: null,
      claim_expires: null,
      worker_pid: null,
      current_run_id: null,
      consecutive_failures: 1,
      last_failure_error: "ENOENT: hermes",
    });
    expect(await board.getRun(runId)).toMatchObject({
      status: "spawn_failed",
      outcome: "spawn_failed",
      error: "ENOENT: hermes",
    });
    expect(await lastEvent(id, "spawn_failed")).toMatchObject({
      run_id: runId,
      payload: { error: "ENOENT: hermes", failures: 1 },
    });
  });

  it("at the limit blocks the task, clears the claim, closes the run gave_up and emits gave_up", async () => {
    const { id, runId: first } = await claimed();
    await board.recordTaskFailure(id, { error: "e1", outcome: "spawn_failed", releaseClaim: true });
    const second = await claimAgain(id);
    expect(await board.recordTaskFailure(id, { error: "e2", outcome: "spawn_failed", releaseClaim: true })).toBe(true);
    expect(await board.getTask(id)).toMatchObject({
      status: "blocked",
      claim_lock: null,
      current_run_id: null,
      consecutive_failures: 2,
    });
    expect((await board.listRuns(id)).map((r) => [r.id, r.outcome])).toEqual([
      [first, "spawn_failed"],
      [second, "gave_up"],
    ]);
    expect(await lastEvent(id, "gave_up")).toMatchObject({
      run_id: second,
      payload: {
        failures: 2,
        effective_limit: 2,
        limit_source: "dispatcher",
        error: "e2",
        trigger_outcome: "spawn_failed",
      },
    });
  });
});

describe("breaker lifecycle", () => {
  it("a tripped breaker never self-recovers through recomputeReady at the same limit (counter preserved)", async () => {
    const task = await board.createTask({ title: "t" });
    await board.recordTaskFailure(task.id, { error: "a", outcome: "crashed" });
    await board.recordTaskFailure(task.id, { error: "b", outcome: "crashed" });
    for (let i = 0; i < 3; i++) await board.recomputeReady();
    expect(await board.getTask(task.id)).toMatchObject({ status: "blocked", consecutive_failures: 2 });
  });

  it("a forced trip stays blocked although its count is under the limit, until an explicit unblock (B fix: forced trips are sticky)", async () => {
    const task = await board.createTask({ title: "t" });
    expect(
      await board.recordTaskFailure(task.id, {
        error: "exit 0 without completing",
        outcome: "protocol_violation",
        forceTrip: true,
      }),
    ).toBe(true);
    expect(await board.getTask(task.id)).toMatchObject({ status: "blocked", consecutive_failures: 1 });
    expect((await lastEvent(task.id, "gave_up"))?.payload).toMatchObject({
      sticky: true,
      failures: 1,
      effective_limit: 2,
    });
    for (let i = 0; i < 3; i++) await board.recomputeReady();
    expect((await board.getTask(task.id))?.status).toBe("blocked");
    expect(await board.unblockTask(task.id)).toMatchObject({ status: "ready", consecutive_failures: 0 });
  });

  it("a new claim does not reset the counter: failures accumulate across attempts until a completion", async () => {
    const { id } = await claimed();
    await board.recordTaskFailure(id, { error: "e1", outcome: "spawn_failed", releaseClaim: true });
    await claimAgain(id);
    expect((await board.getTask(id))?.consecutive_failures).toBe(1);
    await board.completeTask(id, { result: "finally" });
    expect(await board.getTask(id)).toMatchObject({ consecutive_failures: 0, last_failure_error: null });
  });
});
