import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { KanbanDbCorruptError, KanbanDbError } from "./errors.ts";
import { acquireInitLock } from "./init-lock.ts";
import { forgetIntegrityCheck, recentlyChecked, recordIntegrityCheck } from "./integrity-marker.ts";
import { migrateDatabase } from "./migrate.ts";
import { isCorruptionError, isStorageUnavailableError, markCorrupt, quarantineCopy } from "./sqlite-failures.ts";

export { quarantineCopy };

export type Synchronous = "FULL" | "NORMAL";

export interface OpenDatabaseOptions {
  /** Absolute or relative path of the board file. Its directory must already exist. */
  path: string;
  /** `FULL` (default, as Hermes) fsyncs every commit; `NORMAL` trades the last commits on power loss for speed. */
  synchronous?: Synchronous;
  /** How long a connection waits on another writer before SQLite reports busy. */
  busyTimeoutMs?: number;
  /**
   * Run `PRAGMA integrity_check` the first time this process opens the file: `true` (default),
   * `false`, or `"unless-recent"` (short-lived processes: skipped while a check of the same file
   * passed within the hour; see integrity-marker.ts).
   */
  integrityCheck?: boolean | "unless-recent";
  /** Where warnings go (WAL fallback, init-lock timeout). Defaults to stderr. */
  warn?: (message: string) => void;
  /** Time source for legacy backfills, in unix seconds. */
  nowSeconds?: () => number;
  /** Where the drizzle-kit migrations live; bundled hosts (Next) pass it explicitly. */
  migrationsFolder?: string;
  /**
   * `keep` (default): an existing board keeps the journal mode it has (a Hermes board in DELETE
   * mode stays in DELETE mode); only a new file is created in WAL. `wal`: also switch an existing
   * board to WAL (the operator's opt-in, `KANBAN_JOURNAL_MODE=wal`). See the README for why.
   */
  journalMode?: JournalModeChoice;
}

export type JournalModeChoice = "keep" | "wal";

export interface KanbanDatabase {
  readonly path: string;
  readonly sqlite: Database.Database;
  /** `wal`; or the mode an existing board had (Hermes' DELETE), or `delete` where WAL is impossible. */
  readonly journalMode: string;
  /**
   * A read-only connection to the same file, opened on first use: the kernel reads through it
   * outside its transactions, so a read never runs inside another caller's open transaction.
   */
  reader(): Database.Database;
  close(): void;
}

export const DEFAULT_BUSY_TIMEOUT_MS = 120_000;
const SQLITE_HEADER = Buffer.from("SQLite format 3\0", "latin1");

/** Paths this process has already checked and migrated: later opens skip the expensive steps. */
const initialised = new Set<string>();

/** Forget that `dbPath` was initialised, so the next open re-runs header, integrity and schema steps. */
export function forgetInitialised(dbPath?: string): void {
  if (dbPath === undefined) initialised.clear();
  else initialised.delete(path.resolve(dbPath));
}

function defaultWarn(message: string): void {
  process.stderr.write(`kanban: warning: ${message}\n`);
}

function checkPath(dbPath: string): boolean {
  let stat: fs.Stats | undefined;
  try {
    stat = fs.statSync(dbPath);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") {
      throw new KanbanDbError("DB_UNAVAILABLE", `cannot access database ${dbPath}: ${(err as Error).message}`, {
        path: dbPath,
      });
    }
  }
  if (stat?.isDirectory()) {
    throw new KanbanDbError("DB_PATH_INVALID", `database path is a directory, not a file: ${dbPath}`, { path: dbPath });
  }
  if (!stat) {
    const dir = path.dirname(dbPath);
    let dirStat: fs.Stats | undefined;
    try {
      dirStat = fs.statSync(dir);
    } catch {
      throw new KanbanDbError("DB_PATH_INVALID", `directory does not exist: ${dir} (for database ${dbPath})`, {
        path: dbPath,
      });
    }
    if (!dirStat.isDirectory()) {
      throw new KanbanDbError("DB_PATH_INVALID", `not a directory: ${dir} (for database ${dbPath})`, { path: dbPath });
    }
    try {
      fs.accessSync(dir, fs.constants.W_OK);
    } catch {
      throw new KanbanDbError(
        "DB_UNAVAILABLE",
        `directory is not writable: ${dir} (cannot create database ${dbPath})`,
        { path: dbPath },
      );
    }
    return false;
  }
  return stat.size > 0;
}

function checkHeader(dbPath: string): void {
  const fd = fs.openSync(dbPath, "r");
  const head = Buffer.alloc(32);
  let n = 0;
  try {
    n = fs.readSync(fd, head, 0, 32, 0);
  } finally {
    fs.closeSync(fd);
  }
  if (n >= 16 && head.subarray(0, 16).equals(SQLITE_HEADER)) return;
  const tls = head[0] === 0x16 && head[1] === 0x03 ? " (TLS record header detected at byte offset 0)" : "";
  throw new KanbanDbError(
    "DB_NOT_A_DATABASE",
    `file is not a database: invalid SQLite header for ${dbPath}${tls}; first_32=${head.subarray(0, n).toString("hex")}`,
    { path: dbPath },
  );
}

/** Pages between automatic checkpoints (see applyPragmas). */
export const WAL_AUTOCHECKPOINT_PAGES = 1900;

