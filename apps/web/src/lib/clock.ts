/**
 * How far the server's clock is from this browser's, learnt from the `now` (whole unix seconds) of
 * each board answer. Every sample reads the server low: its `now` is rounded down (by half a second
 * on average, corrected here) and it arrives after the answer's latency (and the render that reads
 * it), which on a busy server is a second or more. So the estimate is the highest sample of the
 * last minute, not the latest: a slow answer, or one served from the cache long after it was made,
 * cannot pull the page's clock back and make a host that is past its lease read "just now".
 * Samples older than a minute are forgotten, so a server clock that was stepped back is followed.
 */
export class SkewEstimator {
  private samples: { at: number; skew: number }[] = [];

  constructor(private readonly windowMs = 60_000) {}

  /** A server `now` (unix seconds, rounded down) seen at `clientMs` (Date.now()); returns the skew in seconds. */
  learn(serverNow: number, clientMs: number): number {
    this.samples = this.samples.filter((s) => clientMs - s.at <= this.windowMs);
    this.samples.push({ at: clientMs, skew: serverNow + 0.5 - clientMs / 1000 });
    return this.skew();
  }

  skew(): number {
    return this.samples.length === 0 ? 0 : Math.max(...this.samples.map((s) => s.skew));
  }
}
