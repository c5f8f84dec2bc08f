/** Percentile of a sample (nearest-rank), in the sample's unit. */
export function percentile(sample: number[], p: number): number {
  if (sample.length === 0) return Number.NaN;
  const sorted = [...sample].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

/** Median of a sample (the mean of the middle two when it has an even count); NaN when empty. */
export function median(sample: number[]): number {
  if (sample.length === 0) return Number.NaN;
  const sorted = [...sample].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Runs `fn` repeatedly for `seconds` and returns operations per second. */
export function throughput(seconds: number, fn: () => void): { ops: number; perSecond: number } {
  const end = performance.now() + seconds * 1000;
  let ops = 0;
  while (performance.now() < end) {
    fn();
    ops++;
  }
  return { ops, perSecond: ops / seconds };
}

/**
 * {@link throughput} for an asynchronous operation: each call is awaited before the next starts, so
 * only finished operations count. (A separate function, so that the synchronous loops measured beside
 * it pay no microtask per operation.)
 */
export async function throughputAsync(
  seconds: number,
  fn: () => Promise<unknown>,
): Promise<{ ops: number; perSecond: number }> {
  const end = performance.now() + seconds * 1000;
  let ops = 0;
  while (performance.now() < end) {
    await fn();
    ops++;
  }
  return { ops, perSecond: ops / seconds };
}

/** Times each call of `fn` `n` times; returns milliseconds per call. */
export function timings(n: number, fn: () => void): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    fn();
    out.push(performance.now() - t0);
  }
  return out;
}

export const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;
