/**
 * Database-level failures, with stable codes so that the API and CLI can map them to one clear
 * message each (never a stack trace). Every path that refuses to open a file leaves the original
 * file exactly as it was.
 */
export const DB_ERROR_CODES = [
  /** The path cannot be used as a database file (a directory, a missing parent directory, ...). */
  "DB_PATH_INVALID",
  /** The file exists but is not an SQLite database (bad header). */
  "DB_NOT_A_DATABASE",
  /** The file is an SQLite database that failed `PRAGMA integrity_check`. */
  "DB_CORRUPT",
  /** The file or its directory cannot be opened or written (permissions, read-only media). */
  "DB_UNAVAILABLE",
  /**
   * Another process has held the board's write lock for longer than the busy timeout (a long
   * transaction, a stuck process, a backup holding the file): nothing was written; try again.
   */
  "DB_BUSY",
  /** A board slug or board operation is invalid (bad slug, unknown board, default board removal). */
  "BOARD_INVALID",
  /** The named board does not exist. */
  "BOARD_NOT_FOUND",
  /** `<home>/config.json` is not valid JSON, has an unknown key or a bad value (the message names it). */
  "CONFIG_INVALID",
  /** A PostgreSQL URL that cannot be used (not postgres://, no database name, a bad port or escape). */
  "DB_URL_INVALID",
  /** The PostgreSQL server cannot be reached (refused, unknown host, timeout, TLS failure, starting up). */
  "DB_UNREACHABLE",
  /** The PostgreSQL server refused the user or the password (or asked for a password the URL lacks). */
  "DB_AUTH_FAILED",
  /** The PostgreSQL server has no database of the URL's name. */
  "DB_NOT_FOUND",
] as const;

export type DbErrorCode = (typeof DB_ERROR_CODES)[number];

/**
 * The base of every typed refusal in the system (the db's and the kernel's): a stable `code` that
 * each boundary maps to one tRPC code, HTTP status and CLI exit code, and structured `details`.
 */
export class KanbanError<Code extends string = string> extends Error {
  override readonly name: string = "KanbanError";
  readonly code: Code;
  readonly details: Record<string, unknown>;

  constructor(code: Code, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.code = code;
    this.details = details;
  }
}

export class KanbanDbError extends KanbanError<DbErrorCode> {
  override readonly name: string = "KanbanDbError";
}

/**
 * Raised when a board file fails its integrity check on open, or a running connection meets
 * corruption (`when: "running"`: that connection then writes nothing more). A byte-for-byte copy
 * was written first (its path is `backupPath`, or null if even the copy failed) and the original is
 * left untouched.
 */
export class KanbanDbCorruptError extends KanbanDbError {
  override readonly name = "KanbanDbCorruptError";
  readonly dbPath: string;
  readonly backupPath: string | null;
  readonly reason: string;

  constructor(dbPath: string, backupPath: string | null, reason: string, when: "open" | "running" = "open") {
    const backup = backupPath ?? "<backup failed>";
    super(
      "DB_CORRUPT",
      when === "open"
        ? `Refusing to open corrupt kanban DB at ${dbPath}: ${reason}. Original preserved; backup at ${backup}.`
        : `Kanban DB at ${dbPath} became corrupt while open: ${reason}. Writes stopped; original preserved; backup at ${backup}.`,
      { dbPath, backupPath, reason },
    );
    this.dbPath = dbPath;
    this.backupPath = backupPath;
    this.reason = reason;
  }
}

export function isSqliteBusy(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return (
    code === "SQLITE_BUSY" || code === "SQLITE_LOCKED" || (typeof code === "string" && code.startsWith("SQLITE_BUSY_"))
  );
}
