import { describe, expect, it } from "vitest";
import { useTestBoards } from "./testing/helpers.ts";

// The lane's admission hook (the dispatcher's memory floor and host-wide cap): a held task is
// passed over before any claim, stays ready with no event, and the hook is asked task by task.

const board = useTestBoards();

describe("claimNext with an admission hold", () => {
  it("passes over held tasks without claiming them or writing an event, and claims the ones it admits", async () => {
    const b = board();
    const big = (await b.createTask({ title: "big", assignee: "big", priority: 5 })).id;
    const small = (await b.createTask({ title: "small", assignee: "small" })).id;
    const hold = { code: "memory_floor", detail: { floor_mb: 1 } };
    const lane = b.readyLane({ hold: (assignee) => (assignee === "big" ? hold : null) });
    const r = await b.claimNext(lane, {}, 10);
    expect(r.skipped).toEqual([{ task_id: big, reason: "held", assignee: "big", hold }]);
    expect(r.claimed.map((c) => c.task_id)).toEqual([small]);
    const held = await b.requireTask(big);
    expect([held.status, held.claim_lock, held.current_run_id]).toEqual(["ready", null, null]);
    expect((await b.listEvents(big)).map((e) => e.kind)).not.toContain("claimed");
    expect(await b.activeRun(big)).toBeNull();
  });

  it("asks the hook again for every task, so a cap reached within a walk holds the rest", async () => {
    const b = board();
    const ids: string[] = [];
    for (const i of [1, 2, 3]) ids.push((await b.createTask({ title: `t${i}`, assignee: "alice" })).id);
    let admitted = 0;
    const lane = b.readyLane({
      hold: () => (admitted >= 1 ? { code: "host_cap", detail: { max: 1, running: admitted } } : null),
    });
    const first = await b.claimNext(lane, {}, 1);
    admitted += first.claimed.length;
    const rest = await b.claimNext(lane, {}, 1);
    expect(first.claimed.map((c) => c.task_id)).toEqual([ids[0]]);
    expect(rest.claimed).toEqual([]);
    expect(rest.skipped.map((s) => [s.task_id, s.reason])).toEqual([
      [ids[1], "held"],
      [ids[2], "held"],
    ]);
    expect(await b.listTasks({ status: "ready" })).toHaveLength(2);
  });
});
