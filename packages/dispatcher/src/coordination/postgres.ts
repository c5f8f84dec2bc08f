import { randomBytes } from "node:crypto";
import { type DispatcherStatus, type KanbanPostgres, normaliseSlug, openPostgres } from "@kanban/db";
import { type Clock, PgDispatchCoordination, systemClock } from "@kanban/kernel";
import type { AcquireResult, DispatcherCoordination, TickLockAttempt, TickTarget } from "./coordination.ts";

export interface PgCoordinationOptions {
  /** A pool for the coordination alone (see {@link openPgCoordination}: 2 connections). */
  db: KanbanPostgres;
  /** Close `db` on release (when this coordination opened it). */
  ownsDb?: boolean;
  clock?: Clock;
  host: string;
  pid: number;
  intervalSeconds: number;
  /** Only wake for nudges of these boards (default: any board of the database). */
  boards?: readonly string[];
  /** Default: random per process start. */
  id?: string;
  warn?: (message: string) => void;
}

/**
 * The dispatcher's coordination when its boards live on PostgreSQL: several dispatchers, on any
 * number of hosts, serve one board. Each registers itself on each board it serves (a row in the
 * board's `kanban_dispatchers` plus a session advisory lock), ticks a board only while holding its
 * advisory tick lock, wakes on `NOTIFY kanban_dispatch` with the board as payload, and writes its
 * row after every tick. The SQL is the kernel's (`PgDispatchCoordination`); this class maps the
 * dispatcher's status onto it.
 */
export class PgCoordination implements DispatcherCoordination {
  readonly engine = "postgres" as const;
  readonly id: string;
  private readonly inner: PgDispatchCoordination;
  private readonly served = new Set<string>();
  private readonly only: Set<string> | null;
  private pending = false;
  private readonly wakers = new Set<() => void>();
  private unlisten: (() => void) | null = null;

  constructor(private readonly opts: PgCoordinationOptions) {
    this.id = opts.id ?? randomBytes(8).toString("hex");
    this.only = opts.boards ? new Set(opts.boards.map(normaliseSlug)) : null;
    this.inner = new PgDispatchCoordination({
      db: opts.db,
      clock: opts.clock ?? systemClock,
      id: this.id,
      host: opts.host,
      pid: opts.pid,
      intervalSeconds: opts.intervalSeconds,
      warn: opts.warn,
    });
  }

  async acquire(boards: readonly string[]): Promise<AcquireResult> {
    this.unlisten ??= this.inner.onNudge((slug) => {
      if (this.only !== null && !this.only.has(slug)) return;
      this.pending = true;
      for (const wake of this.wakers) wake();
    });
    // LISTEN before anything else, so a nudge sent while we register is not lost.
    await this.inner.connect();
    const seen = new Map<string, { host: string; pid: number }>();
    for (const slug of boards) {
      for (const p of await this.serve(slug)) seen.set(`${p.host}:${p.pid}`, p);
    }
    return { ok: true, predecessors: [...seen.values()] };
  }

  private async serve(slug: string): Promise<{ host: string; pid: number }[]> {
    const board = normaliseSlug(slug);
    const gone = await this.inner.register(board);
    this.served.add(board);
    return gone;
  }

  async tryTickLock(board: TickTarget): Promise<TickLockAttempt> {
    if (board.slug === null) throw new Error("a PostgreSQL board is always opened by its slug");
    const lock = await this.inner.tryTickLock(board.slug);
    // The advisory lock names no holder (pg_locks would, as a backend pid, not a dispatcher's).
    return lock === null ? { ok: false, holder: 0 } : { ok: true, lock };
  }

  nudgePending(): boolean {
    const was = this.pending;
    this.pending = false;
    return was;
  }

  onNudge(wake: () => void): () => void {
    this.wakers.add(wake);
    return () => this.wakers.delete(wake);
  }

  /** One row per board: that board's line of the tick, its running workers, the latest warnings. */
  async publish(status: DispatcherStatus): Promise<void> {
    for (const b of status.boards) {
      const board = normaliseSlug(b.board);
      if (!this.served.has(board)) await this.serve(board);
      await this.inner.heartbeat(board, {
        ticks: status.ticks,
        last_tick_at: status.last_tick_at,
        interval_seconds: status.interval_seconds,
        last_tick: {
          ...b,
          ms: status.last_tick_ms,
          running_workers: status.running_workers.filter((w) => w.board === b.board),
          warnings: status.warnings.slice(-5),
          config_error: status.config_error ?? null,
          // Admission and containment (issue 16), in the row's JSON: the board's own holds and
          // footprints, and the host's cap and containment mode (the same on every row).
          holds: (status.holds ?? []).filter((h) => h.board === b.board),
          host_cap: status.host_cap ?? null,
          containment: status.containment ?? null,
          containment_reason: status.containment_reason ?? null,
          footprints: (status.footprints ?? []).filter((f) => f.board === b.board),
          // The labels this dispatcher offers (issue 15): `kanban why` judges no_host_for_labels with them.
          labels: status.labels ?? [],
        },
      });
    }
  }

  async release(): Promise<void> {
    this.unlisten?.();
    this.unlisten = null;
    this.wakers.clear();
    try {
      await this.inner.close();
    } finally {
      if (this.opts.ownsDb) await this.opts.db.close();
    }
  }
}

/**
 * Opens the coordination's own pool (2 connections: the coordination session, kept for the
 * dispatcher's lifetime, and one for status rows) on a direct or session-pooled URL: advisory
 * session locks and LISTEN do not survive a transaction-pooling proxy.
 */
export async function openPgCoordination(
  url: string,
  opts: Omit<PgCoordinationOptions, "db" | "ownsDb">,
): Promise<PgCoordination> {
  const db = await openPostgres(url, {
    poolSize: 2,
    applicationName: "kanban-dispatcher-coordination",
    warn: opts.warn,
  });
  return new PgCoordination({ ...opts, db, ownsDb: true });
}
