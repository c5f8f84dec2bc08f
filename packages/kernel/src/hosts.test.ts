import { describe, expect, it } from "vitest";
import { caught, mapInOrder, useTestBoards } from "./testing/helpers.ts";
import type { TestBoard } from "./testing/index.ts";
import { openTestBoardAgain } from "./testing/test-board.ts";

// Remote hosts (issue 15): hello/heartbeat renew a host's own runs in one write and answer the
// others back as revoked; claimForHost is the claim walk with the host's labels and tenant.

const board = useTestBoards();
const H1 = "kh-00000000000000a1";
const H2 = "kh-00000000000000b2";
const LEASE = 30;

async function hello(b: TestBoard, host: string, extra: { labels?: string[]; tenant?: string | null } = {}) {
  return await b.hostHello({
    host_id: host,
    name: host.slice(-2),
    labels: extra.labels ?? [],
    version: "1.0.0",
    capacity: 4,
    tenant: extra.tenant ?? null,
    lease_seconds: LEASE,
    runs: [],
  });
}

async function claimOne(b: TestBoard, host: string, labels: string[] = [], pid = 100) {
  const r = await b.claimForHost({ host_id: host, pid, labels, tenant: null, max: 1, lease_seconds: LEASE });
  const task = r.claimed[0]?.task;
  if (!task?.current_run_id) throw new Error("nothing claimed");
  return { id: task.id, run: task.current_run_id };
}

describe("host rows", () => {
  it("hello creates the row, a second hello refreshes it and keeps first_seen_at; listHosts says who is connected", async () => {
    const b = board();
    const t0 = b.now();
    await hello(b, H1, { labels: ["XCode", "macos", "macos"] });
    b.clock.advance(100);
    await b.hostHello({
      host_id: H1,
      name: "mac-1",
      labels: ["macos"],
      version: "1.1.0",
      capacity: 2,
      tenant: null,
      lease_seconds: 20,
      runs: [],
    });
    await hello(b, H2, { tenant: "acme" });
    expect(await b.getHost(H1)).toEqual({
      id: H1,
      name: "mac-1",
      labels: ["macos"],
      version: "1.1.0",
      capacity: 2,
      running: 0,
      tenant: null,
      first_seen_at: t0,
      last_seen_at: t0 + 100,
      lease_seconds: 20,
      connected: true,
    });
    b.clock.advance(25); // past H1's lease of 20, within H2's 30
    const all = await b.listHosts(null);
    expect(all.map((h) => [h.id, h.connected])).toEqual([
      [H2, true],
      [H1, false],
    ]);
    // A tenant sees its own hosts and those serving every tenant, never another tenant's.
    await hello(b, "kh-00000000000000c3", { tenant: "globex" });
    expect((await b.listHosts("acme")).map((h) => h.id).sort()).toEqual([H1, H2].sort());
  });

  it("a heartbeat from a host that never said hello is NOT_FOUND", async () => {
    const b = board();
    const err = await caught(() => b.hostHeartbeat({ host_id: H1, running: 0, runs: [], lease_seconds: LEASE }));
    expect(err.code).toBe("NOT_FOUND");
    expect((await caught(() => claimOne(b, H1))).code).toBe("NOT_FOUND");
  });
});

