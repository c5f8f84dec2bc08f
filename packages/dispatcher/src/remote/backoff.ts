/**
 * Retry delays of a remote host: 1 s, 2 s, 4 s … up to 30 s, each drawn between half and all of it
 * (jitter), so that hosts cut off together do not all come back in the same second.
 */
export class Backoff {
  private failures = 0;

  constructor(
    private readonly minMs = 1000,
    private maxMs = 30_000,
    private readonly random: () => number = Math.random,
  ) {}

  /**
   * Lowers the longest delay (never below the shortest). A host caps it at its heartbeat period once
   * the server has named one: a lease is three heartbeats, so a host that retries no slower than it
   * heartbeats is back within its lease after the server returns, instead of waiting out a 30 s
   * delay while its claims expire.
   */
  capAt(ms: number): void {
    this.maxMs = Math.max(this.minMs, Math.min(this.maxMs, ms));
  }

  /** The delay before the next attempt (and one more failure counted). */
  next(): number {
    const ceiling = Math.min(this.maxMs, this.minMs * 2 ** Math.min(this.failures, 30));
    this.failures++;
    return Math.round(ceiling / 2 + (this.random() * ceiling) / 2);
  }

  /** The longest delay, in ms. */
  get ceilingMs(): number {
    return this.maxMs;
  }

  reset(): void {
    this.failures = 0;
  }

  get attempts(): number {
    return this.failures;
  }
}
