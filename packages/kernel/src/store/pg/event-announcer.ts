/**
 * Wakes the live-event listeners of one PostgreSQL board (every API replica's LISTEN connection) after
 * this process wrote events, with at most one notification every `gapMs`.
 *
 * Why coalesced: a transaction that sends a NOTIFY takes one lock of the whole database cluster while
 * it commits (PostgreSQL keeps notifications in commit order that way), so one notification per write
 * made every event-writing commit wait for the one before it. A notification only wakes listeners,
 * which then read everything after their cursor, so one per burst tells them as much as one per write.
 *
 * How: the first commit with events after a quiet `gapMs` carries the notification itself (the
 * session appends it to its COMMIT: no extra round trip, and a one-shot CLI call is announced by its
 * own commit, with nothing left to send before it exits). A commit within the gap owes one instead,
 * sent on its own when the gap ends, once for all the commits owed. Listeners learn of a write at
 * most `gapMs` (and a round trip) after its commit; a process killed with a notification owed leaves
 * it to the listeners' backstop poll.
 */
export class EventAnnouncer {
  /** When the last notification was sent or handed to a commit (performance.now()). */
  private last = Number.NEGATIVE_INFINITY;
  private timer: NodeJS.Timeout | null = null;
  private sending: Promise<void> | null = null;
  /** Notifications sent or handed to a commit; read by tests. */
  announced = 0;

  constructor(
    private readonly gapMs: number,
    /** Sends one notification on its own (outside any transaction). Must not throw. */
    private readonly send: () => Promise<void>,
  ) {}

  /**
   * A transaction that wrote events is about to commit: true when its commit is to carry the
   * notification; otherwise one is owed.
   */
  takeTurn(): boolean {
    if (this.timer === null && performance.now() - this.last >= this.gapMs) {
      this.last = performance.now();
      this.announced++;
      return true;
    }
    this.owe();
    return false;
  }

  /** Events were committed without a notification (a statement outside a transaction): send one soon. */
  owe(): void {
    if (this.timer !== null) return;
    const wait = Math.max(0, this.last + this.gapMs - performance.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      this.fire();
    }, wait);
    // An owed notification never keeps a process alive; close() sends it (see flush).
    this.timer.unref();
  }

  /** Sends what is owed now and waits for what is in flight (the board is closing). */
  async flush(): Promise<void> {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
      this.fire();
    }
    await this.sending;
  }

  private fire(): void {
    this.last = performance.now();
    this.announced++;
    const sending = this.send().finally(() => {
      if (this.sending === sending) this.sending = null;
    });
    this.sending = sending;
  }
}
