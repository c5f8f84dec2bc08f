import type { PoolClient } from "pg";
import {
  advisoryLockKey,
  boardSchemaName,
  type KanbanPostgres,
  normaliseSlug,
  PG_LOCK_CLASS,
  quoteIdent,
} from "@kanban/db";
import { type Clock, nowSeconds } from "../clock.ts";

/**
 * What replaces the dispatcher's host-local files when its boards live on PostgreSQL, so that
 * dispatchers on several hosts share a board safely: the tick lock and the "I serve this board"
 * registration are advisory locks, a nudge is a NOTIFY, and the status file is a row per dispatcher
 * in the board's `kanban_dispatchers` table. This module is the SQL; the dispatcher decides when
 * to tick, register or nudge (its `coordination/` folder).
 *
 * **Why session-level locks on a dedicated connection, not transaction-scoped ones.** A tick lasts
 * as long as its sweeps, claims, workspace creations (`git worktree add`) and spawns: seconds, and
 * it runs many short kernel transactions on the board's pool. A transaction-scoped lock
 * (`pg_try_advisory_xact_lock`) would need one transaction open for that whole time: an
 * idle-in-transaction session that holds back vacuum's horizon for the entire database (the
 * `task_events` churn is what needs vacuuming), that `idle_in_transaction_session_timeout` kills,
 * and that takes a pooled connection away from the kernel for the tick. A session-level lock costs
 * nothing while held, and it has the property we need when a holder dies: it belongs to the
 * session, so the server drops it the moment that session ends. The price: session state does not
 * survive a transaction-pooling proxy (PgBouncer in transaction mode), so this connection must be
 * a direct (or session-pooled) one; the same is true of LISTEN.
 *
 * **A dead holder frees its lock by itself.** A killed process closes its socket: the server ends
 * the backend and every advisory lock of it at once. A host that vanishes without closing anything
 * (power, network) is found by TCP keepalives: the session sets `tcp_keepalives_*` so the server
 * gives up on a silent peer within about {@link KEEPALIVE_BOUND_SECONDS} s instead of the OS default
 * of two hours. On our side a connection that errors or ends marks the session lost: a tick lock
 * taken on it reports `held() === false`, and the next call opens a new session (LISTEN and the
 * registrations are taken again). The kernel never relies on the tick lock for correctness
 * (every claim is a compare-and-swap); the lock keeps two dispatchers from doing the same tick's
 * work twice and from overshooting a board's budgets.
 */
export const DISPATCH_NUDGE_CHANNEL = "kanban_dispatch";

const KEEPALIVE_IDLE = 10;
const KEEPALIVE_INTERVAL = 5;
const KEEPALIVE_COUNT = 3;
/** How long the server may keep a vanished host's session (and its locks): idle + interval × count. */
export const KEEPALIVE_BOUND_SECONDS = KEEPALIVE_IDLE + KEEPALIVE_INTERVAL * KEEPALIVE_COUNT;
/** Rows of dispatchers gone for longer than this are deleted when another one registers (unix seconds). */
export const DISPATCHER_ROW_RETENTION_SECONDS = 86_400;

type SessionClient = PoolClient;

interface Session {
  client: SessionClient;
  lost: boolean;
  /** Boards whose tick lock this session holds (a lost session's locks went with it). */
  ticking: Set<string>;
  /** Registered boards whose registration lock this session could not take yet (see {@link lockAlive}). */
  unmarked: Set<string>;
}

/** One dispatcher's row on a board, as the table holds it, plus whether its session still lives. */
export interface PgDispatcherRow {
  id: string;
  host: string;
  pid: number;
  started_at: number;
  heartbeat_at: number;
  interval_seconds: number;
  ticks: number;
  last_tick_at: number | null;
  /** The last tick's summary for this board (parsed JSON), null before the first tick or if unreadable. */
  last_tick: unknown;
  stopped_at: number | null;
  /** Its registration lock is held: the dispatcher's coordination session is still connected. */
  session_alive: boolean;
}

/** What a dispatcher writes after a tick on one board. */
export interface PgHeartbeat {
  ticks: number;
  last_tick_at: number | null;
  /** Any JSON-serialisable summary (the board's line of the tick, running workers, warnings). */
  last_tick: unknown;
  interval_seconds?: number;
}

