import type { DispatcherStatus } from "@kanban/db";

/**
 * What a dispatcher needs from its surroundings to share boards safely, on either engine. The
 * dispatcher holds the policy (when to tick, whom to recover, what to report); an implementation
 * says how it is done: host-local files beside an SQLite home ({@link SqliteCoordination}), or the
 * database itself on PostgreSQL ({@link PgCoordination}: advisory locks, NOTIFY, a status table).
 *
 * | need                     | SQLite (one host)                       | PostgreSQL (many hosts)                         |
 * |--------------------------|-----------------------------------------|-------------------------------------------------|
 * | "I am a dispatcher"      | `<home>/kanban/.dispatcher.lock`, one   | a row + a session advisory lock per dispatcher  |
 * | tick lock, per board     | flock on `<db>.dispatch.lock`           | `pg_try_advisory_lock` on the coordination session |
 * | nudge                    | `<home>/kanban/dispatcher.nudge` mtime  | NOTIFY `kanban_dispatch`, payload the board     |
 * | status                   | `<home>/kanban/dispatcher.json`         | `kanban_dispatchers` rows in the board's schema |
 */
export interface DispatcherCoordination {
  readonly engine: "sqlite" | "postgres";
  /**
   * Becomes a dispatcher of `boards`. SQLite: exclusive per home (`ok: false` names the live
   * holder's pid). PostgreSQL: shared, each dispatcher registers itself on each board. On success,
   * the dispatchers that served before and died without a clean stop (host and pid: the claim lock
   * `<host>:<pid>` of claims they may have left unspawned).
   */
  acquire(boards: readonly string[]): Promise<AcquireResult>;
  /**
   * A board's tick lock: `ok: false` when another process ticks it now (the tick is skipped).
   * Never waits.
   */
  tryTickLock(board: TickTarget): Promise<TickLockAttempt>;
  /** Whether a nudge arrived since the last call (the loop polls this while it sleeps). */
  nudgePending(): boolean;
  /** Calls `wake` as soon as a nudge arrives, when the engine can tell at once (a no-op for polled files). */
  onNudge(wake: () => void): () => void;
  /** Reports the dispatcher's status after a tick (and a final one with `stopped_at`). */
  publish(status: DispatcherStatus): Promise<void>;
  /** Gives everything back (lock, registration, connections). */
  release(): Promise<void>;
}

/** The board a tick is about: its slug (PostgreSQL locks by board) and its file (SQLite locks beside it). */
export interface TickTarget {
  readonly slug: string | null;
  readonly path: string;
}

export type AcquireResult = { ok: true; predecessors: { host: string; pid: number }[] } | { ok: false; holder: number };

export type TickLockAttempt = { ok: true; lock: { release(): void | Promise<void> } } | { ok: false; holder: number };
