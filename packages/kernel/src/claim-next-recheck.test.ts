import { afterEach, describe, expect, it, vi } from "vitest";
import { boardInternals } from "./testing/index.ts";
import { STILL_READY_SQL } from "./store/sqlite/ready-lane.ts";
import { mapInOrder, useTestBoards } from "./testing/helpers.ts";

// A lane is read once per walk, and other claimers (a second dispatcher, a worker pulling work, a
// person claiming by hand) may take its rows meanwhile. The walk re-checks the rows ahead of it in
// its own transaction, so a row gone elsewhere is passed over for free: before, each one cost a
// claim attempt, and the respawn guard judged a task that was no longer ready (a task just
// completed by someone else was "guarded", with a respawn_guarded event in its history).

const board = useTestBoards();

afterEach(() => {
  vi.restoreAllMocks();
});

describe("claimNext passes over lane rows taken since the lane was read", () => {
  it("a row claimed and completed elsewhere gets no respawn_guarded event and no claim attempt", async () => {
    const b = board();
    const [t1, t2, t3] = (await mapInOrder(
      [1, 2, 3],
      async (i) => (await b.createTask({ title: `t${i}`, assignee: "alice" })).id,
    )) as [string, string, string];
    const lane = b.readyLane();
    expect((await b.claimNext(lane)).claimed.map((c) => c.task_id)).toEqual([t1]); // the lane now holds t1..t3
    // Someone else takes t2 and finishes it before this walk goes on.
    const other = await b.claimTask(t2, { claimer: "elsewhere:1" });
    await b.completeTask(t2, { summary: "done elsewhere", expected_run_id: other?.current_run_id });

    const next = await b.claimNext(lane);
    expect(next.claimed.map((c) => c.task_id)).toEqual([t3]);
    expect(next.skipped).toEqual([]);
    const kinds = (await b.listEvents(t2)).map((e) => e.kind);
    expect(kinds).not.toContain("respawn_guarded");
    expect((await b.requireTask(t2)).status).toBe("done");
    expect(await b.listRuns(t2)).toHaveLength(1);
  });

  it("the call that reads the lane re-checks none of it: it read the lane a moment ago, in the same walk", async () => {
    const b = board();
    // More than two re-check windows (64 rows each), none of which this walk may start.
    await mapInOrder(
      Array.from({ length: 150 }, (_, i) => i),
      async (i) => await b.createTask({ title: `t${i}`, assignee: "nobody" }),
    );
    const { ctx } = boardInternals(b);
    const reads = vi.spyOn(ctx, "all");
    const lane = b.readyLane({ isSpawnable: (profile) => profile !== "nobody" });
    const result = await b.claimNext(lane, {}, 150);
    expect(result.claimed).toEqual([]);
    expect(result.skipped).toHaveLength(150);
    expect(reads.mock.calls.filter(([sql]) => sql === STILL_READY_SQL)).toEqual([]);
  });
});