export interface PgTickLock {
  /** False once the session that took it is gone (the server has dropped the lock with it). */
  held(): boolean;
  release(): Promise<void>;
}

export interface PgDispatchCoordinationOptions {
  /** A pool of this dispatcher's own (2 connections suffice): one is kept as the coordination session. */
  db: KanbanPostgres;
  clock: Clock;
  /** This dispatcher: a random id per process start, its host and pid (for orphan recovery and display). */
  id: string;
  host: string;
  pid: number;
  intervalSeconds: number;
  warn?: (message: string) => void;
}

function table(slug: string): string {
  return `${quoteIdent(boardSchemaName(slug))}.kanban_dispatchers`;
}

function aliveKey(slug: string, id: string): number {
  return advisoryLockKey(`${boardSchemaName(slug)}\u0000${id}`);
}

function tickKey(slug: string): number {
  return advisoryLockKey(boardSchemaName(slug));
}

/**
 * The interval as the table stores it, in whole seconds (a bigint column): a sub-second interval
 * (`KANBAN_DISPATCH_INTERVAL`, tests) is rounded up, which only makes the stale judgement more patient.
 */
function wholeSeconds(interval: number): number {
  return Math.max(1, Math.ceil(interval));
}

function oneLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split("\n")[0] ?? msg;
}

/** The second ints of the registration locks held in this database right now. */
async function heldAliveKeys(db: KanbanPostgres): Promise<Set<number>> {
  // A two-int4 advisory key shows in pg_locks as classid = first int, objid = second, objsubid = 2;
  // the ints are shown as oids (unsigned), so compare after the same int4 → oid reinterpretation.
  const { rows } = await db.pool.query<{ objid: number }>(
    `SELECT l.objid::bigint AS objid
       FROM pg_locks l
       JOIN pg_database d ON d.oid = l.database AND d.datname = current_database()
      WHERE l.locktype = 'advisory' AND l.objsubid = 2 AND l.granted AND l.classid = $1::int4::oid`,
    [PG_LOCK_CLASS.dispatcherAlive],
  );
  // Back to a signed int4, the form advisoryLockKey returns.
  return new Set(rows.map((r) => Number(r.objid) | 0));
}

