import type Database from "better-sqlite3";
import { isSqliteBusy } from "./errors.ts";
import { sleepSync } from "./sleep.ts";

export interface WriteTxnOptions {
  /** How many times to retry BEGIN IMMEDIATE/COMMIT when SQLite still reports busy after busy_timeout. */
  retries?: number;
  /** Random source for the retry jitter (injected in tests). */
  random?: () => number;
}

/**
 * Runs `fn` inside `BEGIN IMMEDIATE … COMMIT`: the single write boundary of the system.
 *
 * IMMEDIATE takes the write lock up front, so a read-then-write inside `fn` (every compare-and-swap)
 * can never be invalidated by another writer between its read and its write. Any error rolls the
 * whole transaction back and is rethrown. When SQLite still reports busy after the connection's
 * busy_timeout, the transaction is retried a few times with 20–150 ms of jitter; `fn` must therefore
 * be a pure function of the database (no side effects outside it). Called inside an open
 * transaction it nests as a savepoint.
 */
export function writeTxn<T>(sqlite: Database.Database, fn: () => T, opts: WriteTxnOptions = {}): T {
  const retries = opts.retries ?? 5;
  const random = opts.random ?? Math.random;
  const txn = sqlite.transaction(fn);
  for (let attempt = 0; ; attempt++) {
    try {
      return sqlite.inTransaction ? txn() : txn.immediate();
    } catch (err) {
      if (!isSqliteBusy(err) || attempt >= retries || sqlite.inTransaction) throw err;
      sleepSync(20 + Math.floor(random() * 130));
    }
  }
}