function applyPragmas(
  sqlite: Database.Database,
  opts: OpenDatabaseOptions,
  warn: (m: string) => void,
  isNew: boolean,
): string {
  sqlite.pragma(`busy_timeout = ${Math.max(0, Math.floor(opts.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS))}`);
  // Journal mode is a property of the file. Hermes keeps DELETE on SQLite builds with the WAL-reset
  // bug (3.7.0-3.51.2), so switching its board to WAL would make every Hermes process run WAL on a
  // vulnerable SQLite: an existing board keeps its mode unless the operator opts in.
  let journalMode = String(sqlite.pragma("journal_mode", { simple: true })).toLowerCase();
  if ((isNew || opts.journalMode === "wal") && journalMode !== "wal") {
    journalMode = String(sqlite.pragma("journal_mode = WAL", { simple: true })).toLowerCase();
    if (journalMode !== "wal") {
      // Network and FUSE file systems cannot share the WAL index; DELETE journaling still works there.
      journalMode = String(sqlite.pragma("journal_mode = DELETE", { simple: true })).toLowerCase();
      warn(`WAL journaling is not available for ${sqlite.name}; using ${journalMode} journal mode`);
    }
  }
  sqlite.pragma(`synchronous = ${opts.synchronous ?? "FULL"}`);
  sqlite.pragma("journal_size_limit = 8388608");
  // Hermes checkpoints every 100 pages; a claim or completion writes about 13, so that means a
  // checkpoint (two fsyncs) every few commits. 1,900 pages keeps the WAL (~7.8 MB) just under the
  // 8 MB journal_size_limit, so the file is reused rather than truncated and regrown, and cut
  // claim+complete commit time by about 10% in tooling/bench (README, "Benchmarks").
  sqlite.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
  sqlite.pragma("foreign_keys = ON");
  sqlite.pragma("secure_delete = ON");
  sqlite.pragma("cell_size_check = ON");
  return journalMode;
}

/**
 * Opens (creating if needed) a board file, ready for the kernel.
 *
 * The first open of a path in a process, under the cross-process init lock: checks the SQLite
 * header, runs `PRAGMA integrity_check` (a failing file is copied aside and reported with
 * {@link KanbanDbCorruptError}; the original is never modified), upgrades a legacy Hermes board in
 * place and applies pending migrations. Every open sets the connection PRAGMAs of Hermes (WAL,
 * synchronous, busy timeout, foreign_keys, secure_delete, cell_size_check).
 */
export function openDatabase(opts: OpenDatabaseOptions): KanbanDatabase {
  const dbPath = path.resolve(opts.path);
  const warn = opts.warn ?? defaultWarn;
  const firstOpen = !initialised.has(dbPath);
  const hasContent = checkPath(dbPath);
  if (hasContent && firstOpen) checkHeader(dbPath);

  const release = firstOpen ? acquireInitLock(`${dbPath}.init.lock`, { warn }) : () => {};
  let sqlite: Database.Database | undefined;
  try {
    try {
      sqlite = new Database(dbPath, { fileMustExist: false });
    } catch (err) {
      throw new KanbanDbError("DB_UNAVAILABLE", `cannot open database ${dbPath}: ${(err as Error).message}`, {
        path: dbPath,
      });
    }
    let journalMode: string;
    try {
      journalMode = applyPragmas(sqlite, opts, warn, !hasContent);
      const policy = opts.integrityCheck ?? true;
      const skip = policy === false || (policy === "unless-recent" && recentlyChecked(dbPath));
      if (firstOpen && hasContent && !skip) {
        const rows = sqlite.pragma("integrity_check") as { integrity_check: string }[];
        const messages = rows.map((r) => r.integrity_check);
        if (!(messages.length === 1 && messages[0] === "ok")) {
          throw new KanbanDbCorruptError(dbPath, null, messages.slice(0, 5).join("; "));
        }
        recordIntegrityCheck(dbPath);
      }
    } catch (err) {
      if (err instanceof KanbanDbCorruptError || isCorruptionError(err)) {
        const reason = err instanceof KanbanDbCorruptError ? err.reason : (err as Error).message;
        forgetIntegrityCheck(dbPath);
        // Copy aside first, and close without the WAL checkpoint that would write into the file.
        const backup = markCorrupt(sqlite, reason).backupPath;
        sqlite.close();
        sqlite = undefined;
        throw new KanbanDbCorruptError(dbPath, backup, reason);
      }
      if (isStorageUnavailableError(err)) {
        throw new KanbanDbError("DB_UNAVAILABLE", `cannot write database ${dbPath}: ${(err as Error).message}`, {
          path: dbPath,
        });
      }
      throw err;
    }
    if (firstOpen) {
      try {
        migrateDatabase(sqlite, { nowSeconds: opts.nowSeconds, migrationsFolder: opts.migrationsFolder });
      } catch (err) {
        if (isStorageUnavailableError(err) || isStorageUnavailableError((err as { cause?: unknown }).cause)) {
          const cause = isStorageUnavailableError(err) ? err : (err as { cause: unknown }).cause;
          throw new KanbanDbError(
            "DB_UNAVAILABLE",
            `cannot upgrade read-only database ${dbPath}: ${(cause as Error).message}`,
            { path: dbPath },
          );
        }
        throw err;
      }
      initialised.add(dbPath);
    }
    const opened = sqlite;
    const busyTimeoutMs = Number(opened.pragma("busy_timeout", { simple: true })) || 0;
    let reader: Database.Database | undefined;
    return {
      path: dbPath,
      sqlite: opened,
      journalMode,
      reader: () => {
        if (!reader?.open) {
          reader = new Database(dbPath, { readonly: true, fileMustExist: true });
          reader.pragma(`busy_timeout = ${busyTimeoutMs}`);
        }
        return reader;
      },
      close: () => {
        if (reader?.open) reader.close();
        if (opened.open) opened.close();
      },
    };
  } catch (err) {
    if (sqlite?.open) sqlite.close();
    throw err;
  } finally {
    release();
  }
}