function parseJson(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** Every dispatcher row of a board, newest first, each with whether its session still lives. */
export async function listPgDispatchers(db: KanbanPostgres, slug: string): Promise<PgDispatcherRow[]> {
  const board = normaliseSlug(slug);
  try {
    const { rows } = await db.pool.query<
      Omit<PgDispatcherRow, "session_alive" | "last_tick"> & { last_tick: string | null }
    >(
      `SELECT id, host, pid, started_at, heartbeat_at, interval_seconds, ticks, last_tick_at, last_tick, stopped_at
         FROM ${table(board)} ORDER BY started_at DESC, id`,
    );
    const held = await heldAliveKeys(db);
    return rows.map((r) => ({
      ...r,
      last_tick: parseJson(r.last_tick),
      session_alive: held.has(aliveKey(board, r.id)),
    }));
  } catch (err) {
    throw db.failure(err);
  }
}

/**
 * Asks the dispatchers serving a board to tick now: a NOTIFY on {@link DISPATCH_NUDGE_CHANNEL} with
 * the board's slug as payload (at most 64 bytes, far under the 8,000-byte limit). Returns how many
 * registered dispatchers of the board are connected (0: nobody will hear it).
 */
export async function nudgePgDispatchers(db: KanbanPostgres, slug: string): Promise<number> {
  const board = normaliseSlug(slug);
  try {
    await db.pool.query("SELECT pg_notify($1, $2)", [DISPATCH_NUDGE_CHANNEL, board]);
    const rows = await listPgDispatchers(db, board);
    return rows.filter((r) => r.session_alive && r.stopped_at === null).length;
  } catch (err) {
    throw db.failure(err);
  }
}

/**
 * One dispatcher's coordination on PostgreSQL: a dedicated session (one connection checked out of
 * `db` for as long as the dispatcher runs) that holds its advisory locks and LISTENs for nudges;
 * status rows are written through the rest of the pool.
 */
export class PgDispatchCoordination {
  private session: Session | null = null;
  private connecting: Promise<Session> | null = null;
  private readonly registered = new Set<string>();
  private readonly listeners = new Set<(slug: string) => void>();
  private closed = false;
  private readonly warn: (message: string) => void;

  constructor(private readonly opts: PgDispatchCoordinationOptions) {
    this.warn = opts.warn ?? (() => {});
  }

  get id(): string {
    return this.opts.id;
  }

  /** Whether the coordination session is connected right now (false before first use and after a loss). */
  get connected(): boolean {
    return this.session !== null && !this.session.lost;
  }

  /** The live session, opening a new one (LISTEN, registrations again) when there is none or it was lost. */
  private async live(): Promise<Session> {
    if (this.closed) throw new Error("dispatcher coordination is closed");
    if (this.session !== null && !this.session.lost) return this.session;
    this.connecting ??= this.open().finally(() => {
      this.connecting = null;
    });
    return await this.connecting;
  }

  private async open(): Promise<Session> {
    const { db } = this.opts;
    let client: SessionClient;
    try {
      client = await db.pool.connect();
    } catch (err) {
      throw db.failure(err);
    }
    const session: Session = { client, lost: false, ticking: new Set(), unmarked: new Set() };
    const lose = (why: string) => {
      if (session.lost) return;
      session.lost = true;
      if (!this.closed) this.warn(`dispatcher coordination: connection lost (${why}); its locks are gone with it`);
    };
    // A checked-out client's errors reach only its own listeners; unheard, one would crash the process.
    client.on("error", (err) => lose(oneLine(err)));
    client.on("end", () => lose("closed"));
    client.on("notification", (msg) => {
      if (msg.channel !== DISPATCH_NUDGE_CHANNEL || msg.payload === undefined) return;
      for (const l of this.listeners) l(msg.payload);
    });
    try {
      await client.query(
        `SET tcp_keepalives_idle = ${KEEPALIVE_IDLE}; SET tcp_keepalives_interval = ${KEEPALIVE_INTERVAL}; SET tcp_keepalives_count = ${KEEPALIVE_COUNT}`,
      );
      await client.query(`LISTEN ${DISPATCH_NUDGE_CHANNEL}`);
      for (const slug of this.registered) await this.lockAlive(session, slug);
    } catch (err) {
      session.lost = true;
      client.release(true);
      throw db.failure(err);
    }
    this.session?.client.release(true);
    this.session = session;
    return session;
  }

  /**
   * Takes the registration lock without waiting: after a reconnect the server may still hold it for
   * our previous session (a cut it has not noticed yet, at most the keepalive bound); then it is
   * taken again by a later heartbeat, and meanwhile readers see this dispatcher as gone.
   */
  private async lockAlive(session: Session, slug: string): Promise<void> {
    const { rows } = await session.client.query<{ ok: boolean }>("SELECT pg_try_advisory_lock($1, $2) AS ok", [
      PG_LOCK_CLASS.dispatcherAlive,
      aliveKey(slug, this.opts.id),
    ]);
    if (rows[0]?.ok === true) session.unmarked.delete(slug);
    else session.unmarked.add(slug);
  }

  /**
   * Registers this dispatcher on a board: its registration lock (which tells readers its session
   * lives) and its row. Returns the dispatchers that served the board before and are gone without
   * a clean stop (their session has ended): the claims they made but never handed to a worker are
   * the caller's to recover. Rows gone for a day are deleted.
   */
  async register(slug: string): Promise<{ host: string; pid: number }[]> {
    const board = normaliseSlug(slug);
    const { db, clock } = this.opts;
    const session = await this.live();
    try {
      if (!this.registered.has(board) || session.unmarked.has(board)) await this.lockAlive(session, board);
      this.registered.add(board);
      const now = nowSeconds(clock);
      await db.pool.query(
        `INSERT INTO ${table(board)} (id, host, pid, started_at, heartbeat_at, interval_seconds)
         VALUES ($1, $2, $3, $4, $4, $5)
         ON CONFLICT (id) DO UPDATE SET heartbeat_at = EXCLUDED.heartbeat_at, stopped_at = NULL`,
        [this.opts.id, this.opts.host, this.opts.pid, now, wholeSeconds(this.opts.intervalSeconds)],
      );
      const rows = await listPgDispatchers(db, board);
      const gone = rows.filter((r) => r.id !== this.opts.id && !r.session_alive);
      const old = gone.filter((r) => r.heartbeat_at < now - DISPATCHER_ROW_RETENTION_SECONDS).map((r) => r.id);
      if (old.length > 0) await db.pool.query(`DELETE FROM ${table(board)} WHERE id = ANY($1::text[])`, [old]);
      return gone
        .filter((r) => r.stopped_at === null && !old.includes(r.id))
        .map((r) => ({ host: r.host, pid: r.pid }));
    } catch (err) {
      throw db.failure(err);
    }
  }

  /**
   * The board's tick lock, or null when another session (a dispatcher on any host, or a one-shot
   * `kanban dispatch`) holds it, or this process is already ticking the board (session locks are
   * re-entrant within a session, so the process keeps its own count). Never waits.
   */
  async tryTickLock(slug: string): Promise<PgTickLock | null> {
    const board = normaliseSlug(slug);
    const session = await this.live();
    if (session.ticking.has(board)) return null;
    const key = [PG_LOCK_CLASS.dispatchTick, tickKey(board)];
    let ok: boolean;
    try {
      const { rows } = await session.client.query<{ ok: boolean }>("SELECT pg_try_advisory_lock($1, $2) AS ok", key);
      ok = rows[0]?.ok === true;
    } catch (err) {
      throw this.opts.db.failure(err);
    }
    if (!ok) return null;
    session.ticking.add(board);
    let released = false;
    return {
      held: () => !released && !session.lost && this.session === session,
      release: async () => {
        if (released) return;
        released = true;
        session.ticking.delete(board);
        // A lost session took the lock with it; nothing to give back.
        if (session.lost) return;
        try {
          await session.client.query("SELECT pg_advisory_unlock($1, $2)", key);
        } catch (err) {
          this.warn(`dispatcher coordination: cannot release the tick lock of ${board}: ${oneLine(err)}`);
        }
      },
    };
  }

  /** Writes this dispatcher's row on a board after a tick (re-creating it if someone deleted it). */
  async heartbeat(slug: string, beat: PgHeartbeat): Promise<void> {
    const board = normaliseSlug(slug);
    const { db, clock } = this.opts;
    // A heartbeat also proves the session: a lost one is reopened here, registrations and all.
    const session = await this.live();
    try {
      if (session.unmarked.has(board)) await this.lockAlive(session, board);
      const now = nowSeconds(clock);
      await db.pool.query(
        `INSERT INTO ${table(board)} (id, host, pid, started_at, heartbeat_at, interval_seconds, ticks, last_tick_at, last_tick)
         VALUES ($1, $2, $3, $4, $4, $5, $6, $7, $8)
         ON CONFLICT (id) DO UPDATE SET heartbeat_at = EXCLUDED.heartbeat_at, interval_seconds = EXCLUDED.interval_seconds,
           ticks = EXCLUDED.ticks, last_tick_at = EXCLUDED.last_tick_at, last_tick = EXCLUDED.last_tick, stopped_at = NULL`,
        [
          this.opts.id,
          this.opts.host,
          this.opts.pid,
          now,
          wholeSeconds(beat.interval_seconds ?? this.opts.intervalSeconds),
          beat.ticks,
          beat.last_tick_at,
          JSON.stringify(beat.last_tick ?? null),
        ],
      );
    } catch (err) {
      throw db.failure(err);
    }
  }

  /** Calls `listener(slug)` for every nudge of any board; returns the unsubscribe function. */
  onNudge(listener: (slug: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Opens the session now (LISTEN included), so nudges are heard before the first tick. */
  async connect(): Promise<void> {
    await this.live();
  }

  /** A clean stop: marks the rows stopped, gives back every lock and the session's connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    const { db, clock } = this.opts;
    const now = nowSeconds(clock);
    for (const board of this.registered) {
      try {
        await db.pool.query(`UPDATE ${table(board)} SET stopped_at = $2, heartbeat_at = $2 WHERE id = $1`, [
          this.opts.id,
          now,
        ]);
      } catch (err) {
        this.warn(`dispatcher coordination: cannot mark ${board} stopped: ${oneLine(err)}`);
      }
    }
    this.closed = true;
    this.listeners.clear();
    // Ending the session drops every advisory lock it holds and its LISTEN, in one step.
    const s = this.session;
    this.session = null;
    if (s !== null) {
      s.lost = true;
      s.client.release(true);
    }
  }
}
