import type Database from "better-sqlite3";
import { isSqliteBusy, KanbanDbError } from "./errors.ts";
import { classifySqliteFailure, corruptionOf } from "./sqlite-failures.ts";
import { statements, type TxnStatements as Prepared } from "./write-txn.ts";

export interface AsyncWriteTxnOptions {
  /** How long to wait for the write lock before giving up with SQLite's busy error (default: the connection's busy_timeout). */
  timeoutMs?: number;
  /** How many times to retry when COMMIT reports busy (the whole function runs again). */
  retries?: number;
  /** Random source for the poll jitter (injected in tests). */
  random?: () => number;
}

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function rollbackQuietly(sqlite: Database.Database, p: Prepared): void {
  try {
    if (sqlite.inTransaction) p.rollback.run();
  } catch {
    // A failed ROLLBACK (I/O error, corruption) must not hide the error that caused it.
  }
}

/**
 * `BEGIN IMMEDIATE`, polled every 0.5–4 ms on a timer while another process holds the write lock,
 * so a locked board delays this transaction only, never the event loop. The short jittered polls
 * keep several processes claiming from one file fair (see write-txn.ts, `begin`).
 */
async function begin(sqlite: Database.Database, p: Prepared, timeoutMs: number, random: () => number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  // The wait happens here, on timers, never in SQLite's busy handler: that handler sleeps the
  // thread, and with it every request the process serves. Restored after, for COMMIT and for
  // DELETE-journal boards, whose short waits on readers stay SQLite's.
  sqlite.exec("PRAGMA busy_timeout = 0");
  try {
    for (;;) {
      try {
        p.begin.run();
        return;
      } catch (err) {
        if (!isSqliteBusy(err)) throw err;
        if (performance.now() >= deadline)
          throw new KanbanDbError(
            "DB_BUSY",
            `${sqlite.name} is locked by another process: waited ${timeoutMs} ms for its write lock; nothing was written`,
            { path: sqlite.name, waited_ms: timeoutMs },
          );
        await pause(0.5 + random() * 3.5);
      }
    }
  } finally {
    // A board closed meanwhile has no connection to restore; its own error says so.
    if (sqlite.open) sqlite.exec(`PRAGMA busy_timeout = ${p.timeoutMs}`);
  }
}

/**
 * The asynchronous write boundary: `fn` runs inside `BEGIN IMMEDIATE … COMMIT` on `sqlite`, and may
 * await (the store's calls are async). The caller must make sure nothing else uses this connection
 * until the promise settles (the kernel's session queues its callers). Errors roll back and are
 * rethrown; a COMMIT that reports busy is retried with the whole function, which must therefore be
 * a pure function of the database. SQLite failures leave as typed errors (DB_CORRUPT, DB_UNAVAILABLE)
 * as in {@link writeTxn}.
 */
export async function writeTxnAsync<T>(
  sqlite: Database.Database,
  fn: () => Promise<T>,
  opts: AsyncWriteTxnOptions = {},
): Promise<T> {
  const corrupt = corruptionOf(sqlite);
  if (corrupt !== null) throw corrupt;
  const p = statements(sqlite);
  const retries = opts.retries ?? 5;
  const random = opts.random ?? Math.random;
  try {
    for (let attempt = 0; ; attempt++) {
      await begin(sqlite, p, opts.timeoutMs ?? p.timeoutMs, random);
      let result: T;
      try {
        result = await fn();
      } catch (err) {
        rollbackQuietly(sqlite, p);
        throw err;
      }
      try {
        p.commit.run();
        return result;
      } catch (err) {
        rollbackQuietly(sqlite, p);
        if (!isSqliteBusy(err) || attempt >= retries) throw err;
        await pause(20 + Math.floor(random() * 130));
      }
    }
  } catch (err) {
    throw classifySqliteFailure(sqlite, err);
  }
}

/** A savepoint inside the caller's own open transaction: `fn`'s writes roll back alone if it throws. */
export async function savepointAsync<T>(sqlite: Database.Database, name: string, fn: () => Promise<T>): Promise<T> {
  sqlite.exec(`SAVEPOINT ${name}`);
  try {
    const result = await fn();
    sqlite.exec(`RELEASE ${name}`);
    return result;
  } catch (err) {
    // A failure SQLite answers by rolling back the whole transaction (a full disk, an I/O error)
    // leaves no savepoint to return to: report that failure, not "no such savepoint".
    if (!sqlite.inTransaction) throw err;
    sqlite.exec(`ROLLBACK TO ${name}`);
    sqlite.exec(`RELEASE ${name}`);
    throw err;
  }
}
