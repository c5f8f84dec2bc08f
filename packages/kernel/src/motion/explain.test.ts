import { describe, expect, it, vi } from "vitest";
import { caught, useTestBoards } from "../testing/helpers.ts";
import { boardInternals, rawSql, type TestBoard } from "../testing/index.ts";
import { scopeBoard } from "../scoped-board.ts";
import { explainMotion, explainMotions, type HostFacts, laneSkipMotion, MOTION_CODES, type Motion } from "./index.ts";

// Every reason a card can give for (not) moving, each produced by the verbs that put a task there
// (the dispatcher's facts passed in as the API passes them), on both stores.

const board = useTestBoards();
const alive: HostFacts = { dispatcher: { alive: true, interval_seconds: 60 }, knownProfiles: ["w"] };

async function why(b: TestBoard, id: string, facts: HostFacts = alive): Promise<Motion> {
  return await explainMotion(b, id, facts);
}

/** A ready task of `w` claimed by this host with a live worker that has just heartbeaten. */
async function runningTask(b: TestBoard, title = "run") {
  const t = await b.createTask({ title, assignee: "w" });
  const claimed = await b.claimTask(t.id);
  if (!claimed?.current_run_id) throw new Error("not claimed");
  await b.recordSpawn(t.id, 31337, claimed.current_run_id);
  await b.heartbeatWorker(t.id, {});
  return t.id;
}

