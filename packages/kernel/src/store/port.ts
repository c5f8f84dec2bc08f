import type { Task } from "../types.ts";

/**
 * The store's one seam between the kernel and a database engine. Every store function takes a
 * `SqlContext` first and speaks SQL through these methods only, so the same functions (and the same
 * SQL text) run on SQLite and on PostgreSQL. The SQL is written in SQLite's dialect with `?` and
 * `:name` parameters; the PostgreSQL session translates the few constructs that differ (see
 * store/pg/translate.ts) once per statement text.
 *
 * Results may be plain values (SQLite answers synchronously, and an `await` of a value costs no
 * promise) or promises (PostgreSQL): callers always `await` them.
 */
export interface SqlContext {
  readonly dialect: SqlDialect;
  /** The injected clock in whole seconds, as every timestamp column stores it. */
  now(): number;
  /** Whether the current call chain is inside this board's open write transaction. */
  readonly inTransaction: boolean;
  /** The first row of a query, or undefined. Rows are plain objects keyed by column name. */
  get(sql: string, ...args: unknown[]): Awaitable<unknown>;
  /** Every row of a query. */
  all(sql: string, ...args: unknown[]): Awaitable<unknown[]>;
  /** A write; `changes` is the number of rows it inserted, updated or deleted. */
  run(sql: string, ...args: unknown[]): Awaitable<SqlRun>;
  /** An INSERT into a table with an `id` identity column; returns the new row's id. */
  insert(sql: string, ...args: unknown[]): Awaitable<number>;
  /** A query (or a write with `RETURNING *`) whose columns are a `tasks` row, as tasks. */
  tasks(sql: string, ...args: unknown[]): Awaitable<Task[]>;
  /** The first row of {@link tasks}, or null. */
  task(sql: string, ...args: unknown[]): Awaitable<Task | null>;
  /**
   * One write transaction: the board's single writer (SQLite's BEGIN IMMEDIATE, PostgreSQL's
   * per-board advisory lock). Called inside another transaction of the same board, it nests as a
   * savepoint (the outermost transaction's options stand).
   */
  tx<T>(fn: () => Promise<T> | T, opts?: TxOptions): Promise<T>;
  /**
   * PostgreSQL only (absent on SQLite): one statement as a write transaction of its own, sent to the
   * server in one message with BEGIN, the board's writer lock and COMMIT, so the whole transaction is
   * one round trip. The statement runs after the lock is granted and sees what committed before.
   * Answers its rows, or null when it was not sent this way (called inside a transaction, a value the
   * message cannot carry, or a connection pooler that does not keep the session's prepared statements):
   * nothing was written, and the caller writes in a transaction as usual.
   */
  writeAlone?(sql: string, args: readonly unknown[], opts?: { shared?: boolean }): Promise<unknown[] | null>;
  /**
   * Whether {@link writeAlone} (and a read with values sent with BEGIN, TxOptions.withBegin) would be
   * sent now: false on SQLite, and on PostgreSQL once a pooler lost a prepared statement. A caller
   * that has work to do only for such a message (judging rows for it) skips that work when false.
   */
  readonly writesAlone?: boolean;
}

/** What a board's engine session adds for its owner (the Board): closing, and a counter for the bench. */
export interface SqlSessionHandle extends SqlContext {
  /** Outermost write transactions begun (a savepoint does not count); read only by the bench. */
  readonly transactionsBegun: number;
  /**
   * Closes once queued and running transactions have settled; later calls fail with DB_UNAVAILABLE.
   * Resolves when the connections are closed (never rejects: a connection that fails to close has
   * nothing left to lose); every call answers the same promise.
   */
  close(closeConnections: () => void | Promise<void>): Promise<void>;
}

/** How an outermost write transaction takes the board. */
export interface TxOptions {
  /**
   * PostgreSQL: take the board's writer lock in share mode, so transactions that ask for it run
   * alongside each other (never alongside an ordinary one). Only for a verb whose writes are safe
   * against its own kind without the lock (store/pg/shared-writers.ts). SQLite has one writer and
   * ignores it.
   */
  shared?: boolean;
  /**
   * PostgreSQL: reads sent in the same message as BEGIN and the board's lock, so they cost no round
   * trip of their own (each sees what committed before the lock was granted). Their rows are put in
   * `rows` before `fn` runs. A read with `args` travels as EXECUTE of a statement prepared on the
   * connection (as SqlContext.writeAlone's does); where it cannot, its `rows` stay unset and `fn`
   * reads for itself. SQLite ignores them and leaves every `rows` unset.
   */
  withBegin?: BeginRead[];
}

/** A read that travels with BEGIN (TxOptions.withBegin). */
export interface BeginRead {
  sql: string;
  args?: readonly unknown[];
  rows?: unknown[];
}

export type SqlDialect = "sqlite" | "postgres";
export type Awaitable<T> = T | Promise<T>;
export interface SqlRun {
  changes: number;
}
