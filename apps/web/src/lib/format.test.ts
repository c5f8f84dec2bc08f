import { describe, expect, it } from "vitest";
import { ago, countdown, liveness, priorityLabel, shortDuration } from "./format.ts";

describe("shortDuration", () => {
  it.each([
    [0, "now"],
    [4, "now"],
    [42, "42s"],
    [61, "1m"],
    [3599, "59m"],
    [3600, "1h"],
    [86_399, "23h"],
    [86_400, "1d"],
    [13 * 86_400, "13d"],
    [21 * 86_400, "3w"],
    [-10, "now"],
  ])("%i s reads %s", (s, out) => {
    expect(shortDuration(s)).toBe(out);
  });
});

describe("countdown", () => {
  it("shows minutes and seconds, hours when long", () => {
    expect(countdown(598)).toBe("9:58");
    expect(countdown(3723)).toBe("1:02:03");
  });
  it("says how long ago a lease expired", () => {
    expect(countdown(0)).toBe("expired");
    expect(countdown(-12)).toBe("expired 12s ago");
  });
});

describe("ago", () => {
  it("reads never for a missing time and just now for a fresh one", () => {
    expect(ago(null, 100)).toBe("never");
    expect(ago(99, 100)).toBe("just now");
    expect(ago(40, 100)).toBe("1m ago");
  });
});

describe("priorityLabel", () => {
  it("badges only non-zero priorities", () => {
    expect(priorityLabel(0)).toBeNull();
    expect(priorityLabel(3)).toBe("P3");
    expect(priorityLabel(-1)).toBe("P-1");
  });
});

describe("liveness", () => {
  const base = { now: 1000, startedAt: 900, claimExpires: 1500 };
  it("is alive with a recent heartbeat", () => {
    expect(liveness({ ...base, lastHeartbeat: 990 })).toBe("alive");
  });
  it("goes quiet, then stale, as the heartbeat ages", () => {
    expect(liveness({ ...base, lastHeartbeat: 700 })).toBe("quiet");
    expect(liveness({ ...base, lastHeartbeat: 100 })).toBe("stale");
  });
  it("is stale once the lease has expired, whatever the heartbeat", () => {
    expect(liveness({ ...base, lastHeartbeat: 999, claimExpires: 999 })).toBe("stale");
  });
  it("falls back to the start time before the first heartbeat", () => {
    expect(liveness({ ...base, lastHeartbeat: null })).toBe("alive");
    expect(liveness({ now: 1000, lastHeartbeat: null, startedAt: null, claimExpires: null })).toBe("quiet");
  });
});
