import type { Pool, PoolConfig } from "pg";
import { KanbanDbError } from "./errors.ts";
import { classifyPostgresFailure } from "./pg-failures.ts";
import { type PostgresTarget, parsePostgresUrl } from "./pg-url.ts";

export interface OpenPostgresOptions {
  /** Connections this process may hold at most (default 4). Fixed: the pool never grows past it. */
  poolSize?: number;
  /** How long one connection attempt may take (default 10 s). */
  connectTimeoutMs?: number;
  /** Shown in `pg_stat_activity.application_name` (default `kanban`), so operators can count us. */
  applicationName?: string;
  /** Where failures of idle pooled connections are reported (one line; default: process warning). */
  warn?: (message: string) => void;
  /**
   * The schema every connection of the pool resolves unqualified names in (a board's
   * `kanban_<slug>`), set once per connection at startup so no query pays a round trip for it.
   */
  searchPath?: string;
}

export interface KanbanPostgres {
  /** The pool: at most `poolSize` connections, int8 values parsed as numbers (see `parseInt8`). */
  readonly pool: Pool;
  /** Where it points, without the password. */
  readonly target: PostgresTarget;
  /** `server_version_num`, e.g. 180004. */
  readonly serverVersion: number;
  /** A driver or server failure met later, as the same typed, password-free errors `openPostgres` throws. */
  failure(err: unknown): KanbanDbError;
  /** Closes every connection of the pool. */
  close(): Promise<void>;
}

export const DEFAULT_PG_POOL_SIZE = 4;

/** A schema name as a startup `-c search_path=` value: quoted, and only names we make. */
function searchPathOption(schema: string): string {
  if (!/^[a-z0-9_-]{1,63}$/.test(schema)) {
    throw new KanbanDbError("CONFIG_INVALID", `invalid PostgreSQL schema name ${JSON.stringify(schema)}`);
  }
  return `"${schema}"`;
}
/** The oldest PostgreSQL we accept: identity columns, `DROP DATABASE ... WITH (FORCE)` in tests. */
export const MIN_PG_SERVER_VERSION = 130000;

/**
 * int8 (bigint: our ids, times and counters, and `count(*)`) as a JS number when it is a safe
 * integer, which every value the kernel writes is, else as a bigint, so nothing an SQLite board held
 * is silently rounded. The driver's default would return every int8 as a string. Only this pool's
 * parser changes; `pg`'s global table is left alone for other users in the process (benchmarks run
 * pg-boss beside us).
 */
export function parseInt8(value: string): number | bigint {
  const n = Number(value);
  if (Number.isSafeInteger(n)) return n;
  // A numeric with a fraction (AVG) stays a number; only a whole number too big for one is a bigint.
  return /^-?\d+$/.test(value) ? BigInt(value) : n;
}

/**
 * Checks the URL, opens a pool and proves the server is usable with one round trip, or throws one
 * typed `KanbanDbError` whose message is one line naming `host:port/database` and never the password:
 * `DB_URL_INVALID`, `DB_UNREACHABLE`, `DB_AUTH_FAILED`, `DB_NOT_FOUND`, or `DB_UNAVAILABLE` (a server
 * older than PostgreSQL 13, a database not in UTF8, anything else the server refuses). On failure no
 * connection is left open, so nothing starts half-way.
 *
 * `pg` is loaded here, on first use, so processes on SQLite never load it.
 */
