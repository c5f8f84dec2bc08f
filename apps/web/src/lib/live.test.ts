import { afterEach, describe, expect, it, vi } from "vitest";
import { backoffMs, EventBatcher } from "./live.ts";

describe("backoffMs", () => {
  it("doubles from 1 s and caps at 30 s", () => {
    expect([0, 1, 2, 3, 4, 5, 6, 10].map(backoffMs)).toEqual([1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
  });
});

describe("EventBatcher", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("passes the first event on at once, then at most one flush per window with every id it saw", () => {
    vi.useFakeTimers();
    const flushes: string[][] = [];
    const b = new EventBatcher((ids) => flushes.push([...ids].sort()), 150);
    b.add("t1");
    b.add("t2");
    vi.advanceTimersByTime(0);
    expect(flushes).toEqual([["t1", "t2"]]);
    // A burst right after: held until 150 ms after the last flush, then delivered together.
    vi.advanceTimersByTime(20);
    b.add("t3");
    b.add(null);
    b.add("t4");
    b.add("t3");
    vi.advanceTimersByTime(129);
    expect(flushes).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(flushes).toEqual([
      ["t1", "t2"],
      ["t3", "t4"],
    ]);
    // After a quiet spell the next event goes straight through again.
    vi.advanceTimersByTime(1000);
    b.add("t5");
    vi.advanceTimersByTime(0);
    expect(flushes.at(-1)).toEqual(["t5"]);
  });

  it("drops a pending flush when cancelled", () => {
    vi.useFakeTimers();
    const flush = vi.fn();
    const b = new EventBatcher(flush, 150);
    b.add("t1");
    b.cancel();
    vi.advanceTimersByTime(500);
    expect(flush).not.toHaveBeenCalled();
  });
});
