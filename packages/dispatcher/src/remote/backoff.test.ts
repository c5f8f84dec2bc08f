import { describe, expect, it } from "vitest";
import { Backoff } from "./backoff.ts";

describe("a remote host's retry backoff", () => {
  it("doubles from 1 s to 30 s, each delay between half and all of its ceiling", () => {
    const low = new Backoff(1000, 30_000, () => 0);
    const high = new Backoff(1000, 30_000, () => 1);
    const lows = Array.from({ length: 8 }, () => low.next());
    const highs = Array.from({ length: 8 }, () => high.next());
    expect(highs).toEqual([1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
    expect(lows).toEqual([500, 1000, 2000, 4000, 8000, 15_000, 15_000, 15_000]);
    expect(low.attempts).toBe(8);
    low.reset();
    expect(low.next()).toBe(500);
  });

  it("capped at the heartbeat period, it never waits longer than one heartbeat (a lease is three)", () => {
    const b = new Backoff(1000, 30_000, () => 1);
    b.capAt(10_000);
    expect(b.ceilingMs).toBe(10_000);
    expect(Array.from({ length: 7 }, () => b.next())).toEqual([1000, 2000, 4000, 8000, 10_000, 10_000, 10_000]);
    // A cap never raises the ceiling, nor lowers it under the shortest delay.
    b.capAt(60_000);
    expect(b.ceilingMs).toBe(10_000);
    b.capAt(10);
    expect(b.ceilingMs).toBe(1000);
  });
});
