/** How long to wait before the next reconnect attempt: 1 s, 2 s, 4 s … capped at 30 s. */
export function backoffMs(attempt: number): number {
  return Math.min(30_000, 1000 * 2 ** Math.max(0, attempt));
}

/** At most one board reload per this many ms while events keep coming. */
export const LIVE_DEBOUNCE_MS = 150;

export type LiveStatus = "connecting" | "live" | "reconnecting" | "offline";

/** What the indicator says; "offline" once reconnecting has failed for a while. */
export const LIVE_LABEL: Record<LiveStatus, string> = {
  connecting: "Connecting…",
  live: "Live",
  reconnecting: "Reconnecting…",
  offline: "Offline: retrying",
};

/**
 * Collects the task ids touched by events and hands them over at most once per `delayMs`: the
 * first event after a quiet spell is passed on at once (a lone change shows up fast), and a burst
 * (a bulk move, a busy fleet) costs one reload per window however many events it holds.
 */
export class EventBatcher {
  private ids = new Set<string>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private lastFlush = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly flush: (taskIds: Set<string>) => void,
    private readonly delayMs: number = LIVE_DEBOUNCE_MS,
    private readonly now: () => number = () => Date.now(),
  ) {}

  add(taskId: string | null): void {
    if (taskId) this.ids.add(taskId);
    if (this.timer !== null) return;
    // Events of one SSE message arrive in the same tick: a zero delay still groups them.
    const wait = Math.max(0, this.lastFlush + this.delayMs - this.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      this.lastFlush = this.now();
      const ids = this.ids;
      this.ids = new Set();
      this.flush(ids);
    }, wait);
  }

  cancel(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.ids.clear();
  }
}