describe("explainMotion: every reason, for real", () => {
  it("waiting_on_parents names each unfinished parent (title, id, status); in_todo once none are left", async () => {
    const b = board();
    const p1 = await b.createTask({ title: "Design the export format", assignee: "w" });
    b.clock.advance(1); // parents are named oldest first
    const p2 = await b.createTask({ title: "Pick a library", assignee: "w" });
    const child = await b.createTask({ title: "Implement", assignee: "w", parents: [p1.id, p2.id] });
    await b.blockTask(p2.id, { reason: "waiting" });
    const m = await why(b, child.id);
    expect(m).toMatchObject({ moving: false, code: "waiting_on_parents" });
    expect(m.line).toBe(
      `Waiting on 2 parents: "Design the export format" (${p1.id}, ready), "Pick a library" (${p2.id}, blocked).`,
    );
    expect(m.detail.parents).toEqual([
      { id: p1.id, title: "Design the export format", status: "ready" },
      { id: p2.id, title: "Pick a library", status: "blocked" },
    ]);
    await b.completeTask(p1.id, { result: "ok" });
    await b.completeTask(p2.id, { result: "ok" });
    await b.moveTask(child.id, { status: "todo" });
    expect((await b.requireTask(child.id)).status).toBe("todo");
    const todo = await why(b, child.id);
    expect(todo.code).toBe("in_todo");
    expect(todo.next).toBe(`Promote it: kanban promote ${child.id}`);
  });

  it("a tenant's answer counts a parent of another tenant without naming it", async () => {
    const b = board();
    const foreign = await b.createTask({ title: "Secret plan", assignee: "w", tenant: "globex" });
    const own = await b.createTask({ title: "Ours", assignee: "w", tenant: "acme" });
    const child = await b.createTask({ title: "c", assignee: "w", tenant: "acme", parents: [foreign.id, own.id] });
    const m = await scopeBoard(b, { tenant: "acme" }).explainMotion(child.id, alive);
    expect(m.line).toBe(`Waiting on 2 parents: "Ours" (${own.id}, ready), 1 parent outside this scope.`);
    expect(JSON.stringify(m)).not.toContain(foreign.id);
    expect(JSON.stringify(m)).not.toContain("Secret");
    // Another tenant's task answers as an unknown id.
    const err = await caught(() => scopeBoard(b, { tenant: "globex" }).explainMotion(child.id, alive));
    expect([err.code, err.message]).toEqual(["NOT_FOUND", `task ${child.id} not found`]);
  });

  it("in_triage, in_review, done, archived and an unknown id", async () => {
    const b = board();
    const tri = await b.createTask({ title: "t", triage: true });
    expect((await why(b, tri.id)).code).toBe("in_triage");
    const rev = await b.createTask({ title: "r", assignee: "w" });
    await rawSql(b).run("UPDATE tasks SET status = 'review' WHERE id = ?", rev.id); // Hermes' review column
    expect((await why(b, rev.id)).code).toBe("in_review");
    const done = await b.createTask({ title: "d", assignee: "w" });
    await b.completeTask(done.id, { result: "ok" });
    b.clock.advance(3 * 3600);
    expect(await why(b, done.id)).toMatchObject({ moving: false, code: "done", line: "Done 3h ago." });
    await b.archiveTask(done.id);
    expect((await why(b, done.id)).code).toBe("archived");
    const err = await caught(() => why(b, "t_0123456789"));
    expect([err.code, err.message]).toEqual(["NOT_FOUND", "task t_0123456789 not found"]);
  });

  it("unassigned; a default assignee that is a profile takes over, as the dispatcher's lane does", async () => {
    const b = board();
    const t = await b.createTask({ title: "loose" });
    const m = await why(b, t.id);
    expect(m).toMatchObject({ moving: false, code: "unassigned" });
    expect(m.next).toBe(`Assign a profile: kanban assign ${t.id} <profile>`);
    expect((await why(b, t.id, { ...alive, defaultAssignee: "w" })).code).toBe("ready_waiting_for_tick");
    expect((await why(b, t.id, { ...alive, defaultAssignee: "ghost" })).code).toBe("unassigned");
  });

  it("not_runnable_profile: the assignee is none of the host's profiles (unknown profiles are not judged)", async () => {
    const b = board();
    const t = await b.createTask({ title: "x", assignee: "ghost" });
    const m = await why(b, t.id);
    expect(m.code).toBe("not_runnable_profile");
    expect(m.line).toBe(
      "Assigned to @ghost, which is not a runnable profile on this host: no worker will be started for it.",
    );
    expect(m.next).toContain("(here: w)");
    expect((await why(b, t.id, { dispatcher: { alive: true } })).code).toBe("ready_waiting_for_tick");
  });

  it("profile_cap_full counts the assignee's running tasks against the cap (n of m)", async () => {
    const b = board();
    await runningTask(b);
    const t = await b.createTask({ title: "next", assignee: "w" });
    const m = await why(b, t.id, { ...alive, maxInProgressPerProfile: 1 });
    expect(m.code).toBe("profile_cap_full");
    expect(m.line).toBe("Held: @w is at its cap (1 of 1 running).");
    expect((await why(b, t.id, { ...alive, maxInProgressPerProfile: 2 })).code).toBe("ready_waiting_for_tick");
  });

  it("host_cap_full and memory_floor come from the dispatcher's holds of its last tick", async () => {
    const b = board();
    const t = await b.createTask({ title: "x", assignee: "w" });
    const host = await why(b, t.id, {
      ...alive,
      holds: [{ task_id: t.id, code: "host_cap", detail: { running: 4, max: 4 } }],
    });
    expect(host).toMatchObject({
      moving: false,
      code: "host_cap_full",
      line: "Held: this host already runs its maximum of workers (4 of 4).",
    });
    const mem = await why(b, t.id, {
      ...alive,
      holds: [{ task_id: t.id, code: "memory_floor", detail: { available_mb: 180, floor_mb: 512 } }],
    });
    expect(mem.code).toBe("memory_floor");
    expect(mem.line).toBe(
      "Held by memory admission: the host's available memory is under the floor (180 MB available, floor 512 MB).",
    );
    // Without details it still says which hold, with the host cap from the facts.
    const bare = await why(b, t.id, {
      ...alive,
      hostCap: { max: 2, running: 2 },
      holds: [{ task_id: t.id, code: "host_cap" }],
    });
    expect(bare.line).toContain("(2 of 2)");
  });

  it("respawn_guard: which rule and until when (blocker_auth, recent_success, active_pr)", async () => {
    const b = board({ failureLimit: 5 });
    const auth = await b.createTask({ title: "auth", assignee: "w" });
    await b.recordTaskFailure(auth.id, { error: "HTTP 429 Too Many Requests", outcome: "crashed" });
    const authAt = (await b.requireTask(auth.id)).created_at;
    const a = await why(b, auth.id);
    // Every hold ends (Hermes #115305): blocker_auth six hours after its failure (here no run ended: the task's creation).
    expect(a).toMatchObject({ code: "respawn_guard", detail: { guard: "blocker_auth", until: authAt + 6 * 3600 } });
    expect(a.line).toMatch(/^Held by the respawn guard \(blocker_auth\), until .* \(in 6h\): /);

    const redo = await b.createTask({ title: "redo", assignee: "w" });
    await b.completeTask(redo.id, { result: "ok" });
    const doneAt = b.now();
    await rawSql(b).run("UPDATE tasks SET status = 'ready' WHERE id = ?", redo.id); // back without a reopen event
    b.clock.advance(600);
    const r = await why(b, redo.id);
    expect(r.detail).toEqual({ guard: "recent_success", until: doneAt + 3600 });
    expect(r.line).toContain("(in 50m)");

    const pr = await b.createTask({ title: "pr", assignee: "w" });
    await b.addComment(pr.id, "w", "opened https://github.com/acme/app/pull/7");
    const prAt = b.now();
    const p = await why(b, pr.id);
    expect(p.detail).toEqual({ guard: "active_pr", until: prAt + 86_400 });
    // The lane decides the same for all three.
    for (const id of [auth.id, redo.id, pr.id]) expect(await b.respawnGuard(id)).toBe((await why(b, id)).detail.guard);
    // A hand-off lifts the PR guard.
    await b.assignTask(pr.id, "w2");
    expect((await why(b, pr.id, { ...alive, knownProfiles: ["w", "w2"] })).code).toBe("ready_waiting_for_tick");
  });

  it("breaker_tripped gives the last error; blocked gives the reason; scheduled is for later", async () => {
    const b = board({ failureLimit: 2 });
    const t = await b.createTask({ title: "x", assignee: "w" });
    await b.recordTaskFailure(t.id, { error: "pid 1 exited with code 3", outcome: "crashed" });
    await b.recordTaskFailure(t.id, { error: "pid 2 exited with code 3\nstack…", outcome: "crashed" });
    b.clock.advance(120);
    const m = await why(b, t.id);
    expect(m).toMatchObject({ code: "breaker_tripped", detail: { consecutive_failures: 2, failure_limit: 2 } });
    // A crash is a passing cause: the auto-revive's pending time is part of the answer (10 min after the trip).
    expect(m.line).toBe(
      "Breaker tripped after 2 failures in a row (limit 2), since 2m ago: pid 2 exited with code 3 — held: auto_revive at 2025-06-15 15:16 UTC (in 8m), revive 1 of 3.",
    );

    const blocked = await b.createTask({ title: "y", assignee: "w" });
    await b.blockTask(blocked.id, { reason: "need the staging API key" });
    const bl = await why(b, blocked.id);
    expect(bl).toMatchObject({ code: "blocked", detail: { reason: "need the staging API key", kind: null } });
    expect(bl.line).toBe("Blocked, since 0s ago: need the staging API key");
    expect(bl.next).toBe(`Answer in a comment, then kanban unblock ${blocked.id}.`);

    const later = await b.createTask({ title: "z", assignee: "w" });
    await b.scheduleTask(later.id, { reason: "after the release" });
    const s = await why(b, later.id);
    expect(s).toMatchObject({ code: "scheduled", line: "Scheduled for later (0s ago): after the release" });
  });

  it("claimed_not_spawned: a claim older than the crash grace whose worker never started", async () => {
    const b = board();
    const t = await b.createTask({ title: "x", assignee: "w" });
    await b.claimTask(t.id);
    expect((await why(b, t.id, { ...alive, isPidAlive: () => true })).code).toBe("running_healthy");
    b.clock.advance(60);
    const m = await why(b, t.id, { ...alive, isPidAlive: () => true });
    expect(m.code).toBe("claimed_not_spawned");
    expect(m.line).toMatch(
      /^Claimed 1m ago by testhost:4242, but no worker was ever started for it\. Its lease ends in 14m\.$/,
    );
  });

  it("running: healthy, quiet (no heartbeat for x), stale, orphaned (pid gone, a fact passed in)", async () => {
    const b = board();
    const id = await runningTask(b);
    const live = { ...alive, isPidAlive: (pid: number) => pid === 31337 };
    const ok = await why(b, id, live);
    expect(ok).toMatchObject({ moving: true, code: "running_healthy" });
    expect(ok.line).toBe("Running as @w (pid 31337) for 0s: last heartbeat 0s ago, lease for 15m.");
    b.clock.advance(11 * 60);
    const quiet = await why(b, id, live);
    expect(quiet).toMatchObject({ moving: false, code: "running_quiet" });
    expect(quiet.line).toBe("Running but quiet: no heartbeat for 11m (pid 31337 alive).");
    b.clock.advance(3600);
    expect((await why(b, id, live)).code).toBe("running_stale");
    const dead = await why(b, id, { ...alive, isPidAlive: () => false });
    expect(dead.code).toBe("running_orphaned");
    expect(dead.line).toBe("Orphaned: its worker (pid 31337) is gone, but the task is still claimed.");
    // Without a probe nobody can tell: it is not called orphaned.
    expect((await why(b, id, alive)).code).toBe("running_stale");
  });

  it("running: the footprint shown is the sample of this run's worker, never one of the task's earlier run", async () => {
    const b = board();
    const id = await runningTask(b);
    const run = (await b.getTask(id))?.current_run_id ?? null;
    const sample = { task_id: id, pids: 3, rss_bytes: 52_428_800, cpu_percent: 12.5, sampled_at: b.now() };
    const live = { ...alive, isPidAlive: () => true };
    const mine = await why(b, id, { ...live, footprints: [{ ...sample, run_id: run }] });
    expect(mine.detail.footprint).toMatchObject({ run_id: run, pids: 3, rss_bytes: 52_428_800 });
    const earlier = await why(b, id, { ...live, footprints: [{ ...sample, run_id: (run ?? 0) + 1000 }] });
    expect(earlier.detail.footprint).toBeUndefined();
  });

  it("lease_expiring: a live, recently heard worker whose lease runs out soon", async () => {
    const b = board({ claimTtlSeconds: 300 });
    const id = await runningTask(b);
    b.clock.advance(200);
    const m = await why(b, id, { ...alive, isPidAlive: () => true });
    expect(m.code).toBe("lease_expiring");
    expect(m.line).toMatch(
      /^Running, but its lease expires in 1m \(at \d{4}-\d\d-\d\d \d\d:\d\d UTC\) unless the worker renews it\.$/,
    );
  });

  it("no_dispatcher vs ready_waiting_for_tick: the only difference is whether a dispatcher is alive", async () => {
    const b = board();
    const t = await b.createTask({ title: "x", assignee: "w" });
    const none = await why(b, t.id, { ...alive, dispatcher: { alive: false } });
    expect(none).toMatchObject({ moving: false, code: "no_dispatcher" });
    const tick = await why(b, t.id);
    expect(tick).toMatchObject({ moving: true, code: "ready_waiting_for_tick" });
    expect(tick.line).toBe("Ready for @w: the dispatcher takes it at its next tick (every 1m).");
  });
});

