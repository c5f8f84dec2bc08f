import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { KanbanDbCorruptError, KanbanDbError } from "./errors.ts";
import { forgetIntegrityCheck } from "./integrity-marker.ts";

/**
 * What SQLite failures mean for a board, on a running connection as on open: corruption becomes a
 * typed DB_CORRUPT (after a quarantine copy, with writes stopped), a file or directory that cannot
 * be written (read-only media, permissions, a full disk) a typed DB_UNAVAILABLE. Never a bare
 * SqliteError that a boundary would have to answer with a 500.
 */
function sqliteCode(err: unknown): string | null {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && code.startsWith("SQLITE_") ? code : null;
}

export function isCorruptionError(err: unknown): boolean {
  const code = sqliteCode(err);
  return code !== null && (code.startsWith("SQLITE_CORRUPT") || code === "SQLITE_NOTADB");
}

/** SQLITE_READONLY*, CANTOPEN*, PERM, FULL and IOERR*: the storage refuses, the data is fine. */
export function isStorageUnavailableError(err: unknown): boolean {
  const code = sqliteCode(err);
  if (code === null) return false;
  return (
    ["SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_IOERR"].some((p) => code === p || code.startsWith(`${p}_`)) ||
    code === "SQLITE_PERM" ||
    code === "SQLITE_FULL"
  );
}

/** Copies the file (and its -wal/-shm sidecars) to `<name>.corrupt.<sha256 first 16 hex>.bak`. */
export function quarantineCopy(dbPath: string): string | null {
  try {
    const bytes = fs.readFileSync(dbPath);
    const hash = createHash("sha256").update(bytes).digest("hex").slice(0, 16);
    const backup = path.join(path.dirname(dbPath), `${path.basename(dbPath)}.corrupt.${hash}.bak`);
    if (!fs.existsSync(backup)) fs.writeFileSync(backup, bytes);
    for (const side of ["-wal", "-shm"]) {
      if (fs.existsSync(dbPath + side)) fs.copyFileSync(dbPath + side, backup + side);
    }
    return backup;
  } catch {
    return null;
  }
}

/** Connections that met corruption while running, and the error every later write gets. */
const corrupted = new WeakMap<Database.Database, KanbanDbCorruptError>();
/** Strong references, so that they are closed (see closeCorruptConnections) before exit, guards last. */
const corruptConnections = new Set<Database.Database>();
const guards: Database.Database[] = [];
let exitHookInstalled = false;

/** The DB_CORRUPT error of a connection that met corruption, or null. */
export function corruptionOf(sqlite: Database.Database): KanbanDbCorruptError | null {
  return corrupted.get(sqlite) ?? null;
}

/**
 * Closing the last connection to a WAL database checkpoints the WAL into the main file; for a file
 * found corrupt that would write into it. A read-only connection never checkpoints, and while it is
 * open (holding its shared lock) no other connection of this process can: so a read-only guard is
 * opened and kept until the process ends, and the corrupt connections are closed before it.
 */
function guardAgainstCloseCheckpoint(sqlite: Database.Database): void {
  let mode = "";
  try {
    mode = String(sqlite.pragma("journal_mode", { simple: true })).toLowerCase();
  } catch {
    mode = "wal"; // cannot tell: guard anyway
  }
  if (mode !== "wal") return; // a rollback journal has no checkpoint
  try {
    const guard = new Database(sqlite.name, { readonly: true, fileMustExist: true });
    try {
      guard.pragma("schema_version"); // a read: opens the WAL and takes the shared lock
    } catch {
      // The lock is taken before the page read that may fail.
    }
    guards.push(guard);
  } catch {
    // Without a guard the close-time checkpoint may still happen; nothing more can be done here.
  }
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once("exit", closeCorruptConnections);
  }
}

/** Closes every corrupt connection while the guards still hold their locks (runs at exit). */
export function closeCorruptConnections(): void {
  for (const c of corruptConnections) {
    try {
      if (c.open) c.close();
    } catch {
      // closing is best effort at exit
    }
  }
  corruptConnections.clear();
}

/**
 * Stops all writes on a connection that met corruption: the connection becomes query-only, its
 * automatic checkpoints stop, a read-only guard prevents the close-time checkpoint, the file (with
 * its sidecars) is copied aside as on open, and the returned DB_CORRUPT error (also given to every
 * later write on this connection) names the copy. The original file is not written again by us.
 */
export function markCorrupt(sqlite: Database.Database, cause: unknown): KanbanDbCorruptError {
  const known = corrupted.get(sqlite);
  if (known) return known;
  for (const pragma of ["query_only = ON", "wal_autocheckpoint = 0"]) {
    try {
      sqlite.pragma(pragma);
    } catch {
      // best effort: writeTxn refuses this connection's writes regardless
    }
  }
  guardAgainstCloseCheckpoint(sqlite);
  const dbPath = sqlite.name;
  forgetIntegrityCheck(dbPath);
  const reason = cause instanceof Error ? cause.message : String(cause);
  const error = new KanbanDbCorruptError(dbPath, quarantineCopy(dbPath), reason, "running");
  corrupted.set(sqlite, error);
  corruptConnections.add(sqlite);
  return error;
}

/**
 * The typed error for a failure of a statement on `sqlite` (corruption marks the connection, see
 * {@link markCorrupt}), or the error unchanged when it is neither corruption nor unavailable storage.
 */
export function classifySqliteFailure(sqlite: Database.Database | null, err: unknown): unknown {
  if (err instanceof KanbanDbError) return err;
  if (isCorruptionError(err)) {
    if (sqlite !== null) return markCorrupt(sqlite, err);
    return new KanbanDbError("DB_CORRUPT", `the kanban database is corrupt: ${(err as Error).message}`);
  }
  if (isStorageUnavailableError(err)) {
    const where = sqlite !== null ? ` ${sqlite.name}` : "";
    return new KanbanDbError(
      "DB_UNAVAILABLE",
      `cannot use the kanban database${where}: ${(err as Error).message}`,
      sqlite ? { path: sqlite.name } : {},
    );
  }
  return err;
}
