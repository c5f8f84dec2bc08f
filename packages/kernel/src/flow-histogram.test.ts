import { describe, expect, it } from "vitest";
import { percentiles } from "./flow.ts";
import { addValue, bucketOf, bucketRange, type Histogram, histogramPercentiles } from "./flow-histogram.ts";
import { seededRandom } from "./testing/helpers.ts";

describe("flow histogram buckets", () => {
  it("tile the whole numbers: each bucket's range holds its values, next to the next bucket's", () => {
    for (let b = 0; b < 64 + 16 * 40; b++) {
      const { lo, hi } = bucketRange(b);
      expect(bucketOf(lo)).toBe(b);
      expect(bucketOf(hi)).toBe(b);
      expect(bucketRange(b + 1).lo).toBe(hi + 1);
      // Below 64 every value is its own bucket; above, a bucket is at most 1/16 of its values wide.
      if (b < 64) expect(hi).toBe(lo);
      else expect(hi - lo + 1).toBeLessThanOrEqual(lo / 16);
    }
  });

  it("put values at powers of two and just below them where they belong (no rounding of log2)", () => {
    for (let octave = 6; octave < 52; octave++) {
      for (const v of [2 ** octave - 1, 2 ** octave, 2 ** octave + 1]) {
        const { lo, hi } = bucketRange(bucketOf(v));
        expect(lo).toBeLessThanOrEqual(v);
        expect(hi).toBeGreaterThanOrEqual(v);
      }
    }
    expect(bucketOf(-5)).toBe(0);
  });
});

describe("histogramPercentiles", () => {
  const of = (values: number[]): Histogram => {
    const h: Histogram = new Map();
    for (const v of values) addValue(h, v);
    return h;
  };

  it("equal percentiles() when each bucket holds one distinct value", () => {
    expect(histogramPercentiles(of([]))).toEqual({ n: 0, p50: null, p90: null, max: null });
    const values = [10, 1, 9, 2, 8, 3, 7, 4, 6, 5, 3600, 3600, 86_400, 7200, 1860];
    expect(histogramPercentiles(of(values))).toEqual(percentiles(values));
  });

  it("are within the rank's bucket (1/16) of the exact ones over spread values, and the largest is exact", () => {
    const rnd = seededRandom(21);
    for (let round = 0; round < 20; round++) {
      const values = Array.from({ length: 500 + round * 100 }, () => Math.floor(rnd() ** 3 * 30 * 86_400));
      const exact = percentiles(values);
      const approx = histogramPercentiles(of(values));
      expect(approx.n).toBe(exact.n);
      expect(approx.max).toBe(exact.max);
      for (const p of ["p50", "p90"] as const) {
        const { lo, hi } = bucketRange(bucketOf(exact[p] as number));
        expect(approx[p]).toBeGreaterThanOrEqual(lo);
        expect(approx[p]).toBeLessThanOrEqual(hi);
      }
    }
  });
});
