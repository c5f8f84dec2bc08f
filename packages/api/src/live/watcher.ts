import { type Board, openBoard } from "@kanban/kernel";
import { eventFromRowForLive } from "./rows.ts";
import { DEFAULT_QUEUE_CAPACITY, EventQueue, type LiveEvent } from "./queue.ts";
import type { Logger } from "../logger.ts";

export const DEFAULT_POLL_INTERVAL_MS = 150;
/** Rows read per query when catching up; a burst larger than this is read in several pages. */
const PAGE = 500;

export interface Subscription {
  readonly queue: EventQueue;
  close(): void;
}

/**
 * The single reader of one board's `task_events` in this process. Every `intervalMs` it asks
 * the kernel for the newest event id (`latestEventId`, one prepared statement) (an index lookup, cheap enough to run forever);
 * only when that moved does it read the new rows, once, and hand the same rows to every
 * subscriber's queue. Pushing never waits on a subscriber. It has its own connection so that it
 * sees commits by any process (the CLI, the dispatcher, workers, Hermes itself) and never contends
 * with request handling for the board's statement cache.
 */
export class BoardWatcher {
  private board: Board | null = null;
  private timer: NodeJS.Timeout | null = null;
  private pokeScheduled = false;
  private lastId = 0;
  private readonly subs = new Set<EventQueue>();
  /** How many times rows were read (tests assert one read per burst, not one per subscriber). */
  reads = 0;

  constructor(
    readonly dbPath: string,
    private readonly opts: { intervalMs?: number; logger?: Logger; onIdle?: (w: BoardWatcher) => void } = {},
  ) {}

  get subscriberCount(): number {
    return this.subs.size;
  }

  get cursor(): number {
    return this.lastId;
  }

  subscribe(capacity: number = DEFAULT_QUEUE_CAPACITY): Subscription {
    this.start();
    const queue = new EventQueue(capacity);
    this.subs.add(queue);
    return {
      queue,
      close: () => {
        queue.close();
        if (this.subs.delete(queue) && this.subs.size === 0) {
          this.stop();
          this.opts.onIdle?.(this);
        }
      },
    };
  }

  /** Polls soon (after the current tick): an in-process write need not wait for the next interval. */
  poke(): void {
    if (this.timer === null || this.pokeScheduled) return;
    this.pokeScheduled = true;
    setImmediate(() => {
      this.pokeScheduled = false;
      this.poll();
    });
  }

  private start(): void {
    if (this.timer !== null) return;
    this.board = openBoard({ path: this.dbPath, integrityCheck: false, warn: (m) => this.opts.logger?.warn(m) });
    this.lastId = this.board.latestEventId();
    const timer = setInterval(() => this.poll(), this.opts.intervalMs ?? DEFAULT_POLL_INTERVAL_MS);
    // The watcher alone must never keep a process (a CLI, a test run) alive.
    timer.unref();
    this.timer = timer;
  }

  /** Stops polling and ends every subscriber's stream (server shutdown). */
  stop(): void {
    for (const q of this.subs) q.close();
    this.subs.clear();
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.board?.close();
    this.board = null;
  }

  /** One poll: cheap max(id); rows only when it moved. Errors are logged and retried next tick. */
  poll(): void {
    const board = this.board;
    if (board === null) return;
    try {
      const max = board.latestEventId();
      // Ids are AUTOINCREMENT: deleting the newest rows lowers max(id) but never causes reuse.
      if (max <= this.lastId) return;
      for (;;) {
        const rows = board.liveEventRows(this.lastId, PAGE);
        if (rows.length === 0) break;
        this.reads++;
        const events: LiveEvent[] = rows.map(eventFromRowForLive);
        const last = events[events.length - 1];
        if (last) this.lastId = last.id;
        for (const q of this.subs) q.push(events);
        if (rows.length < PAGE) break;
      }
    } catch (err) {
      this.opts.logger?.warn("live: polling task_events failed; retrying", {
        db: this.dbPath,
        error: (err as Error).message,
      });
    }
  }
}
