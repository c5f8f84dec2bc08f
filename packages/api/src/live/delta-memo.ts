/**
 * One read per burst, shared by every subscriber that asks for the same thing while it is fresh: a
 * board's viewers all receive the watcher's burst at once, so the first to ask reads the delta and
 * the others await the same promise (issue 19: the server's cost follows the change, not the number
 * of viewers). A failed read is forgotten at once, so the next subscriber tries again.
 */
export class DeltaMemo {
  private readonly entries = new Map<string, { at: number; value: Promise<unknown> }>();
  /** How many reads were made (tests assert one per burst, however many viewers). */
  reads = 0;

  constructor(
    /** How long an answer is reused: a subscriber a little behind the others still finds it. */
    private readonly ttlMs = 5_000,
    private readonly now: () => number = () => Date.now(),
  ) {}

  get<T>(key: string, read: () => Promise<T>): Promise<T> {
    const now = this.now();
    for (const [k, e] of this.entries) if (now - e.at > this.ttlMs) this.entries.delete(k);
    const hit = this.entries.get(key);
    if (hit) return hit.value as Promise<T>;
    this.reads++;
    const value = read();
    this.entries.set(key, { at: now, value });
    value.catch(() => {
      if (this.entries.get(key)?.value === value) this.entries.delete(key);
    });
    return value;
  }

  get size(): number {
    return this.entries.size;
  }
}
