import { type Board, type LiveEventRow, openBoard } from "@kanban/kernel";
import { eventFromRowForLive } from "./rows.ts";
import { DEFAULT_QUEUE_CAPACITY, EventQueue, type LiveEvent } from "./queue.ts";
import type { Logger } from "../logger.ts";

export const DEFAULT_POLL_INTERVAL_MS = 150;
/** With a wake-up source, polling is only the backstop for a wake-up that never came. */
export const DEFAULT_BACKSTOP_INTERVAL_MS = 5_000;
/** Rows read per query when catching up; a burst larger than this is read in several pages. */
const PAGE = 500;

export interface Subscription {
  readonly queue: EventQueue;
  close(): void;
}

/** What a watcher reads a board's events through (a `Board` is one). */
export interface LiveBoardReader {
  latestEventId(): Promise<number>;
  liveEventRows(afterId: number, limit: number): Promise<LiveEventRow[]>;
}

/**
 * Tells a watcher that its board may have new events: a PostgreSQL notification, or a reconnect after
 * which notifications may have been lost. A wake-up carries nothing; the watcher reads after its cursor.
 */
export interface LiveWakeSource {
  /** Calls `wake` (any number of times, any time) until the returned function is called. */
  watch(wake: () => void): () => void;
}

/** Where a watcher's board comes from, and what wakes it. */
export interface LiveBoardSource {
  /** Opens what the watcher reads through; `release` is called once, when the watcher stops. */
  open(): Promise<{ reader: LiveBoardReader; release(): void }>;
  /** Without one the watcher polls every `intervalMs`; with one it reads at each wake-up and polls every `backstopMs`. */
  wake?: LiveWakeSource;
}

export interface BoardWatcherOptions {
  /** Poll interval without a wake-up source (default 150 ms). */
  intervalMs?: number;
  /** Poll interval with a wake-up source: the backstop (default 5 s). */
  backstopMs?: number;
  /** Default: a connection of its own to the SQLite board at the watcher's key (a path). */
  source?: LiveBoardSource;
  logger?: Logger;
  onIdle?: (w: BoardWatcher) => void;
}

/** The SQLite source: a connection of the watcher's own, polled (another process's commit wakes nobody). */
export function sqliteLiveSource(dbPath: string, logger?: Logger): LiveBoardSource {
  return {
    open: async () => {
      const board: Board = openBoard({ path: dbPath, integrityCheck: false, warn: (m) => logger?.warn(m) });
      return { reader: board, release: () => board.close() };
    },
  };
}

/**
 * The single reader of one board's `task_events` in this process. It asks for the newest event id
 * (`latestEventId`, an index lookup, cheap enough to run forever) when woken and on a timer; only
 * when that moved does it read the new rows, once, and hand the same rows to every subscriber's
 * queue. Pushing never waits on a subscriber.
 *
 * What wakes it is the board source's: on SQLite nothing but the timer (every `intervalMs`) and
 * this process's own writes (`poke`); the watcher has its own connection so that it sees commits by
 * any process (the CLI, the dispatcher, workers, Hermes itself) and never contends with request
 * handling for the board's statement cache. On PostgreSQL a notification (`LISTEN`, see
 * `pgLiveSource`) wakes it at once, and the timer is only a slower backstop (`backstopMs`).
 */
export class BoardWatcher {
  private board: LiveBoardReader | null = null;
  private release: (() => void) | null = null;
  private unwatch: (() => void) | null = null;
  /** Woken while starting (before the timer runs): poll once started, the wake-up may be for an event after the cursor. */
  private wokenWhileStarting = false;
  /** Counts stop()s: an open() that a stop() overtook gives its board back. */
  private generation = 0;
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

  private readonly source: LiveBoardSource;

  /** `dbPath`: the board's key in its hub; the SQLite board's path unless `opts.source` says otherwise. */
  constructor(
    readonly dbPath: string,
    private readonly opts: BoardWatcherOptions = {},
  ) {
    this.source = opts.source ?? sqliteLiveSource(dbPath, opts.logger);
  }

  /** Whether something other than the timer wakes it (then the timer is the backstop). */
  get woken(): boolean {
    return this.source.wake !== undefined;
  }

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
    if (this.timer === null) {
      if (this.starting !== null) this.wokenWhileStarting = true;
      return;
    }
    if (this.pokeScheduled) return;
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
    const generation = this.generation;
    const { reader, release } = await this.source.open();
    // Stopped while opening (the last subscriber left, or shutdown): nobody will release it but us.
    if (this.generation !== generation) {
      release();
      return;
    }
    this.board = reader;
    this.release = release;
    // Watching before the cursor is read: a wake-up for an event committed after that read is never missed.
    this.unwatch = this.source.wake?.watch(() => this.poke()) ?? null;
    this.lastId = await reader.latestEventId();
    // Stopped while reading the cursor: stop() released the board.
    if (this.board !== reader) return;
    const every = this.woken
      ? (this.opts.backstopMs ?? DEFAULT_BACKSTOP_INTERVAL_MS)
      : (this.opts.intervalMs ?? DEFAULT_POLL_INTERVAL_MS);
    // poll() logs its own errors and never rejects.
    const timer = setInterval(() => void this.poll(), every);
    // The watcher alone must never keep a process (a CLI, a test run) alive.
    timer.unref();
    this.timer = timer;
    if (this.wokenWhileStarting) {
      this.wokenWhileStarting = false;
      this.poke();
    }
  }

  /** Stops polling and ends every subscriber's stream (server shutdown). */
  stop(): void {
    for (const q of this.subs) q.close();
    this.subs.clear();
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.starting = null;
    this.wokenWhileStarting = false;
    this.generation++;
    this.unwatch?.();
    this.unwatch = null;
    this.release?.();
    this.release = null;
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