describe("explainMotions (batch)", () => {
  it("answers as the single form, and in the same number of statements for 4 tasks as for 40", async () => {
    const b = board();
    const seed = async (n: number) => {
      const ids: string[] = [];
      for (let i = 0; i < n; i++) {
        if (i % 4 === 3) {
          ids.push(await runningTask(b, `run${i}`));
          continue;
        }
        const parent = i % 4 === 1 ? [ids[ids.length - 1] as string] : [];
        const t = await b.createTask({ title: `t${i}`, assignee: i % 5 === 0 ? "ghost" : "w", parents: parent });
        if (i % 4 === 2) await b.blockTask(t.id, { reason: `r${i}` });
        ids.push(t.id);
      }
      return ids;
    };
    const small = await seed(4);
    const big = await seed(40);
    const { ctx } = boardInternals(b);
    const spies = (["get", "all", "run", "insert", "tasks", "task"] as const).map((m) => vi.spyOn(ctx, m));
    const count = () => spies.reduce((s, x) => s + x.mock.calls.length, 0);
    const facts = { ...alive, maxInProgressPerProfile: 100, isPidAlive: () => true };
    await explainMotions(b, small, facts);
    const before = count();
    const smallMotions = await explainMotions(b, small, facts);
    const smallCount = count() - before;
    const mid = count();
    const bigMotions = await explainMotions(b, big, facts);
    expect(count() - mid).toBe(smallCount);
    for (const s of spies) s.mockRestore();
    expect(bigMotions.size).toBe(40);
    for (const id of small) expect(smallMotions.get(id)).toEqual(await why(b, id, facts));
    expect(new Set([...bigMotions.values()].map((m) => m.code))).toEqual(
      new Set(["waiting_on_parents", "not_runnable_profile", "blocked", "running_healthy", "ready_waiting_for_tick"]),
    );
    for (const m of bigMotions.values()) expect(MOTION_CODES).toContain(m.code);
  });
});

