import type { TaskEvent } from "@kanban/kernel";

/** An event as the watcher reads it: the row plus its task's tenant and assignee, for filtering. */
export type LiveEvent = Readonly<TaskEvent & { tenant: string | null; assignee: string | null }>;

export const DEFAULT_QUEUE_CAPACITY = 2000;

/**
 * One subscriber's inbox. Bounded: a subscriber that does not keep up (a stalled browser tab, a
 * dead TCP peer) never makes the watcher wait or grow memory without limit. On overflow the queue
 * drops everything and says so once; the subscriber then re-reads from the database by its cursor,
 * so nothing is lost, only delivered later.
 */
export class EventQueue {
  private items: LiveEvent[] = [];
  private overflowed = false;
  private closed = false;
  private wake: (() => void) | null = null;

  constructor(readonly capacity: number = DEFAULT_QUEUE_CAPACITY) {}

  get length(): number {
    return this.items.length;
  }

  /** Closed: its subscriber left, or the watcher stopped (shutdown, the board was removed). */
  get isClosed(): boolean {
    return this.closed;
  }

  push(events: readonly LiveEvent[]): void {
    if (this.closed || this.overflowed || events.length === 0) return;
    if (this.items.length + events.length > this.capacity) {
      this.overflowed = true;
      this.items = [];
    } else {
      for (const e of events) this.items.push(e);
    }
    this.notify();
  }

  close(): void {
    this.closed = true;
    this.items = [];
    this.notify();
  }

  /**
   * The queued events (waiting until there are some), `"overflow"` when the subscriber must re-read
   * from the database, or null once the queue is closed or `signal` aborted.
   */
  async take(signal?: AbortSignal): Promise<LiveEvent[] | "overflow" | null> {
    for (;;) {
      if (this.closed || signal?.aborted) return null;
      if (this.overflowed) {
        this.overflowed = false;
        return "overflow";
      }
      if (this.items.length > 0) {
        const out = this.items;
        this.items = [];
        return out;
      }
      await new Promise<void>((resolve) => {
        const onAbort = () => resolve();
        signal?.addEventListener("abort", onAbort, { once: true });
        this.wake = () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        };
      });
      this.wake = null;
    }
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }
}
