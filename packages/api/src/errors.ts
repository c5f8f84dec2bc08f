import { classifySqliteFailure, type DbErrorCode, KanbanDbError, KanbanError } from "@kanban/db";
import { KernelError, type KernelErrorCode } from "@kanban/kernel";
import { TRPCError, type TRPC_ERROR_CODE_KEY } from "@trpc/server";
import { ZodError } from "zod";
import type { Logger } from "./logger.ts";

/**
 * THE error table: every typed failure of the layers below maps to exactly one tRPC code (and so one
 * HTTP status). Bad input is never an INTERNAL_SERVER_ERROR.
 *
 * | source      | code                              | tRPC (HTTP)                 |
 * |-------------|-----------------------------------|-----------------------------|
 * | kernel      | NOT_FOUND                         | NOT_FOUND (404)             |
 * | kernel      | INVALID_INPUT, WORKSPACE_PATH_NOT_ALLOWED | BAD_REQUEST (400)   |
 * | kernel      | WRONG_STATE, STALE_RUN            | CONFLICT (409)              |
 * | kernel      | HALLUCINATED_CARDS                | PRECONDITION_FAILED (412)   |
 * | db          | BOARD_NOT_FOUND                   | NOT_FOUND (404)             |
 * | db          | BOARD_INVALID, DB_PATH_INVALID    | BAD_REQUEST (400)           |
 * | db          | DB_NOT_A_DATABASE, DB_CORRUPT     | PRECONDITION_FAILED (412)   |
 * | db          | DB_UNAVAILABLE, DB_BUSY, CONFIG_INVALID | SERVICE_UNAVAILABLE (503) |
 * | db (pg)     | DB_URL_INVALID, DB_UNREACHABLE, DB_AUTH_FAILED, DB_NOT_FOUND | SERVICE_UNAVAILABLE (503) |
 * | zod         | (input validation)                | BAD_REQUEST (400)           |
 * | anything else                                   | INTERNAL_SERVER_ERROR (500), generic message, logged |
 */
export const KERNEL_ERROR_TO_TRPC: Readonly<Record<KernelErrorCode, TRPC_ERROR_CODE_KEY>> = {
  NOT_FOUND: "NOT_FOUND",
  INVALID_INPUT: "BAD_REQUEST",
  WRONG_STATE: "CONFLICT",
  STALE_RUN: "CONFLICT",
  HALLUCINATED_CARDS: "PRECONDITION_FAILED",
  WORKSPACE_PATH_NOT_ALLOWED: "BAD_REQUEST",
};

export const DB_ERROR_TO_TRPC: Readonly<Record<DbErrorCode, TRPC_ERROR_CODE_KEY>> = {
  BOARD_NOT_FOUND: "NOT_FOUND",
  BOARD_INVALID: "BAD_REQUEST",
  DB_PATH_INVALID: "BAD_REQUEST",
  DB_NOT_A_DATABASE: "PRECONDITION_FAILED",
  DB_CORRUPT: "PRECONDITION_FAILED",
  DB_UNAVAILABLE: "SERVICE_UNAVAILABLE",
  // Another process holds the board's write lock: nothing was written, the same call may succeed later.
  DB_BUSY: "SERVICE_UNAVAILABLE",
  // The server's own config.json is broken: not the caller's fault, usable again once the operator fixes it.
  CONFIG_INVALID: "SERVICE_UNAVAILABLE",
  // The server's PostgreSQL (its URL, reachability, credentials, database): the operator's to fix.
  DB_URL_INVALID: "SERVICE_UNAVAILABLE",
  DB_UNREACHABLE: "SERVICE_UNAVAILABLE",
  DB_AUTH_FAILED: "SERVICE_UNAVAILABLE",
  DB_NOT_FOUND: "SERVICE_UNAVAILABLE",
};

export const INTERNAL_MESSAGE = "internal server error";

/** A kernel or db error: both carry a stable `code` and JSON-safe `details`. */
export function isKanbanError(err: unknown): err is KanbanError {
  return err instanceof KanbanError;
}

