import { describe, expect, it } from "vitest";
import { BLOCKER_AUTH_HOLD_SECONDS } from "./constants.ts";
import { rawSql, type TestBoard } from "./testing/index.ts";
import { openTestBoardAgain } from "./testing/test-board.ts";
import { mapInOrder, useTestBoards } from "./testing/helpers.ts";

// claimNext: "select next + claim" as one kernel operation over the dispatcher's ready lane
// (priority, age, creation order; default assignee; spawnable profiles; per-profile caps; the
// respawn guard). The dispatcher's own tests pin what a tick does with the result.

const board = useTestBoards();
const ids = (r: { claimed: { task_id: string }[] }) => r.claimed.map((c) => c.task_id);
const kinds = async (b: TestBoard, id: string) => (await b.listEvents(id)).map((e) => e.kind);

describe("claimNext", () => {
  it("claims in lane order: priority first, then age, then creation order within one second", async () => {
    const b = board();
    const old = (await b.createTask({ title: "old", assignee: "alice" })).id;
    b.clock.advance(10);
    const urgent = (await b.createTask({ title: "urgent", assignee: "alice", priority: 5 })).id;
    const sameSecondA = (await b.createTask({ title: "a", assignee: "alice" })).id;
    const sameSecondB = (await b.createTask({ title: "b", assignee: "alice" })).id;
    const lane = b.readyLane();
    const order: string[] = [];
    for (let r = await b.claimNext(lane); r.claimed.length > 0; r = await b.claimNext(lane)) order.push(...ids(r));
    expect(order).toEqual([urgent, old, sameSecondA, sameSecondB]);
    for (const id of order) {
      const t = await b.requireTask(id);
      expect([t.status, t.claim_lock, (await b.activeRun(id))?.id]).toEqual([
        "running",
        "testhost:4242",
        t.current_run_id,
      ]);
      expect(await kinds(b, id)).toContain("claimed");
    }
  });

  it("claims at most `limit` per call, says whether lane rows are left, and goes on where it stopped", async () => {
    const b = board();
    const [t1, t2, t3] = (await mapInOrder(
      [1, 2, 3],
      async (i) => (await b.createTask({ title: `t${i}`, assignee: "alice" })).id,
    )) as [string, string, string];
    const lane = b.readyLane();
    const first = await b.claimNext(lane, {}, 2);
    expect([ids(first), first.more]).toEqual([[t1, t2], true]);
    const second = await b.claimNext(lane, {}, 2);
    expect([ids(second), second.more]).toEqual([[t3], false]);
    expect(await b.claimNext(lane, {}, 2)).toEqual({ claimed: [], skipped: [], assigned_default: [], more: false });
    expect(await b.listTasks({ status: "running" })).toHaveLength(3);
  });

  it("uses the lease it is given: claimer and ttl", async () => {
    const b = board();
    const t = (await b.createTask({ title: "x", assignee: "alice" })).id;
    const now = b.clock.seconds;
    const [claim] = (await b.claimNext(b.readyLane(), { claimer: "host-b:7", ttl_seconds: 60 })).claimed;
    expect(claim?.task).toMatchObject({ id: t, status: "running", claim_lock: "host-b:7", claim_expires: now + 60 });
  });

  it("holds each assignee to its cap, counting running tasks and its own claims, and a released claim frees a slot", async () => {
    const b = board();
    const running = (await b.createTask({ title: "r", assignee: "alice", priority: 9 })).id;
    expect((await b.claimTask(running))?.status).toBe("running");
    const [a1, a2, a3] = (await mapInOrder(
      [1, 2, 3],
      async (i) => (await b.createTask({ title: `a${i}`, assignee: "alice" })).id,
    )) as [string, string, string];
    const bob = (await b.createTask({ title: "b", assignee: "bob" })).id;
    const lane = b.readyLane({ maxPerProfile: 2 });
    const r = await b.claimNext(lane, {}, 10);
    expect(ids(r)).toEqual([a1, bob]);
    expect(r.skipped).toEqual([
      { task_id: a2, reason: "per_profile_cap", assignee: "alice", current: 2 },
      { task_id: a3, reason: "per_profile_cap", assignee: "alice", current: 2 },
    ]);
    // A claim given back (its worker could not start) no longer counts for the rest of the walk.
    const again = b.readyLane({ maxPerProfile: 2 });
    await b.reclaimTask(a1);
    const one = await b.claimNext(again, {}, 1);
    expect(ids(one)).toEqual([a1]);
    again.release(a1);
    expect(ids(await b.claimNext(again, {}, 10))).toEqual([a2]);
  });

  it("skips unassigned tasks and assignees that cannot be spawned, and gives a spawnable default assignee to unassigned ones", async () => {
    const b = board();
    const loose = (await b.createTask({ title: "loose" })).id;
    const ghost = (await b.createTask({ title: "ghost", assignee: "ghost" })).id;
    const ok = (await b.createTask({ title: "ok", assignee: "alice" })).id;
    const isSpawnable = (p: string) => p === "alice";
    const none = await b.claimNext(b.readyLane({ isSpawnable, defaultAssignee: "ghost", dryRun: true }), {}, 10);
    expect(none.skipped).toEqual([
      { task_id: loose, reason: "unassigned" },
      { task_id: ghost, reason: "not_a_profile", assignee: "ghost" },
    ]);
    const r = await b.claimNext(b.readyLane({ isSpawnable, defaultAssignee: "alice" }), {}, 10);
    expect(r.assigned_default).toEqual([loose]);
    expect(r.claimed.map((c) => [c.task_id, c.assignee, c.task?.assignee])).toEqual([
      [loose, "alice", "alice"],
      [ok, "alice", "alice"],
    ]);
    expect((await b.listEvents(loose)).find((e) => e.kind === "assigned")?.payload).toEqual({
      assignee: "alice",
      from: null,
      source: "kanban.default_assignee",
    });
    expect((await b.requireTask(ghost)).status).toBe("ready");
  });

  it("holds back what the respawn guard names, with a respawn_guarded event; a dry run writes nothing at all", async () => {
    const b = board({ failureLimit: 5 });
    const auth = (await b.createTask({ title: "no creds", assignee: "alice" })).id;
    await b.recordTaskFailure(auth, { error: "403 Forbidden", outcome: "crashed" });
    const loose = (await b.createTask({ title: "loose" })).id;
    const free = (await b.createTask({ title: "free", assignee: "alice" })).id;
    const before = await b.latestEventId();
    const dry = await b.claimNext(b.readyLane({ defaultAssignee: "alice", dryRun: true }), {}, 10);
    expect(dry.skipped).toEqual([
      {
        task_id: auth,
        reason: "respawn_guard",
        guard: "blocker_auth",
        until: (await b.requireTask(auth)).created_at + BLOCKER_AUTH_HOLD_SECONDS,
      },
    ]);
    expect(dry.claimed).toEqual([
      { task_id: loose, assignee: "alice", task: null },
      { task_id: free, assignee: "alice", task: null },
    ]);
    expect(dry.assigned_default).toEqual([loose]);
    expect(await b.latestEventId()).toBe(before);
    expect((await b.listTasks({ status: "ready" })).map((t) => [t.id, t.assignee])).toEqual(
      expect.arrayContaining([
        [loose, null],
        [free, "alice"],
      ]),
    );
    const real = await b.claimNext(b.readyLane({ defaultAssignee: "alice" }), {}, 10);
    expect(ids(real)).toEqual([loose, free]);
    expect((await b.listEvents(auth)).filter((e) => e.kind === "respawn_guarded").map((e) => e.payload)).toEqual([
      { reason: "blocker_auth" },
    ]);
    expect((await b.requireTask(auth)).status).toBe("ready");
  });

  it("two claimers on one file never get the same task, even when one walks a lane it read before the other claimed", async () => {
    const a = board();
    const other = openTestBoardAgain(a, { clock: a.clock, hostname: "host-b", pid: 7 });
    try {
      const [t1, t2, t3] = (await mapInOrder(
        [1, 2, 3],
        async (i) => (await a.createTask({ title: `t${i}`, assignee: "alice" })).id,
      )) as [string, string, string];
      const laneA = a.readyLane();
      expect(ids(await a.claimNext(laneA))).toEqual([t1]); // laneA has read t1, t2, t3
      expect(ids(await other.claimNext(other.readyLane()))).toEqual([t2]);
      // laneA still lists t2: its claim loses the compare-and-swap and the walk moves on to t3.
      expect(ids(await a.claimNext(laneA))).toEqual([t3]);
      expect((await a.claimNext(laneA)).claimed).toEqual([]);
      expect(await mapInOrder([t1, t2, t3], async (id) => (await a.requireTask(id)).claim_lock)).toEqual([
        "testhost:4242",
        "host-b:7",
        "testhost:4242",
      ]);
      expect(await mapInOrder([t1, t2, t3], async (id) => (await a.listRuns(id)).length)).toEqual([1, 1, 1]);
    } finally {
      await other.close();
    }
  });

  it("claims nothing whose parents are unfinished, like claimTask", async () => {
    const b = board();
    const parent = (await b.createTask({ title: "p", assignee: "alice" })).id;
    const child = (await b.createTask({ title: "c", assignee: "alice", parents: [parent] })).id;
    await rawSql(b).run("UPDATE tasks SET status = 'ready' WHERE id = ?", child); // written ready by another tool
    const r = await b.claimNext(b.readyLane(), {}, 10);
    expect(ids(r)).toEqual([parent]);
    expect((await b.requireTask(child)).status).toBe("todo");
  });

  it("counts running tasks", async () => {
    const b = board();
    const [t1, t2] = (await mapInOrder(
      [1, 2],
      async (i) => (await b.createTask({ title: `t${i}`, assignee: "alice" })).id,
    )) as [string, string];
    await b.claimNext(b.readyLane(), {}, 2);
    await b.recordSpawn(t1, 999, (await b.requireTask(t1)).current_run_id ?? 0);
    expect(await b.runningCount()).toBe(2);
    expect((await b.runningWorkers()).map((w) => [w.task_id, w.pid])).toEqual([[t1, 999]]);
    expect(await b.unspawnedClaims("testhost:4242")).toEqual([t2]);
    expect(await b.unspawnedClaims("elsewhere:1")).toEqual([]);
  });
});
