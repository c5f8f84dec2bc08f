import { KanbanDbError } from "./errors.ts";
import { type PostgresTarget, redactSecrets } from "./pg-url.ts";

/** Socket-level failures: the server is not there (or not answering) at that address. */
const NETWORK_CODES = new Map<string, string>([
  ["ECONNREFUSED", "connection refused"],
  ["ENOTFOUND", "unknown host"],
  ["EAI_AGAIN", "host name lookup failed"],
  ["ETIMEDOUT", "connection timed out"],
  ["EHOSTUNREACH", "host unreachable"],
  ["ENETUNREACH", "network unreachable"],
  ["ECONNRESET", "connection reset"],
  ["EPIPE", "connection closed"],
  ["ENOENT", "no socket at that path"],
  ["EACCES", "permission denied on the socket"],
]);

/**
 * pg-pool's words when a call waited for one of the pool's connections (all in use) longer than
 * `connectionTimeoutMillis`. A new connection that takes too long fails with other words
 * ("Connection terminated due to connection timeout"), so these mean a busy pool, not a lost server.
 */
const POOL_WAIT_TIMEOUT = "timeout exceeded when trying to connect";

interface DriverError {
  code?: unknown;
  message?: unknown;
  errors?: unknown;
}

function codeOf(err: unknown): string | undefined {
  const e = err as DriverError | null;
  if (typeof e?.code === "string") return e.code;
  // Node reports a host with several addresses (localhost: ::1 and 127.0.0.1) as an AggregateError.
  if (Array.isArray(e?.errors)) for (const inner of e.errors) if (codeOf(inner)) return codeOf(inner);
  return undefined;
}

function messageOf(err: unknown): string {
  const m = (err as DriverError | null)?.message;
  return typeof m === "string" ? m : String(err);
}

/**
 * What a failure met while connecting to (or talking with) PostgreSQL means, as one typed error whose
 * message is ONE line naming `host:port/database` and never the password: the driver's and the
 * server's texts are passed through `redactSecrets`, the driver's error is not kept as `cause` (its
 * properties could hold connection parameters), and `details` holds only the target.
 *
 * - SQLSTATE 28P01/28000 (wrong password, unknown role, pg_hba refusal), or a server asking for a
 *   password the URL does not give: `DB_AUTH_FAILED`;
 * - SQLSTATE 3D000: `DB_NOT_FOUND`;
 * - socket errors, timeouts, TLS failures, a server starting up or shutting down (57P01–57P03):
 *   `DB_UNREACHABLE`;
 * - a call that waited for a pooled connection past the connect timeout, every connection being in
 *   use: `DB_BUSY` (nothing was sent);
 * - anything else (too many connections, out of disk...): `DB_UNAVAILABLE`.
 */
export function classifyPostgresFailure(
  err: unknown,
  target: PostgresTarget,
  secrets: readonly string[] = [],
): KanbanDbError {
  if (err instanceof KanbanDbError) return err;
  const code = codeOf(err);
  const text = redactSecrets(messageOf(err), secrets);
  const details = {
    host: target.host,
    port: target.port,
    database: target.database,
    ...(target.user ? { user: target.user } : {}),
  };
  const at = target.label;
  const who = target.user ? `user '${target.user}'` : "the default user";

  if (code === "28P01" || code === "28000") {
    return new KanbanDbError("DB_AUTH_FAILED", `PostgreSQL at ${at} refused ${who}: ${text}`, {
      ...details,
      sqlstate: code,
    });
  }
  if (/client password must be a string|password must be a string/i.test(text)) {
    return new KanbanDbError(
      "DB_AUTH_FAILED",
      `PostgreSQL at ${at} asks ${who} for a password and the URL gives none`,
      details,
    );
  }
  if (code === "3D000") {
    return new KanbanDbError(
      "DB_NOT_FOUND",
      `PostgreSQL at ${target.host}:${target.port} has no database '${target.database}' (create it first: CREATE DATABASE ...)`,
      { ...details, sqlstate: code },
    );
  }
  if (code === "25006") {
    // A hot standby, or default_transaction_read_only on the database or role (a failover that left
    // the board on a replica): reads still work, writes cannot until the server takes them again.
    return new KanbanDbError(
      "DB_UNAVAILABLE",
      `PostgreSQL at ${at} accepts no writes (a read-only server or session); nothing was written: ${text}`,
      { ...details, sqlstate: code },
    );
  }
  if (code === "42501") {
    return new KanbanDbError(
      "DB_UNAVAILABLE",
      `PostgreSQL at ${at} refused ${who} a privilege the board needs: ${text}`,
      {
        ...details,
        sqlstate: code,
      },
    );
  }
  const network = code ? NETWORK_CODES.get(code) : undefined;
  if (network) {
    return new KanbanDbError("DB_UNREACHABLE", `cannot reach PostgreSQL at ${at}: ${network}`, {
      ...details,
      errno: code,
    });
  }
  if (code === "57P01" || code === "57P02" || code === "57P03") {
    return new KanbanDbError("DB_UNREACHABLE", `PostgreSQL at ${at} is not accepting connections: ${text}`, {
      ...details,
      sqlstate: code,
    });
  }
  if (text === POOL_WAIT_TIMEOUT) {
    return new KanbanDbError(
      "DB_BUSY",
      `every pooled connection to PostgreSQL at ${at} stayed in use for the whole connect timeout; nothing was sent, try again`,
      details,
    );
  }
  if (
    /timeout|terminated unexpectedly|Connection terminated|ssl|tls|certificate|self[- ]signed/i.test(text) ||
    (code !== undefined && /^ERR_(TLS|SSL)/.test(code))
  ) {
    return new KanbanDbError("DB_UNREACHABLE", `cannot reach PostgreSQL at ${at}: ${text}`, details);
  }
  return new KanbanDbError("DB_UNAVAILABLE", `PostgreSQL at ${at} failed: ${text}`, {
    ...details,
    ...(code ? { sqlstate: code } : {}),
  });
}
