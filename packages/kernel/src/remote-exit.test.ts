import { describe, expect, it } from "vitest";
import { caught, useTestBoards } from "./testing/helpers.ts";
import type { TestBoard } from "./testing/index.ts";

// A remote host's worker exited without a terminal call the server heard (issue 15).

const board = useTestBoards();
const HOST = "kh-00000000000000a1";

async function remoteRun(b: TestBoard, opts: { max_retries?: number } = {}) {
  const t = await b.createTask({ title: "t", assignee: "alice", ...opts });
  const c = await b.claimTask(t.id, { claimer: `${HOST}:7` });
  const run = c?.current_run_id as number;
  await b.recordSpawn(t.id, 4321, run);
  return { id: t.id, run };
}

describe("recordRemoteExit", () => {
  it("while the run is current: the crash path (requeued, run crashed, failure counted, last output kept)", async () => {
    const b = board();
    const { id, run } = await remoteRun(b, { max_retries: 3 });
    expect(
      await b.recordRemoteExit(run, { exit_code: 2, signal: null, output_tail: `${"x".repeat(5000)}END` }),
    ).toEqual({
      recorded: "crashed",
    });
    expect(await b.requireTask(id)).toMatchObject({
      status: "ready",
      claim_lock: null,
      current_run_id: null,
      consecutive_failures: 1,
      last_failure_error: "remote pid 4321 exited with code 2",
    });
    expect(await b.getRun(run)).toMatchObject({ outcome: "crashed", error: "remote pid 4321 exited with code 2" });
    const crashed = (await b.listEvents(id)).find((e) => e.kind === "crashed");
    expect(crashed?.run_id).toBe(run);
    expect(crashed?.payload).toMatchObject({ exit_code: 2, exit_signal: null, claimer: `${HOST}:7`, remote: true });
    const tail = String(crashed?.payload?.output_tail);
    expect([tail.length, tail.endsWith("END")]).toEqual([4000, true]);
  });

  it("an exit 0 with the task still running is a protocol violation: requeued with the last output, tripped after a streak", async () => {
    const b = board();
    const { id, run } = await remoteRun(b, { max_retries: 2 });
    expect((await b.recordRemoteExit(run, { exit_code: 0, signal: null, output_tail: "all done, bye" })).recorded).toBe(
      "crashed",
    );
    expect(await b.requireTask(id)).toMatchObject({ status: "ready", consecutive_failures: 1 });
    const ev = (await b.listEvents(id)).find((e) => e.kind === "protocol_violation");
    expect(ev?.payload).toMatchObject({ protocol_violation: true, remote: true, worker_output: "all done, bye" });
    // The second in a row reaches the task's max_retries (2): the breaker trips.
    const c = await b.claimTask(id, { claimer: `${HOST}:7` });
    const again = c?.current_run_id as number;
    await b.recordSpawn(id, 4322, again);
    await b.recordRemoteExit(again, { exit_code: 0, signal: null });
    expect((await b.requireTask(id)).status).toBe("blocked");
    expect((await b.listEvents(id)).find((e) => e.kind === "gave_up")?.payload).toMatchObject({
      trigger_outcome: "protocol_violation",
      violation_streak: 2,
    });
  });

  it("a run that ended some other way first (completed, reclaimed) is ignored; an unknown run is NOT_FOUND", async () => {
    const b = board();
    const done = await remoteRun(b);
    await b.completeTask(done.id, { result: "ok", expected_run_id: done.run });
    const reclaimed = await remoteRun(b);
    await b.reclaimTask(reclaimed.id);
    for (const r of [done, reclaimed]) {
      const before = await b.listEvents(r.id);
      expect(await b.recordRemoteExit(r.run, { exit_code: 1, signal: "SIGKILL" })).toEqual({ recorded: "ignored" });
      expect(await b.listEvents(r.id)).toEqual(before);
    }
    expect((await b.requireTask(done.id)).status).toBe("done");
    expect((await caught(() => b.recordRemoteExit(424_242, { exit_code: 1, signal: null }))).code).toBe("NOT_FOUND");
  });
});
