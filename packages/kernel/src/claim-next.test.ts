import path from "node:path";
import { describe, expect, it } from "vitest";
import { openBoard } from "./board.ts";
import { boardInternals, type TestBoard } from "./testing/index.ts";
import { useTestBoards } from "./testing/helpers.ts";

// claimNext: "select next + claim" as one kernel operation over the dispatcher's ready lane
// (priority, age, creation order; default assignee; spawnable profiles; per-profile caps; the
// respawn guard). The dispatcher's own tests pin what a tick does with the result.

const board = useTestBoards();
const ids = (r: { claimed: { task_id: string }[] }) => r.claimed.map((c) => c.task_id);
const kinds = (b: TestBoard, id: string) => b.listEvents(id).map((e) => e.kind);

describe("claimNext", () => {
  it("claims in lane order: priority first, then age, then creation order within one second", () => {
    const b = board();
    const old = b.createTask({ title: "old", assignee: "alice" }).id;
    b.clock.advance(10);
    const urgent = b.createTask({ title: "urgent", assignee: "alice", priority: 5 }).id;
    const sameSecondA = b.createTask({ title: "a", assignee: "alice" }).id;
    const sameSecondB = b.createTask({ title: "b", assignee: "alice" }).id;
    const lane = b.readyLane();
    const order: string[] = [];
    for (let r = b.claimNext(lane); r.claimed.length > 0; r = b.claimNext(lane)) order.push(...ids(r));
    expect(order).toEqual([urgent, old, sameSecondA, sameSecondB]);
    for (const id of order) {
      const t = b.requireTask(id);
      expect([t.status, t.claim_lock, b.activeRun(id)?.id]).toEqual(["running", "testhost:4242", t.current_run_id]);
      expect(kinds(b, id)).toContain("claimed");
    }
  });

  it("claims at most `limit` per call, says whether lane rows are left, and goes on where it stopped", () => {
    const b = board();
    const [t1, t2, t3] = [1, 2, 3].map((i) => b.createTask({ title: `t${i}`, assignee: "alice" }).id) as [
      string,
      string,
      string,
    ];
    const lane = b.readyLane();
    const first = b.claimNext(lane, {}, 2);
    expect([ids(first), first.more]).toEqual([[t1, t2], true]);
    const second = b.claimNext(lane, {}, 2);
    expect([ids(second), second.more]).toEqual([[t3], false]);
    expect(b.claimNext(lane, {}, 2)).toEqual({ claimed: [], skipped: [], assigned_default: [], more: false });
    expect(b.listTasks({ status: "running" })).toHaveLength(3);
  });

  it("uses the lease it is given: claimer and ttl", () => {
    const b = board();
    const t = b.createTask({ title: "x", assignee: "alice" }).id;
    const now = b.clock.seconds;
    const [claim] = b.claimNext(b.readyLane(), { claimer: "host-b:7", ttl_seconds: 60 }).claimed;
    expect(claim?.task).toMatchObject({ id: t, status: "running", claim_lock: "host-b:7", claim_expires: now + 60 });
  });

  it("holds each assignee to its cap, counting running tasks and its own claims, and a released claim frees a slot", () => {
    const b = board();
    const running = b.createTask({ title: "r", assignee: "alice", priority: 9 }).id;
    expect(b.claimTask(running)?.status).toBe("running");
    const [a1, a2, a3] = [1, 2, 3].map((i) => b.createTask({ title: `a${i}`, assignee: "alice" }).id) as [
      string,
      string,
      string,
    ];
    const bob = b.createTask({ title: "b", assignee: "bob" }).id;
    const lane = b.readyLane({ maxPerProfile: 2 });
    const r = b.claimNext(lane, {}, 10);
    expect(ids(r)).toEqual([a1, bob]);
    expect(r.skipped).toEqual([
      { task_id: a2, reason: "per_profile_cap", assignee: "alice", current: 2 },
      { task_id: a3, reason: "per_profile_cap", assignee: "alice", current: 2 },
    ]);
    // A claim given back (its worker could not start) no longer counts for the rest of the walk.
    const again = b.readyLane({ maxPerProfile: 2 });
    b.reclaimTask(a1);
    const one = b.claimNext(again, {}, 1);
    expect(ids(one)).toEqual([a1]);
    again.release(a1);
    expect(ids(b.claimNext(again, {}, 10))).toEqual([a2]);
  });

  it("skips unassigned tasks and assignees that cannot be spawned, and gives a spawnable default assignee to unassigned ones", () => {
    const b = board();
    const loose = b.createTask({ title: "loose" }).id;
    const ghost = b.createTask({ title: "ghost", assignee: "ghost" }).id;
    const ok = b.createTask({ title: "ok", assignee: "alice" }).id;
    const isSpawnable = (p: string) => p === "alice";
    const none = b.claimNext(b.readyLane({ isSpawnable, defaultAssignee: "ghost", dryRun: true }), {}, 10);
    expect(none.skipped).toEqual([
      { task_id: loose, reason: "unassigned" },
      { task_id: ghost, reason: "not_a_profile", assignee: "ghost" },
    ]);
    const r = b.claimNext(b.readyLane({ isSpawnable, defaultAssignee: "alice" }), {}, 10);
    expect(r.assigned_default).toEqual([loose]);
    expect(r.claimed.map((c) => [c.task_id, c.assignee, c.task?.assignee])).toEqual([
      [loose, "alice", "alice"],
      [ok, "alice", "alice"],
    ]);
    expect(b.listEvents(loose).find((e) => e.kind === "assigned")?.payload).toEqual({
      assignee: "alice",
      from: null,
      source: "kanban.default_assignee",
    });
    expect(b.requireTask(ghost).status).toBe("ready");
  });

  it("holds back what the respawn guard names, with a respawn_guarded event; a dry run writes nothing at all", () => {
    const b = board({ failureLimit: 5 });
    const auth = b.createTask({ title: "no creds", assignee: "alice" }).id;
    b.recordTaskFailure(auth, { error: "403 Forbidden", outcome: "crashed" });
    const loose = b.createTask({ title: "loose" }).id;
    const free = b.createTask({ title: "free", assignee: "alice" }).id;
    const before = b.latestEventId();
    const dry = b.claimNext(b.readyLane({ defaultAssignee: "alice", dryRun: true }), {}, 10);
    expect(dry.skipped).toEqual([{ task_id: auth, reason: "respawn_guard", guard: "blocker_auth" }]);
    expect(dry.claimed).toEqual([
      { task_id: loose, assignee: "alice", task: null },
      { task_id: free, assignee: "alice", task: null },
    ]);
    expect(dry.assigned_default).toEqual([loose]);
    expect(b.latestEventId()).toBe(before);
    expect(b.listTasks({ status: "ready" }).map((t) => [t.id, t.assignee])).toEqual(
      expect.arrayContaining([
        [loose, null],
        [free, "alice"],
      ]),
    );
    const real = b.claimNext(b.readyLane({ defaultAssignee: "alice" }), {}, 10);
    expect(ids(real)).toEqual([loose, free]);
    expect(
      b
        .listEvents(auth)
        .filter((e) => e.kind === "respawn_guarded")
        .map((e) => e.payload),
    ).toEqual([{ reason: "blocker_auth" }]);
    expect(b.requireTask(auth).status).toBe("ready");
  });

  it("two claimers on one file never get the same task, even when one walks a lane it read before the other claimed", () => {
    const a = board();
    const other = openBoard({
      path: path.join(a.dir, "kanban.db"),
      clock: a.clock,
      hostname: "host-b",
      pid: 7,
      warn: () => {},
    });
    try {
      const [t1, t2, t3] = [1, 2, 3].map((i) => a.createTask({ title: `t${i}`, assignee: "alice" }).id) as [
        string,
        string,
        string,
      ];
      const laneA = a.readyLane();
      expect(ids(a.claimNext(laneA))).toEqual([t1]); // laneA has read t1, t2, t3
      expect(ids(other.claimNext(other.readyLane()))).toEqual([t2]);
      // laneA still lists t2: its claim loses the compare-and-swap and the walk moves on to t3.
      expect(ids(a.claimNext(laneA))).toEqual([t3]);
      expect(a.claimNext(laneA).claimed).toEqual([]);
      expect([t1, t2, t3].map((id) => a.requireTask(id).claim_lock)).toEqual([
        "testhost:4242",
        "host-b:7",
        "testhost:4242",
      ]);
      expect([t1, t2, t3].map((id) => a.listRuns(id).length)).toEqual([1, 1, 1]);
    } finally {
      other.close();
    }
  });

  it("claims nothing whose parents are unfinished, like claimTask", () => {
    const b = board();
    const parent = b.createTask({ title: "p", assignee: "alice" }).id;
    const child = b.createTask({ title: "c", assignee: "alice", parents: [parent] }).id;
    boardInternals(b).sqlite.prepare("UPDATE tasks SET status = 'ready' WHERE id = ?").run(child); // written ready by another tool
    const r = b.claimNext(b.readyLane(), {}, 10);
    expect(ids(r)).toEqual([parent]);
    expect(b.requireTask(child).status).toBe("todo");
  });

  it("counts running tasks", () => {
    const b = board();
    const [t1, t2] = [1, 2].map((i) => b.createTask({ title: `t${i}`, assignee: "alice" }).id) as [string, string];
    b.claimNext(b.readyLane(), {}, 2);
    b.recordSpawn(t1, 999, b.requireTask(t1).current_run_id ?? 0);
    expect(b.runningCount()).toBe(2);
    expect(b.runningWorkers().map((w) => [w.task_id, w.pid])).toEqual([[t1, 999]]);
    expect(b.unspawnedClaims("testhost:4242")).toEqual([t2]);
    expect(b.unspawnedClaims("elsewhere:1")).toEqual([]);
  });
});
