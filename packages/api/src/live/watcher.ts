import { type KanbanDatabase, openDatabase } from "@kanban/db";
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

/** The two calls the watcher makes on its prepared statements. */
interface Statement {
  get(...args: unknown[]): unknown;
  all(...args: unknown[]): unknown[];
}

/**
 * The single reader of one board's `task_events` in this process. Every `intervalMs` it asks
 * SQLite for `max(id)` with one prepared statement (an index lookup, cheap enough to run forever);
 * only when that moved does it read the new rows, once, and hand the same rows to every
 * subscriber's queue. Pushing never waits on a subscriber. It has its own connection so that it
 * sees commits by any process (the CLI, the dispatcher, workers, Hermes itself) and never contends
 * with request handling for the board's statement cache.
 */
export class BoardWatcher {
  private db: KanbanDatabase | null = null;
  private maxStmt: Statement | null = null;
  private rowsStmt: Statement | null = null;
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
    this.db = openDatabase({ path: this.dbPath, integrityCheck: false, warn: (m) => this.opts.logger?.warn(m) });
    this.maxStmt = this.db.sqlite.prepare("SELECT max(id) AS m FROM task_events");
    this.rowsStmt = this.db.sqlite.prepare(
      `SELECT e.id, e.task_id, e.run_id, e.kind, e.payload, e.created_at, t.tenant, t.assignee
       FROM task_events e LEFT JOIN tasks t ON t.id = e.task_id WHERE e.id > ? ORDER BY e.id LIMIT ${PAGE}`,
    );
    this.lastId = Number((this.maxStmt.get() as { m: number | null }).m ?? 0);
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
    this.maxStmt = null;
    this.rowsStmt = null;
    this.db?.close();
    this.db = null;
  }

  /** One poll: cheap max(id); rows only when it moved. Errors are logged and retried next tick. */
  poll(): void {
    const maxStmt = this.maxStmt;
    const rowsStmt = this.rowsStmt;
    if (maxStmt === null || rowsStmt === null) return;
    try {
      const max = Number((maxStmt.get() as { m: number | null }).m ?? 0);
      // Ids are AUTOINCREMENT: deleting the newest rows lowers max(id) but never causes reuse.
      if (max <= this.lastId) return;
      for (;;) {
        const rows = rowsStmt.all(this.lastId) as Record<string, unknown>[];
        if (rows.length === 0) break;
        this.reads++;
        const events: LiveEvent[] = rows.map(eventFromRowForLive);
        const last = events[events.length - 1];
        if (last) this.lastId = last.id;
        for (const q of this.subs) q.push(events);
        if (rows.length < PAGE) break;
      }
    } catch (err) {
      this.opts.logger?.warn("live: polling task_events failed; retrying", { db: this.dbPath, error: (err as Error).message });
    }
  }
}