describe("leases belong to the host", () => {
  it("a heartbeat renews only this host's current runs: another host's run and an ended run are untouched", async () => {
    const b = board();
    await hello(b, H1);
    await hello(b, H2);
    await mapInOrder([1, 2, 3], async (i) => await b.createTask({ title: `t${i}`, assignee: "alice" }));
    const mine = await claimOne(b, H1);
    const theirs = await claimOne(b, H2);
    const ended = await claimOne(b, H1, [], 101);
    await b.completeTask(ended.id, { expected_run_id: ended.run, result: "ok" });
    const before = {
      theirs: await b.requireTask(theirs.id),
      theirsRun: await b.getRun(theirs.run),
      endedRun: await b.getRun(ended.run),
    };
    b.clock.advance(20);
    const now = b.now();
    const answer = await b.hostHeartbeat({
      host_id: H1,
      running: 2,
      runs: [mine.run, theirs.run, ended.run, 999_999],
      lease_seconds: LEASE,
    });
    expect(answer.revoked).toEqual([
      { run_id: theirs.run, task_id: theirs.id },
      { run_id: ended.run, task_id: ended.id },
      { run_id: 999_999, task_id: null },
    ]);
    const renewed = await b.requireTask(mine.id);
    expect([renewed.claim_expires, renewed.last_heartbeat_at]).toEqual([now + LEASE, now]);
    expect(await b.getRun(mine.run)).toMatchObject({ claim_expires: now + LEASE, last_heartbeat_at: now });
    expect(await b.requireTask(theirs.id)).toEqual(before.theirs);
    expect(await b.getRun(theirs.run)).toEqual(before.theirsRun);
    expect(await b.getRun(ended.run)).toEqual(before.endedRun);
    expect(await b.getHost(H1)).toMatchObject({ running: 2, last_seen_at: now });
  });

  it("hello after a silence answers the runs reclaimed meanwhile as revoked, and renews the rest", async () => {
    const b = board();
    await hello(b, H1);
    await mapInOrder([1, 2], async (i) => await b.createTask({ title: `t${i}`, assignee: "alice" }));
    const kept = await claimOne(b, H1);
    const lost = await claimOne(b, H1);
    await b.reclaimTask(lost.id, { reason: "host went silent" });
    b.clock.advance(10);
    const answer = await b.hostHello({
      host_id: H1,
      name: "mac-1",
      labels: [],
      version: "1.0.0",
      capacity: 4,
      tenant: null,
      lease_seconds: LEASE,
      runs: [kept.run, lost.run],
    });
    expect(answer.revoked).toEqual([{ run_id: lost.run, task_id: lost.id }]);
    expect((await b.requireTask(kept.id)).claim_expires).toBe(b.now() + LEASE);
    expect(await b.getHost(H1)).toMatchObject({ running: 2 });
  });
});

describe("claimForHost", () => {
  it("claims with lock <host_id>:<pid> and the host's lease, and never a task whose labels the host lacks", async () => {
    const b = board();
    await hello(b, H1, { labels: ["macos"] });
    const ios = (await b.createTask({ title: "ios", assignee: "alice", requires: ["macos", "xcode"] })).id;
    const mac = (await b.createTask({ title: "mac", assignee: "alice", requires: ["macos"] })).id;
    const r = await b.claimForHost({
      host_id: H1,
      pid: 77,
      labels: ["macos"],
      tenant: null,
      max: 5,
      lease_seconds: LEASE,
    });
    expect(r.claimed.map((c) => c.task_id)).toEqual([mac]);
    expect(r.skipped).toEqual([{ task_id: ios, reason: "labels", requires: ["macos", "xcode"], missing: ["xcode"] }]);
    expect(await b.requireTask(mac)).toMatchObject({ claim_lock: `${H1}:77`, claim_expires: b.now() + LEASE });
    // Asked again and again, it still never takes the task.
    for (let i = 0; i < 3; i++) {
      const again = await b.claimForHost({
        host_id: H1,
        pid: 77,
        labels: ["macos"],
        tenant: null,
        max: 5,
        lease_seconds: LEASE,
      });
      expect(again.claimed).toEqual([]);
    }
    expect((await b.requireTask(ios)).status).toBe("ready");
  });

  it("a tenant-bound host claims only its tenant's tasks; `isSpawnable` limits the assignees", async () => {
    const b = board();
    await hello(b, H1, { tenant: "acme" });
    const globex = (await b.createTask({ title: "g", assignee: "alice", tenant: "globex" })).id;
    const bob = (await b.createTask({ title: "b", assignee: "bob", tenant: "acme" })).id;
    const alice = (await b.createTask({ title: "a", assignee: "alice", tenant: "acme" })).id;
    const r = await b.claimForHost({
      host_id: H1,
      pid: 1,
      labels: [],
      tenant: "acme",
      max: 5,
      lease_seconds: LEASE,
      isSpawnable: (p) => p === "alice",
    });
    expect(r.claimed.map((c) => c.task_id)).toEqual([alice]);
    expect(r.skipped).toEqual([{ task_id: bob, reason: "not_a_profile", assignee: "bob" }]);
    expect((await b.requireTask(globex)).status).toBe("ready");
  });

  it("two hosts claiming at once, each through its own connection, never claim the same task", async () => {
    const a = board();
    const other = openTestBoardAgain(a, { clock: a.clock });
    try {
      await hello(a, H1);
      await hello(a, H2);
      const all = await mapInOrder(
        Array.from({ length: 12 }, (_, i) => i),
        async (i) => (await a.createTask({ title: `t${i}`, assignee: "alice" })).id,
      );
      const claimed: { host: string; id: string }[] = [];
      // Rounds of simultaneous claims until the lane is empty.
      for (let round = 0; round < 20 && claimed.length < all.length; round++) {
        const [r1, r2] = await Promise.all([
          a.claimForHost({ host_id: H1, pid: 1, labels: [], tenant: null, max: 2, lease_seconds: LEASE }),
          other.claimForHost({ host_id: H2, pid: 2, labels: [], tenant: null, max: 2, lease_seconds: LEASE }),
        ]);
        for (const c of r1.claimed) claimed.push({ host: H1, id: c.task_id });
        for (const c of r2.claimed) claimed.push({ host: H2, id: c.task_id });
      }
      const claimedIds = claimed.map((c) => c.id);
      expect(new Set(claimedIds).size).toBe(claimedIds.length);
      expect([...claimedIds].sort()).toEqual([...all].sort());
      for (const c of claimed) {
        const t = await a.requireTask(c.id);
        expect(t.claim_lock?.startsWith(`${c.host}:`)).toBe(true);
        const runs = await a.listRuns(c.id, { include_active: true });
        expect(runs).toHaveLength(1);
      }
    } finally {
      await other.close();
    }
  });
});

