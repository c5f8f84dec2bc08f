import type Database from "better-sqlite3";
import { isSqliteBusy } from "./errors.ts";
import { sleepSync } from "./sleep.ts";

export interface WriteTxnOptions {
  /** How many times to retry BEGIN IMMEDIATE/COMMIT when SQLite still reports busy after busy_timeout. */
  retries?: number;
  /** Random source for the retry jitter (injected in tests). */
  random?: () => number;
}

interface TxnStatements {
  begin: Database.Statement;
  commit: Database.Statement;
  rollback: Database.Statement;
  depth: number;
}

// Prepared once per connection: BEGIN/COMMIT are on every write's hot path.
const perConnection = new WeakMap<Database.Database, TxnStatements>();

function statements(sqlite: Database.Database): TxnStatements {
  let s = perConnection.get(sqlite);
  if (!s) {
    s = {
      begin: sqlite.prepare("BEGIN IMMEDIATE"),
      commit: sqlite.prepare("COMMIT"),
      rollback: sqlite.prepare("ROLLBACK"),
      depth: 0,
    };
    perConnection.set(sqlite, s);
  }
  return s;
}

function nested<T>(sqlite: Database.Database, s: TxnStatements, fn: () => T): T {
  const name = `kanban_nested_${++s.depth}`;
  sqlite.exec(`SAVEPOINT ${name}`);
  try {
    const result = fn();
    sqlite.exec(`RELEASE ${name}`);
    return result;
  } catch (err) {
    sqlite.exec(`ROLLBACK TO ${name}`);
    sqlite.exec(`RELEASE ${name}`);
    throw err;
  } finally {
    s.depth--;
  }
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
  const s = statements(sqlite);
  if (sqlite.inTransaction) return nested(sqlite, s, fn);
  const retries = opts.retries ?? 5;
  const random = opts.random ?? Math.random;
  for (let attempt = 0; ; attempt++) {
    try {
      s.begin.run();
    } catch (err) {
      if (!isSqliteBusy(err) || attempt >= retries) throw err;
      sleepSync(20 + Math.floor(random() * 130));
      continue;
    }
    let result: T;
    try {
      result = fn();
    } catch (err) {
      if (sqlite.inTransaction) s.rollback.run();
      throw err;
    }
    if (result instanceof Promise) {
      if (sqlite.inTransaction) s.rollback.run();
      throw new TypeError("writeTxn: the transaction function must be synchronous");
    }
    try {
      s.commit.run();
      return result;
    } catch (err) {
      // A failed COMMIT leaves the transaction open: roll it back so the connection stays usable.
      if (sqlite.inTransaction) s.rollback.run();
      if (!isSqliteBusy(err) || attempt >= retries) throw err;
      sleepSync(20 + Math.floor(random() * 130));
    }
  }
}
