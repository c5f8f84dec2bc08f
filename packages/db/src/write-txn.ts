import type Database from "better-sqlite3";
import { isSqliteBusy } from "./errors.ts";
import { sleepSync } from "./sleep.ts";
import { classifySqliteFailure, corruptionOf } from "./sqlite-failures.ts";

export interface WriteTxnOptions {
  /** How many times to retry BEGIN IMMEDIATE/COMMIT when SQLite still reports busy after busy_timeout. */
  retries?: number;
  /** Random source for the retry jitter (injected in tests). */
  random?: () => number;
}

export interface TxnStatements {
  begin: Database.Statement;
  commit: Database.Statement;
  rollback: Database.Statement;
  /** The connection's busy_timeout, restored after each BEGIN (see {@link begin}). */
  timeoutMs: number;
  depth: number;
}

// Prepared once per connection: BEGIN/COMMIT are on every write's hot path.
const perConnection = new WeakMap<Database.Database, TxnStatements>();

/** BEGIN IMMEDIATE/COMMIT/ROLLBACK of `sqlite`, prepared once, and its busy_timeout (shared with write-txn-async.ts). */
export function statements(sqlite: Database.Database): TxnStatements {
  let s = perConnection.get(sqlite);
  if (!s) {
    const timeoutMs = Number(sqlite.pragma("busy_timeout", { simple: true })) || 0;
    s = {
      begin: sqlite.prepare("BEGIN IMMEDIATE"),
      commit: sqlite.prepare("COMMIT"),
      rollback: sqlite.prepare("ROLLBACK"),
      timeoutMs,
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
 * `BEGIN IMMEDIATE`, waiting for the write lock by polling every 0.5–4 ms (with jitter) for up to the
 * connection's busy_timeout, instead of in SQLite's busy handler. That handler backs off to 100 ms
 * sleeps while the last committer takes the lock straight back: with eight processes claiming from
 * one file, some won nothing at all (slowest share 0–0.27 of an even split). Polling every 0.5–4 ms
 * gave the slowest 0.8, at 1,500–2,100 claims/s against 1,900–2,600. Shorter polls were fairer
 * still, but the pollers' CPU cost a third of the throughput on two cores (tooling/bench, "8
 * processes claiming one file").
 */
function begin(sqlite: Database.Database, s: TxnStatements, random: () => number): void {
  const deadline = performance.now() + s.timeoutMs;
  // exec, not a prepared statement: SQLite applies a PRAGMA setter when it prepares it, so a cached
  // one would not take effect on its first run. The pair costs about 3 µs.
  sqlite.exec("PRAGMA busy_timeout = 0");
  try {
    for (;;) {
      try {
        s.begin.run();
        return;
      } catch (err) {
        if (!isSqliteBusy(err) || performance.now() >= deadline) throw err;
        sleepSync(0.5 + random() * 3.5);
      }
    }
  } finally {
    sqlite.exec(`PRAGMA busy_timeout = ${s.timeoutMs}`);
  }
}

/**
 * Runs `fn` inside `BEGIN IMMEDIATE … COMMIT`: the single write boundary of the system.
 *
 * IMMEDIATE takes the write lock up front, so a read-then-write inside `fn` (every compare-and-swap)
 * can never be invalidated by another writer between its read and its write. Any error rolls the
 * whole transaction back and is rethrown. The write lock is waited for as {@link begin} describes;
 * when it is still busy after the connection's busy_timeout (or COMMIT reports busy), the
 * transaction is retried a few times with 20–150 ms of jitter; `fn` must therefore
 * be a pure function of the database (no side effects outside it). Called inside an open
 * transaction it nests as a savepoint.
 *
 * SQLite failures leave as typed errors: corruption as DB_CORRUPT, after which this connection
 * writes nothing more (see `markCorrupt`: quarantine copy, no checkpoint into the file), and storage
 * that refuses writes (read-only directory or media, permissions, full disk) as DB_UNAVAILABLE.
 */
export function writeTxn<T>(sqlite: Database.Database, fn: () => T, opts: WriteTxnOptions = {}): T {
  const corrupt = corruptionOf(sqlite);
  if (corrupt !== null) throw corrupt;
  try {
    return runWriteTxn(sqlite, fn, opts);
  } catch (err) {
    throw classifySqliteFailure(sqlite, err);
  }
}

function rollbackQuietly(sqlite: Database.Database, s: TxnStatements): void {
  try {
    if (sqlite.inTransaction) s.rollback.run();
  } catch {
    // A failed ROLLBACK (I/O error, corruption) must not hide the error that caused it.
  }
}

function runWriteTxn<T>(sqlite: Database.Database, fn: () => T, opts: WriteTxnOptions): T {
  const s = statements(sqlite);
  if (sqlite.inTransaction) return nested(sqlite, s, fn);
  const retries = opts.retries ?? 5;
  const random = opts.random ?? Math.random;
  for (let attempt = 0; ; attempt++) {
    try {
      begin(sqlite, s, random);
    } catch (err) {
      if (!isSqliteBusy(err) || attempt >= retries) throw err;
      sleepSync(20 + Math.floor(random() * 130));
      continue;
    }
    let result: T;
    try {
      result = fn();
    } catch (err) {
      rollbackQuietly(sqlite, s);
      throw err;
    }
    if (result instanceof Promise) {
      rollbackQuietly(sqlite, s);
      throw new TypeError("writeTxn: the transaction function must be synchronous");
    }
    try {
      s.commit.run();
      return result;
    } catch (err) {
      // A failed COMMIT leaves the transaction open: roll it back so the connection stays usable.
      rollbackQuietly(sqlite, s);
      if (!isSqliteBusy(err) || attempt >= retries) throw err;
      sleepSync(20 + Math.floor(random() * 130));
    }
  }
}