describe("a remote run's worker heartbeat", () => {
  it("records the heartbeat but never carries the claim past the host's lease: a silent host loses it", async () => {
    const b = board();
    await hello(b, H1);
    await b.createTask({ title: "remote", assignee: "alice" });
    const run = await claimOne(b, H1);
    b.clock.advance(10);
    await b.hostHeartbeat({ host_id: H1, running: 1, runs: [run.run], lease_seconds: LEASE });
    const hostDeadline = b.now() + LEASE;
    b.clock.advance(5);
    // The worker heartbeats through the API (run token → fenced on its run) with the board's 900 s TTL.
    expect(await b.heartbeat(run.id, { expected_run_id: run.run })).toBe(true);
    let task = await b.requireTask(run.id);
    expect([task.claim_expires, task.last_heartbeat_at]).toEqual([hostDeadline, b.now()]);
    expect(await b.heartbeatClaim(run.id, { expected_run_id: run.run, ttl_seconds: 3600 })).toBe(true);
    expect((await b.requireTask(run.id)).claim_expires).toBe(hostDeadline);
    // The host goes silent; its worker keeps heartbeating every 10 s through another path.
    for (let i = 0; i < 3; i++) {
      b.clock.advance(10);
      await b.heartbeatWorker(run.id, { expected_run_id: run.run });
      await b.heartbeatClaim(run.id, { expected_run_id: run.run });
    }
    expect(b.now()).toBeGreaterThan(hostDeadline);
    task = await b.requireTask(run.id);
    expect([task.claim_expires, task.last_heartbeat_at]).toEqual([hostDeadline, b.now()]);
    expect((await b.getRun(run.run))?.claim_expires).toBe(hostDeadline);
    const swept = await b.releaseStaleClaims();
    expect(swept.reclaimed).toEqual([run.id]);
    const after = await b.requireTask(run.id);
    expect([after.status, after.claim_lock]).toEqual(["ready", null]);
    expect((await b.getRun(run.run))?.outcome).toBe("reclaimed");
    // Its next heartbeat hears that the run is not its own any more.
    expect((await b.hostHeartbeat({ host_id: H1, running: 1, runs: [run.run], lease_seconds: LEASE })).revoked).toEqual(
      [{ run_id: run.run, task_id: run.id }],
    );
  });

  it("a heartbeating host keeps its claim; a local claim's heartbeat still extends by the board's claim TTL", async () => {
    const b = board();
    await hello(b, H1);
    await b.createTask({ title: "remote", assignee: "alice" });
    const remote = await claimOne(b, H1);
    for (let i = 0; i < 4; i++) {
      b.clock.advance(20);
      await b.hostHeartbeat({ host_id: H1, running: 1, runs: [remote.run], lease_seconds: LEASE });
      await b.heartbeat(remote.id, { expected_run_id: remote.run });
    }
    expect((await b.requireTask(remote.id)).claim_expires).toBe(b.now() + LEASE);
    const local = await b.createTask({ title: "local", assignee: "alice" });
    const claimed = await b.claimTask(local.id, { claimer: "workstation:4242", ttl_seconds: 60 });
    if (!claimed?.current_run_id) throw new Error("not claimed");
    b.clock.advance(30);
    expect(await b.heartbeat(local.id, { expected_run_id: claimed.current_run_id })).toBe(true);
    const t = await b.requireTask(local.id);
    expect([t.claim_expires, t.last_heartbeat_at]).toEqual([b.now() + 900, b.now()]);
    b.clock.advance(LEASE + 1);
    const swept = await b.releaseStaleClaims();
    expect(swept.reclaimed).toEqual([remote.id]);
    expect((await b.requireTask(local.id)).status).toBe("running");
  });
});
