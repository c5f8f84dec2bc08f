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
 * One `BEGIN IMMEDIATE` attempt: true when the write lock is ours, false when another process holds
 * it. Never waits: SQLite's busy handler would sleep the thread, and with it every request the
 * process serves, so busy_timeout is 0 for the attempt and restored after (for COMMIT, and for
 * DELETE-journal boards, whose short waits on readers stay SQLite's). The pair costs about 3 µs.
 */
function tryBegin(sqlite: Database.Database, p: Prepared): boolean {
  sqlite.exec("PRAGMA busy_timeout = 0");
  try {
    p.begin.run();
    return true;
  } catch (err) {
    if (isSqliteBusy(err)) return false;
    throw err;
  } finally {
    // A board closed meanwhile has no connection to restore; its own error says so.
    if (sqlite.open) sqlite.exec(`PRAGMA busy_timeout = ${p.timeoutMs}`);
  }
}

/**
 * Waits for the write lock on timers, polling every 0.5–4 ms (jittered, so several processes
 * claiming from one file stay fair: see write-txn.ts, `begin`), until `deadline`. Only a busy
 * answer gets here: a free lock is taken by {@link writeTxnAsync} at once.
 */
async function beginLater(
  sqlite: Database.Database,
  p: Prepared,
  deadline: number,
  timeoutMs: number,
  random: () => number,
): Promise<void> {
  for (;;) {
    if (performance.now() >= deadline)
      throw new KanbanDbError(
        "DB_BUSY",
        `${sqlite.name} is locked by another process: waited ${timeoutMs} ms for its write lock; nothing was written`,
        { path: sqlite.name, waited_ms: timeoutMs },
      );
    await pause(0.5 + random() * 3.5);
    if (tryBegin(sqlite, p)) return;
  }
}

/** One transaction as {@link writeTxnAsync} runs it; `attempt` counts COMMIT-busy retries. */
class Txn<T> {
  private attempt = 0;
  private readonly retries: number;
  private readonly random: () => number;
  private readonly timeoutMs: number;

  constructor(
    private readonly sqlite: Database.Database,
    private readonly p: Prepared,
    private readonly fn: () => Promise<T> | T,
    opts: AsyncWriteTxnOptions,
  ) {
    this.retries = opts.retries ?? 5;
    this.random = opts.random ?? Math.random;
    this.timeoutMs = opts.timeoutMs ?? p.timeoutMs;
  }

  /** Takes the lock now when it is free (no timer, no microtask), else waits for it on timers. */
  start(): Promise<T> {
    try {
      if (tryBegin(this.sqlite, this.p)) return this.run();
    } catch (err) {
      return Promise.reject(classifySqliteFailure(this.sqlite, err));
    }
    const deadline = performance.now() + this.timeoutMs;
    return beginLater(this.sqlite, this.p, deadline, this.timeoutMs, this.random).then(
      () => this.run(),
      (err) => {
        throw classifySqliteFailure(this.sqlite, err);
      },
    );
  }

  // Methods and argument arrows, not named closures: this is every write's path, and a named
  // closure costs a defineProperty per call under tsx (esbuild's keepNames).

  /** Runs `fn` with the lock held, then commits. */
  private run(): Promise<T> {
    let out: Promise<T> | T;
    try {
      out = this.fn();
    } catch (err) {
      return Promise.reject(this.failed(err));
    }
    if (isThenable(out))
      return Promise.resolve(out).then(
        (result) => this.commit(result),
        (err) => {
          throw this.failed(err);
        },
      );
    try {
      return Promise.resolve(this.commit(out));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  private failed(err: unknown): unknown {
    rollbackQuietly(this.sqlite, this.p);
    return classifySqliteFailure(this.sqlite, err);
  }

  /** COMMIT; a busy COMMIT rolls back and runs the whole function again after 20–150 ms. */
  private commit(result: T): T | Promise<T> {
    try {
      this.p.commit.run();
      return result;
    } catch (err) {
      // A failed COMMIT leaves the transaction open: roll it back so the connection stays usable.
      rollbackQuietly(this.sqlite, this.p);
      if (!isSqliteBusy(err) || this.attempt >= this.retries) throw classifySqliteFailure(this.sqlite, err);
      this.attempt++;
      return pause(20 + Math.floor(this.random() * 130)).then(() => this.start());
    }
  }
}

function isThenable<T>(value: Promise<T> | T): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}

/**
 * The asynchronous write boundary: `fn` runs inside `BEGIN IMMEDIATE … COMMIT` on `sqlite`, and may
 * await (the store's calls are async). The caller must make sure nothing else uses this connection
 * until the promise settles (the kernel's session queues its callers). Errors roll back and are
 * rethrown; a COMMIT that reports busy is retried with the whole function, which must therefore be
 * a pure function of the database. SQLite failures leave as typed errors (DB_CORRUPT, DB_UNAVAILABLE)
 * as in {@link writeTxn}; the lock still busy after `timeoutMs` is DB_BUSY.
 *
 * A free lock is taken synchronously, and `fn` starts before this returns: no timer and no
 * microtask between the caller and its BEGIN. That keeps the lock's idle time between one
 * transaction's COMMIT and the next BEGIN as short as the synchronous writeTxn's, which is what
 * several processes claiming from one file lose throughput to (tooling/bench, claim-contention).
 */
export function writeTxnAsync<T>(
  sqlite: Database.Database,
  fn: () => Promise<T> | T,
  opts: AsyncWriteTxnOptions = {},
): Promise<T> {
  try {
    const corrupt = corruptionOf(sqlite);
    if (corrupt !== null) throw corrupt;
    return new Txn(sqlite, statements(sqlite), fn, opts).start();
  } catch (err) {
    return Promise.reject(classifySqliteFailure(sqlite, err));
  }
}

/** A savepoint inside the caller's own open transaction: `fn`'s writes roll back alone if it throws. */
export async function savepointAsync<T>(sqlite: Database.Database, name: string, fn: () => Promise<T> | T): Promise<T> {
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
