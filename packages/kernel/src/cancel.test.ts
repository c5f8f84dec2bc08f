import { describe, expect, it } from "vitest";
import { caught, useTestBoards } from "./testing/helpers.ts";

// Cancelling a task (issue 15): a hung card is parked, not simply run again.

const board = useTestBoards();
const HOST = "kh-00000000000000a1";

describe("cancelTask", () => {
  it("a running remote task: its run ends reclaimed and it is blocked with the reason, in one transaction", async () => {
    const b = board();
    await b.hostHello({
      host_id: HOST,
      name: "mac",
      labels: [],
      version: "1",
      capacity: 1,
      tenant: null,
      lease_seconds: 30,
      runs: [],
    });
    const t = await b.createTask({ title: "hung", assignee: "alice" });
    const r = await b.claimForHost({ host_id: HOST, pid: 5, labels: [], tenant: null, max: 1, lease_seconds: 30 });
    const run = r.claimed[0]?.task?.current_run_id as number;
    await b.recordSpawn(t.id, 4321, run);
    const out = await b.cancelTask(t.id, { reason: "hung for an hour", actor: "operator" });
    expect(out.task).toMatchObject({ status: "blocked", claim_lock: null, current_run_id: null, worker_pid: null });
    expect(out.run_id).toBe(run);
    // A remote worker is not this host's to stop: the host learns at its next heartbeat.
    expect(out.terminate).toBeNull();
    expect(await b.getRun(run)).toMatchObject({
      outcome: "reclaimed",
      error: "manual_reclaim: cancelled: hung for an hour",
    });
    const events = (await b.listEvents(t.id)).map((e) => [e.kind, e.payload]);
    expect(events.slice(-3)).toEqual([
      ["reclaimed", expect.objectContaining({ manual: true, reason: "cancelled: hung for an hour" })],
      ["blocked", { reason: "cancelled: hung for an hour", cancelled: true, actor: "operator" }],
      ["commented", { author: "operator", len: "BLOCKED: cancelled: hung for an hour".length }],
    ]);
    const beat = await b.hostHeartbeat({ host_id: HOST, running: 1, runs: [run], lease_seconds: 30 });
    expect(beat.revoked).toEqual([{ run_id: run, task_id: t.id }]);
    // Sticky: recompute never moves it; only an unblock does.
    await b.recomputeReady();
    expect((await b.requireTask(t.id)).status).toBe("blocked");
  });

  it("a local running worker is reported for termination, as a reclaim reports it", async () => {
    const b = board();
    const t = await b.createTask({ title: "local", assignee: "alice" });
    const c = await b.claimTask(t.id);
    await b.recordSpawn(t.id, 999, c?.current_run_id as number);
    const out = await b.cancelTask(t.id, { reason: "stop" });
    expect(out.terminate).toEqual({ pid: 999, lock: "testhost:4242" });
  });

  it("ready, todo, triage and scheduled tasks are blocked likewise; finished ones are refused", async () => {
    const b = board();
    const ready = await b.createTask({ title: "r" });
    const todo = await b.createTask({ title: "t", parents: [ready.id] });
    const triage = await b.createTask({ title: "tr", triage: true });
    const sched = await b.createTask({ title: "s" });
    await b.scheduleTask(sched.id, { reason: "later" });
    for (const id of [ready.id, todo.id, triage.id, sched.id]) {
      const out = await b.cancelTask(id, { reason: "not needed" });
      expect([out.task.status, out.run_id, out.terminate]).toEqual(["blocked", null, null]);
    }
    const done = await b.createTask({ title: "d" });
    await b.completeTask(done.id, { result: "ok" });
    const err = await caught(() => b.cancelTask(done.id, { reason: "x" }));
    expect([err.code, err.message]).toEqual([
      "WRONG_STATE",
      `cannot cancel ${done.id}: status is 'done' (only triage, todo, scheduled, ready or running tasks are cancelled)`,
    ]);
    expect((await caught(() => b.cancelTask(ready.id, { reason: "again" }))).code).toBe("WRONG_STATE");
    expect((await caught(() => b.cancelTask(ready.id, { reason: "  " }))).code).toBe("INVALID_INPUT");
    expect((await caught(() => b.cancelTask("t_00000000", { reason: "x" }))).code).toBe("NOT_FOUND");
  });
});
