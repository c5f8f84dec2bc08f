/**
 * The histograms flow keeps per tenant, day and metric (issue 21: flow at 100,000 cards in well under
 * 100 ms cannot read every done card). A value is a whole number of seconds (or runs).
 *
 * Buckets: every value below 64 has its own bucket; above, each power of two is cut into 16 equal
 * buckets, so a bucket is at most 1/16 of its values wide. A bucket keeps how many values it holds,
 * their sum and the smallest and largest of them, which makes a percentile exact whenever its bucket
 * holds one distinct value (the common case on a small board) and otherwise the bucket's mean, never
 * outside the values the bucket really holds. The largest value is always exact.
 */

export interface Percentiles {
  /** How many values the percentiles are over. */
  n: number;
  p50: number | null;
  p90: number | null;
  max: number | null;
}

/** Nearest-rank percentiles of `values` (any order); nulls when there are none. */
export function percentiles(values: readonly number[]): Percentiles {
  if (values.length === 0) return { n: 0, p50: null, p90: null, max: null };
  // A typed array sorts numbers natively, several times faster than a comparator over 70,000 cards.
  const sorted = Float64Array.from(values).sort();
  const rank = (p: number) => sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] as number;
  return { n: sorted.length, p50: rank(50), p90: rank(90), max: sorted[sorted.length - 1] as number };
}

const EXACT_BELOW = 64;
const SUB_BUCKETS = 16;
/** log2(SUB_BUCKETS): a value's top 5 bits (the leading one and 4 more) name its bucket. */
const SUB_BITS = 4;
const FIRST_OCTAVE = Math.log2(EXACT_BELOW);

/** The bucket of a value; negative values (a clock set back) count as 0. */
export function bucketOf(value: number): number {
  const v = Math.max(0, Math.floor(value));
  if (v < EXACT_BELOW) return v;
  const octave = octaveOf(v);
  const width = 2 ** (octave - SUB_BITS);
  const sub = Math.floor(v / width) - SUB_BUCKETS;
  return EXACT_BELOW + (octave - FIRST_OCTAVE) * SUB_BUCKETS + sub;
}

/** The power of two a whole number ≥ 1 falls in (floor of its log2), computed without rounding. */
function octaveOf(v: number): number {
  if (v < 2 ** 32) return 31 - Math.clz32(v);
  let octave = Math.floor(Math.log2(v));
  while (2 ** octave > v) octave--;
  while (2 ** (octave + 1) <= v) octave++;
  return octave;
}

/** The values a bucket can hold, inclusive. */
export function bucketRange(bucket: number): { lo: number; hi: number } {
  if (bucket < EXACT_BELOW) return { lo: bucket, hi: bucket };
  const octave = FIRST_OCTAVE + Math.floor((bucket - EXACT_BELOW) / SUB_BUCKETS);
  const sub = (bucket - EXACT_BELOW) % SUB_BUCKETS;
  const width = 2 ** (octave - SUB_BITS);
  const lo = (SUB_BUCKETS + sub) * width;
  return { lo, hi: lo + width - 1 };
}

/** One bucket's tally. */
export interface BucketTally {
  n: number;
  total: number;
  min: number;
  max: number;
}

/** A histogram: bucket number → tally. */
export type Histogram = Map<number, BucketTally>;

/** Adds `n` values whose sum is `total`, smallest `min` and largest `max`, to a bucket. */
export function addTally(h: Histogram, bucket: number, t: BucketTally): void {
  const had = h.get(bucket);
  if (!had) h.set(bucket, { ...t });
  else {
    had.n += t.n;
    had.total += t.total;
    had.min = Math.min(had.min, t.min);
    had.max = Math.max(had.max, t.max);
  }
}

/** Adds one value. */
export function addValue(h: Histogram, value: number): void {
  const v = Math.max(0, Math.floor(value));
  addTally(h, bucketOf(v), { n: 1, total: v, min: v, max: v });
}

/**
 * Nearest-rank p50 and p90 and the largest value, as `percentiles()` gives over the values
 * themselves: exact when the rank's bucket holds one distinct value, else that bucket's mean.
 */
export function histogramPercentiles(h: Histogram): Percentiles {
  const buckets = [...h.entries()].filter(([, t]) => t.n > 0).sort((a, b) => a[0] - b[0]);
  const n = buckets.reduce((s, [, t]) => s + t.n, 0);
  if (n === 0) return { n: 0, p50: null, p90: null, max: null };
  const at = (p: number): number => {
    const rank = Math.max(1, Math.ceil((p / 100) * n));
    let seen = 0;
    for (const [, t] of buckets) {
      seen += t.n;
      if (seen >= rank) {
        if (t.min === t.max) return t.min;
        return Math.min(t.max, Math.max(t.min, Math.round(t.total / t.n)));
      }
    }
    return (buckets[buckets.length - 1] as [number, BucketTally])[1].max;
  };
  return { n, p50: at(50), p90: at(90), max: (buckets[buckets.length - 1] as [number, BucketTally])[1].max };
}
