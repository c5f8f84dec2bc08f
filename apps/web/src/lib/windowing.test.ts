import { describe, expect, it } from "vitest";
import { buildOffsets, scrollToReveal, visibleRange } from "./windowing.ts";

describe("windowing", () => {
  const offsets = buildOffsets(Array.from({ length: 5000 }, () => 100));

  it("builds prefix sums", () => {
    expect(buildOffsets([10, 20, 30])).toEqual([0, 10, 30, 60]);
    expect(offsets[5000]).toBe(500_000);
  });

  it("renders only what intersects the viewport plus overscan", () => {
    expect(visibleRange(offsets, 0, 600, 0)).toEqual({ start: 0, end: 7 });
    expect(visibleRange(offsets, 250_000, 600, 200)).toEqual({ start: 2498, end: 2509 });
    expect(visibleRange(offsets, 499_500, 600, 0).end).toBe(5000);
  });

  it("handles an empty list and uneven heights", () => {
    expect(visibleRange(buildOffsets([]), 0, 600, 100)).toEqual({ start: 0, end: 0 });
    const uneven = buildOffsets([50, 300, 50, 50]);
    expect(visibleRange(uneven, 100, 100, 0)).toEqual({ start: 1, end: 2 });
  });

  it("scrolls just enough to reveal an item", () => {
    expect(scrollToReveal(offsets, 10, 0, 600)).toBe(500);
    expect(scrollToReveal(offsets, 2, 500, 600)).toBe(200);
    expect(scrollToReveal(offsets, 6, 200, 600)).toBe(200);
  });
});