describe("the lane's skips and the motion agree", () => {
  it("an admission hold the lane reports (held) reads as the motion of the dispatcher's hold", async () => {
    const b = board();
    const t = await b.createTask({ title: "x", assignee: "w" });
    const detail = { available_mb: 100, floor_mb: 900, profile: "w" };
    const lane = b.readyLane({ dryRun: true, hold: () => ({ code: "memory_floor", detail }) });
    const { skipped } = await b.claimNext(lane);
    expect(skipped).toHaveLength(1);
    const fromLane = laneSkipMotion(skipped[0] as (typeof skipped)[number], b.now());
    const fromWhy = await why(b, t.id, { ...alive, holds: [{ task_id: t.id, code: "memory_floor", detail }] });
    expect(fromLane).toEqual(fromWhy);
    expect(fromWhy.code).toBe("memory_floor");
  });
});

describe("no_host_for_labels (issue 15)", () => {
  const hello = async (b: TestBoard, id: string, labels: string[], tenant: string | null = null, lease = 30) =>
    await b.hostHello({
      host_id: id,
      name: null,
      labels,
      version: "1",
      capacity: 1,
      tenant,
      lease_seconds: lease,
      runs: [],
    });

  it("a ready task whose labels no connected host offers says so; once one connects, it moves", async () => {
    const b = board();
    const t = await b.createTask({ title: "ios build", assignee: "w", requires: ["macos", "xcode"] });
    const m = await why(b, t.id);
    expect(m).toMatchObject({
      moving: false,
      code: "no_host_for_labels",
      line: "Ready, but it needs a host with labels macos, xcode; no connected host has them.",
      detail: { requires: ["macos", "xcode"], missing: ["macos", "xcode"], judged: "connected_hosts" },
    });
    // A host with only one of them, and a host of another tenant with both, do not count.
    await hello(b, "kh-00000000000000a1", ["macos"]);
    await hello(b, "kh-00000000000000b2", ["macos", "xcode"], "globex");
    expect((await why(b, t.id)).detail.missing).toEqual(["xcode"]);
    // A host that offers both but went silent past its lease does not count either.
    await hello(b, "kh-00000000000000c3", ["macos", "xcode"], null, 10);
    b.clock.advance(11);
    await hello(b, "kh-00000000000000a1", ["macos"]);
    expect((await why(b, t.id)).code).toBe("no_host_for_labels");
    await hello(b, "kh-00000000000000c3", ["macos", "xcode", "gpu"]);
    expect((await why(b, t.id)).code).toBe("ready_waiting_for_tick");
  });

  it("hosts and local labels passed as facts are judged instead of the board's rows", async () => {
    const b = board();
    const t = await b.createTask({ title: "cuda", assignee: "w", requires: ["gpu"] });
    expect((await why(b, t.id, { ...alive, localLabels: ["gpu"] })).code).toBe("ready_waiting_for_tick");
    expect((await why(b, t.id, { ...alive, hosts: [{ labels: ["gpu"], connected: true }] })).code).toBe(
      "ready_waiting_for_tick",
    );
    expect((await why(b, t.id, { ...alive, hosts: [{ labels: ["gpu"], connected: false }] })).code).toBe(
      "no_host_for_labels",
    );
  });

  it("the lane's labels skip reads as the same code, naming what this dispatcher lacks", async () => {
    const b = board();
    const t = await b.createTask({ title: "x", assignee: "w", requires: ["gpu"] });
    const { skipped } = await b.claimNext(b.readyLane({ dryRun: true }));
    const m = laneSkipMotion(skipped[0] as (typeof skipped)[number], b.now());
    expect(m).toMatchObject({
      moving: false,
      code: "no_host_for_labels",
      line: "Ready, but it needs a host with labels gpu; this dispatcher does not offer gpu.",
    });
    expect((await why(b, t.id)).code).toBe("no_host_for_labels");
  });
});