export async function openPostgres(url: string, opts: OpenPostgresOptions = {}): Promise<KanbanPostgres> {
  const { target, secrets } = parsePostgresUrl(url);
  const poolSize = opts.poolSize ?? DEFAULT_PG_POOL_SIZE;
  if (!Number.isInteger(poolSize) || poolSize < 1 || poolSize > 100) {
    throw new KanbanDbError("CONFIG_INVALID", `invalid PostgreSQL pool size ${String(poolSize)}: expected 1 to 100`);
  }
  const warn = opts.warn ?? ((message: string) => process.emitWarning(message));
  const failure = (err: unknown) => classifyPostgresFailure(err, target, secrets);

  const pg = (await import("pg")).default;
  const config: PoolConfig = {
    connectionString: url.trim(),
    max: poolSize,
    connectionTimeoutMillis: opts.connectTimeoutMs ?? 10_000,
    application_name: opts.applicationName ?? "kanban",
    keepAlive: true,
    types: {
      // numeric is what SUM() of a bigint answers: a number like SQLite's, not the driver's string.
      getTypeParser: ((oid: number, format?: "text" | "binary") =>
        (oid === pg.types.builtins.INT8 || oid === pg.types.builtins.NUMERIC) && format !== "binary"
          ? parseInt8
          : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
    ...(opts.searchPath === undefined ? {} : { options: `-c search_path=${searchPathOption(opts.searchPath)}` }),
  };
  // The first connection is a lone client, not the pool's: when it fails half-way (a server asking
  // for a password the URL lacks makes the driver throw mid-handshake), the pool would neither
  // reuse nor close it, leaving a socket and a backend waiting for authentication. A lone client is
  // ended whatever happened.
  const probe = new pg.Client(config);
  probe.on("error", () => {});
  let serverVersion: number;
  try {
    await probe.connect();
    const { rows } = await probe.query<{ version: string; encoding: string }>(
      "SELECT current_setting('server_version_num') AS version, current_setting('server_encoding') AS encoding",
    );
    serverVersion = Number(rows[0]?.version);
    const encoding = String(rows[0]?.encoding);
    if (!(serverVersion >= MIN_PG_SERVER_VERSION)) {
      throw new KanbanDbError(
        "DB_UNAVAILABLE",
        `PostgreSQL at ${target.label} is version ${serverVersion}; kanban needs 13 or newer`,
        { host: target.host, port: target.port, database: target.database },
      );
    }
    if (encoding !== "UTF8") {
      // Board text is UTF-8 (SQLite's); any other server encoding would refuse or alter some of it.
      throw new KanbanDbError(
        "DB_UNAVAILABLE",
        `PostgreSQL database ${target.label} has encoding ${encoding}; kanban needs UTF8 (CREATE DATABASE ... ENCODING 'UTF8')`,
        { host: target.host, port: target.port, database: target.database },
      );
    }
  } catch (err) {
    await endClient(probe, true);
    throw failure(err);
  }
  await endClient(probe);

  const pool = new pg.Pool(config);
  // An idle connection that the server or the network drops emits 'error' on the pool; without a
  // listener that would crash the process. The pool replaces the connection on next use.
  pool.on("error", (err) => warn(failure(err).message));
  // A connection checked out of the pool is not heard by that listener: its errors reach only
  // listeners of its own, and the driver emits one for a backend terminated while it is held (a
  // transaction's connection during a failover, an administrator's pg_terminate_backend, a
  // server restart), whether or not a statement is in flight. Unheard, it crashes the process.
  // The statement in flight, or the next one, fails with it, and the holder discards the
  // connection; so listening is all there is to do here.
  pool.on("connect", (client) => {
    client.on("error", () => {});
  });
  return { pool, target, serverVersion, failure, close: closingConnections(pool) };
}

/** How long `close` waits for a server to close its side of a connection before dropping the socket. */
const CLOSE_WAIT_MS = 5_000;

/**
 * The pool's `close`: ends the pool and resolves once every connection it opened is closed. pg-pool's
 * own `end()` resolves as soon as it has asked each client to end, before their sockets close
 * (node-postgres issues 2328 and 3287), so a database dropped right after still had sessions on it.
 * A connection whose server does not answer the goodbye within CLOSE_WAIT_MS is dropped at our end.
 */
function closingConnections(pool: import("pg").Pool): () => Promise<void> {
  const open = new Set<import("pg").Client>();
  pool.on("connect", (client) => {
    open.add(client);
    client.once("end", () => open.delete(client));
  });
  let closed: Promise<void> | null = null;
  return () => {
    closed ??= (async () => {
      const ending = [...open].map(
        (client) =>
          new Promise<void>((resolve) => {
            const socket = (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream;
            const timer = setTimeout(() => {
              socket?.destroy();
              resolve();
            }, CLOSE_WAIT_MS);
            timer.unref();
            client.once("end", () => {
              clearTimeout(timer);
              resolve();
            });
          }),
      );
      await pool.end();
      await Promise.all(ending);
    })();
    return closed;
  };
}

/**
 * Ends a probe client. After a failure its socket is destroyed at once: a graceful end waits for the
 * server to close its side, which a server that never answered (or a handshake the driver abandoned)
 * never does.
 */
async function endClient(client: import("pg").Client, failed = false): Promise<void> {
  if (!failed) {
    await client.end().catch(() => {});
    return;
  }
  (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
  client.end().catch(() => {});
}