/**
 * What a caller who is not the operator (a tenant or a worker's run token) reads instead of a db
 * failure's own message, which names server files (the board's path, the home, a backup).
 */
export const PATH_FREE_DB_MESSAGES: Readonly<Partial<Record<DbErrorCode, string>>> = {
  DB_PATH_INVALID: "the board's database file cannot be used; the operator can see why in the server log",
  DB_NOT_A_DATABASE: "the board's database file is not an SQLite database; the operator can see why in the server log",
  DB_CORRUPT:
    "the board's database failed its integrity check and was set aside; the operator can see why in the server log",
  DB_UNAVAILABLE: "the board's database is unavailable right now; the operator can see why in the server log",
  DB_BUSY:
    "the board is busy (another process holds its write lock, or every database connection is in use); nothing was written, try again",
  CONFIG_INVALID: "the server's configuration is invalid; the operator can see why in the server log",
  // These name the database server's host, port and database, which only the operator may read.
  DB_URL_INVALID: "the board's database is unavailable right now; the operator can see why in the server log",
  DB_UNREACHABLE: "the board's database is unavailable right now; the operator can see why in the server log",
  DB_AUTH_FAILED: "the board's database is unavailable right now; the operator can see why in the server log",
  DB_NOT_FOUND: "the board's database is unavailable right now; the operator can see why in the server log",
};

/** Absolute POSIX or Windows paths inside a message. */
const ABSOLUTE_PATH = /(?:[A-Za-z]:)?[/\\](?:[^\s'"`,;:()[\]{}]+)/g;

/** A db error as a non-operator may read it: no server path in its message, no details. */
function pathFree(err: KanbanDbError): KanbanDbError {
  const message = PATH_FREE_DB_MESSAGES[err.code] ?? err.message.replace(ABSOLUTE_PATH, "<path>");
  return new KanbanDbError(err.code, message);
}

export interface ToTRPCErrorOptions {
  /** Whether the caller may read server file paths (admin callers only). Default false: safe for any caller. */
  revealPaths?: boolean;
}

/**
 * Turns anything thrown below a procedure into the TRPCError the client sees. A TRPCError that a
 * procedure threw on purpose passes through; tRPC's own wrapper of a thrown value is unwrapped first.
 * Db errors reach non-admin callers without server paths; the operator's log keeps the full text.
 */
export function toTRPCError(err: unknown, logger?: Logger, where?: string, opts: ToTRPCErrorOptions = {}): TRPCError {
  let cause: unknown = err;
  if (err instanceof TRPCError) {
    // tRPC wraps a non-TRPCError throw as INTERNAL_SERVER_ERROR with the original as cause.
    if (err.code !== "INTERNAL_SERVER_ERROR" || err.cause === undefined) return err;
    if (err.cause instanceof TRPCError) return err.cause;
    cause = err.cause;
  }
  // A bare SQLite failure from a read (corrupt page, read-only or full storage) is a typed db error too.
  cause = classifySqliteFailure(null, cause);
  if (cause instanceof KernelError)
    return new TRPCError({ code: KERNEL_ERROR_TO_TRPC[cause.code], message: cause.message, cause });
  if (cause instanceof KanbanDbError) {
    if (opts.revealPaths !== true) {
      const safe = pathFree(cause);
      if (safe.message !== cause.message)
        logger?.warn("db error (shown to the caller without paths)", { where, code: cause.code, error: cause.message });
      return new TRPCError({ code: DB_ERROR_TO_TRPC[cause.code], message: safe.message, cause: safe });
    }
    return new TRPCError({ code: DB_ERROR_TO_TRPC[cause.code], message: cause.message, cause });
  }
  if (cause instanceof ZodError) return new TRPCError({ code: "BAD_REQUEST", message: "invalid input", cause });
  logger?.error("unexpected error", {
    where,
    error: cause instanceof Error ? cause.message : String(cause),
    stack: cause instanceof Error ? cause.stack : undefined,
  });
  return new TRPCError({ code: "INTERNAL_SERVER_ERROR", message: INTERNAL_MESSAGE });
}
