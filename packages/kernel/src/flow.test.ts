import { describe, expect, it } from "vitest";
import { percentiles, utcDay } from "./flow.ts";
import { caught, useTestBoards } from "./testing/helpers.ts";

const board = useTestBoards();
const DAY = 86_400;
/** 2025-06-01T00:00:00Z: the days below are whole UTC days. */
const T0 = 1_748_736_000;

describe("percentiles", () => {
  it("are nearest-rank, and null over nothing", () => {
    expect(percentiles([])).toEqual({ n: 0, p50: null, p90: null, max: null });
    expect(percentiles([5])).toEqual({ n: 1, p50: 5, p90: 5, max: 5 });
    expect(percentiles([10, 1, 9, 2, 8, 3, 7, 4, 6, 5])).toEqual({ n: 10, p50: 5, p90: 9, max: 10 });
  });

  it("name UTC days", () => {
    expect(utcDay(T0)).toBe("2025-06-01");
    expect(utcDay(T0 + DAY - 1)).toBe("2025-06-01");
    expect(utcDay(T0 + DAY)).toBe("2025-06-02");
  });
});

describe("flowStats", () => {
  it("measures throughput per day, cycle and lead times, time in status, blocked reasons and rework from the board's own rows", async () => {
    const b = board();
    b.clock.set(T0);
    // a: created, waits 1 h, runs 2 h, done (day 1).
    const a = await b.createTask({ title: "a", assignee: "coder" });
    b.clock.advance(3600);
    await b.claimTask(a.id, { claimer: "h:1" });
    b.clock.advance(7200);
    await b.completeTask(a.id, { summary: "ok" });

    // c: blocked for input 1 day, then runs twice (a crash-like reclaim, then done) on day 2.
    const c = await b.createTask({ title: "c", assignee: "coder" });
    await b.blockTask(c.id, { reason: "which API key?", kind: "needs_input" });
    b.clock.advance(DAY);
    await b.unblockTask(c.id);
    await b.claimTask(c.id, { claimer: "h:1" });
    b.clock.advance(600);
    await b.reclaimTask(c.id, { reason: "host lost" });
    b.clock.advance(60);
    await b.claimTask(c.id, { claimer: "h:1" });
    b.clock.advance(1200);
    await b.completeTask(c.id, { summary: "ok" });

    // d: still ready, entered the lane 30 min before "now"; e: blocked untyped, still open.
    const d = await b.createTask({ title: "d", assignee: "reviewer" });
    const e = await b.createTask({ title: "e" });
    await b.blockTask(e.id, { reason: "waiting on legal" });
    b.clock.advance(1800);
    const now = b.clock.seconds;

    const flow = await b.flowStats({ since: T0, until: T0 + 3 * DAY });
    expect(flow.since).toBe(T0);
    expect(flow.throughput).toEqual([
      { day: "2025-06-01", done: 1 },
      { day: "2025-06-02", done: 1 },
      { day: "2025-06-03", done: 0 },
    ]);
    expect(flow.done).toBe(2);
    // a: claim → done 2 h; c: first claim → done 600 + 60 + 1200 s.
    expect(flow.cycle_time_seconds).toEqual({ n: 2, p50: 1860, p90: 7200, max: 7200 });
    // a: 3 h; c: created at T0 + 3 h, done 1 day + 1860 s later.
    expect(flow.lead_time_seconds).toEqual({ n: 2, p50: 3 * 3600, p90: DAY + 1860, max: DAY + 1860 });
    expect(flow.time_in_status_seconds.running).toEqual({ n: 2, p50: 1800, p90: 7200, max: 7200 });
    expect(flow.time_in_status_seconds.blocked).toEqual({ n: 2, p50: 0, p90: DAY, max: DAY });
    // a waited 1 h in ready; c waited 60 s between its runs.
    expect(flow.time_in_status_seconds.waiting).toEqual({ n: 2, p50: 60, p90: 3600, max: 3600 });
    expect(flow.ready_queue).toEqual({ count: 1, age_seconds: { n: 1, p50: 1800, p90: 1800, max: 1800 } });
    expect(flow.blocked).toEqual([
      { reason: "needs_input", episodes: 1, open: 0, seconds: { n: 1, p50: DAY, p90: DAY, max: DAY } },
      { reason: "untyped", episodes: 1, open: 1, seconds: { n: 1, p50: 1800, p90: 1800, max: 1800 } },
    ]);
    expect(flow.rework).toEqual({ runs_per_done_card: 1.5, reworked_cards: 1, runs: { n: 2, p50: 1, p90: 2, max: 2 } });
    expect(flow.by_profile).toEqual([
      {
        profile: "coder",
        runs: 3,
        completed: 2,
        success_rate: 0.67,
        outcomes: { completed: 2, reclaimed: 1 },
      },
    ]);
    expect(d.status).toBe("ready");
    expect(now).toBe(T0 + 3 * 3600 + DAY + 1860 + 1800);
  });

  it("counts only what the window and the tenant hold", async () => {
    const b = board();
    b.clock.set(T0);
    for (const tenant of ["acme", "other", "acme"]) {
      const t = await b.createTask({ title: tenant, assignee: "coder", tenant });
      await b.claimTask(t.id, { claimer: "h:1" });
      b.clock.advance(100);
      await b.completeTask(t.id, { summary: "ok" });
    }
    b.clock.advance(10 * DAY);
    const late = await b.createTask({ title: "late", assignee: "coder", tenant: "acme" });
    await b.completeTask(late.id, { summary: "by hand" });

    const acme = await b.flowStats({ since: T0, until: T0 + DAY, tenant: "acme" });
    expect(acme.done).toBe(2);
    expect(acme.by_profile).toEqual([
      { profile: "coder", runs: 2, completed: 2, success_rate: 1, outcomes: { completed: 2 } },
    ]);
    expect((await b.flowStats({ since: T0, until: T0 + DAY })).done).toBe(3);
    // The default window is the 30 days before now: all four, the hand-completed one without a cycle time.
    const all = await b.flowStats();
    expect(all.done).toBe(4);
    expect(all.cycle_time_seconds.n).toBe(3);
    // Thirty days from a time of day to the same time of day touch 31 calendar days.
    expect(all.throughput).toHaveLength(31);
  });

  it("refuses a window that is empty, reversed or longer than a year", async () => {
    const b = board();
    expect((await caught(() => b.flowStats({ since: T0, until: T0 }))).code).toBe("INVALID_INPUT");
    expect((await caught(() => b.flowStats({ since: T0 + 1, until: T0 }))).code).toBe("INVALID_INPUT");
    expect((await caught(() => b.flowStats({ since: T0, until: T0 + 400 * DAY }))).code).toBe("INVALID_INPUT");
    expect((await caught(() => b.flowStats({ since: 1.5, until: T0 }))).code).toBe("INVALID_INPUT");
  });
});
