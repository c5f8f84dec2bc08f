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
  /** The first subscriber's start (opening the board, reading the cursor), shared by those arriving meanwhile. */
  private starting: Promise<void> | null = null;
  private pokeScheduled = false;
  /** A poll is reading: timer ticks and pokes must not start a second one (it would hand rows out twice). */
  private polling = false;
  /** Asked to poll while one was reading: poll once more, so a write it may have missed is not left for the next tick. */
  private pollAgain = false;
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

  async subscribe(capacity: number = DEFAULT_QUEUE_CAPACITY): Promise<Subscription> {
    // Registered before the first await: the last other subscriber leaving meanwhile must not stop
    // this watcher under us, and a stop() meanwhile (shutdown) ends this stream like the others.
    const queue = new EventQueue(capacity);
    this.subs.add(queue);
    const sub: Subscription = {
      queue,
      close: () => {
        queue.close();
        if (this.subs.delete(queue) && this.subs.size === 0) {
          this.stop();
          this.opts.onIdle?.(this);
        }
      },
    };
    try {
      await this.start();
    } catch (err) {
      sub.close();
      throw err;
    }
    return sub;
  }

  /** Polls soon (after the current tick): an in-process write need not wait for the next interval. */
  poke(): void {
    if (this.timer === null || this.pokeScheduled) return;
    this.pokeScheduled = true;
    setImmediate(() => {
      this.pokeScheduled = false;
      // poll() logs its own errors and never rejects.
      void this.poll();
    });
  }

  private async start(): Promise<void> {
    this.starting ??= this.open();
    return this.starting;
  }

  private async open(): Promise<void> {
    const board = openBoard({ path: this.dbPath, integrityCheck: false, warn: (m) => this.opts.logger?.warn(m) });
    this.board = board;
    this.lastId = await board.latestEventId();
    // Stopped while reading the cursor (the last subscriber left, or shutdown): stop() closed the board.
    if (this.board !== board) return;
    // poll() logs its own errors and never rejects.
    const timer = setInterval(() => void this.poll(), this.opts.intervalMs ?? DEFAULT_POLL_INTERVAL_MS);
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
    this.starting = null;
    this.board?.close();
    this.board = null;
  }

  /**
   * One poll: cheap max(id); rows only when it moved. One at a time (a call while one runs makes it
   * poll again when done). Errors are logged and retried next tick; it never rejects.
   */
  async poll(): Promise<void> {
    if (this.polling) {
      this.pollAgain = true;
      return;
    }
    this.polling = true;
    try {
      do {
        this.pollAgain = false;
        await this.readNewRows();
      } while (this.pollAgain);
    } finally {
      this.polling = false;
    }
  }

  private async readNewRows(): Promise<void> {
    const board = this.board;
    if (board === null) return;
    try {
      const max = await board.latestEventId();
      // Ids are AUTOINCREMENT: deleting the newest rows lowers max(id) but never causes reuse.
      if (max <= this.lastId) return;
      for (;;) {
        const rows = await board.liveEventRows(this.lastId, PAGE);
        // Stopped meanwhile: its subscribers are gone and its connection closed.
        if (this.board !== board) return;
        if (rows.length === 0) break;
        this.reads++;
        const events: LiveEvent[] = rows.map(eventFromRowForLive);
        const last = events[events.length - 1];
        if (last) this.lastId = last.id;
        for (const q of this.subs) q.push(events);
        if (rows.length < PAGE) break;
      }
    } catch (err) {
      // A stop() between two reads closes the connection under this poll: nothing to report.
      if (this.board !== board) return;
      this.opts.logger?.warn("live: polling task_events failed; retrying", {
        db: this.dbPath,
        error: (err as Error).message,
      });
    }
  }
}
