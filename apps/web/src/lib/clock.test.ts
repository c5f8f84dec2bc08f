import { describe, expect, it } from "vitest";
import { SkewEstimator } from "./clock.ts";

describe("SkewEstimator", () => {
  it("centres a rounded-down server second", () => {
    const e = new SkewEstimator();
    // The server said 1000 (it was 1000.0 to 1000.99) when this browser's clock read 1000.000 s.
    expect(e.learn(1000, 1_000_000)).toBeCloseTo(0.5);
  });

  it("keeps the highest sample of the window: a late or cached answer does not pull the clock back", () => {
    const e = new SkewEstimator(60_000);
    expect(e.learn(1000, 1_000_000)).toBeCloseTo(0.5);
    // The same server second read 2.5 s later (a slow answer, or one re-rendered from the cache).
    expect(e.learn(1000, 1_002_500)).toBeCloseTo(0.5);
    // A fresher answer that shows the server further ahead wins.
    expect(e.learn(1004, 1_003_000)).toBeCloseTo(1.5);
  });

  it("forgets samples older than its window (a server clock stepped back is followed)", () => {
    const e = new SkewEstimator(60_000);
    e.learn(1100, 1_000_000);
    expect(e.learn(1000, 1_030_000)).toBeCloseTo(100.5);
    expect(e.learn(1061, 1_061_000)).toBeCloseTo(0.5);
  });

  it("is zero before any answer", () => {
    expect(new SkewEstimator().skew()).toBe(0);
  });
});
