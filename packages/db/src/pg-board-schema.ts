import { createHash } from "node:crypto";
import type { PoolClient } from "pg";
import { normaliseSlug } from "./boards.ts";
import { KanbanDbError } from "./errors.ts";
import { defaultPgMigrationsFolder } from "./migrations-folder.ts";
import type { KanbanPostgres } from "./pg-connection.ts";

/** PostgreSQL truncates identifiers to 63 bytes (NAMEDATALEN - 1). */
const PG_IDENTIFIER_MAX = 63;
const PREFIX = "kanban_";

/**
 * The schema that holds one board on PostgreSQL: `kanban_<slug>`, the slug normalised as for SQLite
 * boards (`normaliseSlug`: trimmed, lower case, 1–64 of `[a-z0-9_-]`). A slug too long for the
 * 63-byte identifier limit keeps its first 46 characters and gets 9 hex digits of its SHA-256, so two
 * long slugs with the same beginning never share a schema (PostgreSQL would silently truncate both
 * to the same name). Always quote it (`quoteIdent`): slugs may contain `-`.
 */
export function boardSchemaName(slug: string): string {
  const s = normaliseSlug(slug);
  const plain = `${PREFIX}${s}`;
  if (plain.length <= PG_IDENTIFIER_MAX) return plain;
  const hash = createHash("sha256").update(s).digest("hex").slice(0, 9);
  return `${PREFIX}${s.slice(0, PG_IDENTIFIER_MAX - PREFIX.length - 10)}_${hash}`;
}

/** A PostgreSQL identifier in double quotes (embedded quotes doubled). */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * Advisory-lock keys of ours: PostgreSQL's two-int4 form, the first int naming what is locked, so our
 * locks never collide with another application's single-bigint keys in the same database, nor with
 * each other. The second int is `advisoryLockKey(schema)`.
 */
export const PG_LOCK_CLASS = {
  /** Held (session level) while a board's schema is created or migrated. */
  migrate: 0x4b4e4d01,
  /** The dispatcher's per-board tick lock (session level, on its coordination connection). */
  dispatchTick: 0x4b4e4d10,
  /**
   * Held (session level) by each dispatcher registered on a board, second int from the schema and
   * the dispatcher's id: readers see in `pg_locks` whether its session still lives.
   */
  dispatcherAlive: 0x4b4e4d11,
} as const;

/** A stable int4 for a name (the first 4 bytes of its SHA-256, signed). */
export function advisoryLockKey(name: string): number {
  return createHash("sha256").update(name).digest().readInt32BE(0);
}

export interface MigrateBoardSchemaOptions {
  migrationsFolder?: string;
  /** How long to wait for another process that is migrating the same board (default 60 s). */
  lockTimeoutMs?: number;
}

export interface MigrateBoardSchemaReport {
  /** The board's schema, e.g. `kanban_default`. */
  schema: string;
  /** Migrations applied by this call (0 when the schema was already current). */
  applied: number;
}

const JOURNAL = "__drizzle_migrations";

async function journalCount(client: PoolClient, schema: string): Promise<number> {
  const journal = `${quoteIdent(schema)}.${quoteIdent(JOURNAL)}`;
  const { rows } = await client.query<{ present: boolean }>("SELECT to_regclass($1) IS NOT NULL AS present", [journal]);
  if (!rows[0]?.present) return 0;
  const counted = await client.query<{ n: number }>(`SELECT count(*) AS n FROM ${journal}`);
  return Number(counted.rows[0]?.n ?? 0);
}

/**
 * Creates a board's schema (`boardSchemaName(slug)`) if needed and applies the migrations of
 * `drizzle-pg/` inside it with drizzle-orm's node-postgres migrator: `search_path` is the board's
 * schema alone (the migrations name no schema, so one set of files serves every board), and the
 * migrator's journal is `<schema>.__drizzle_migrations`, so each board carries its own migration
 * state and `DROP SCHEMA ... CASCADE` removes all of it.
 *
 * Idempotent, and safe when several processes (API replicas, dispatchers) open the same board at
 * once: a session-level advisory lock on (`PG_LOCK_CLASS.migrate`, the schema) is held around the
 * whole step, so the second process waits, then finds nothing to apply. Other boards are not blocked.
 * The pending migrations apply in one transaction: a failure leaves the schema as it was.
 */
export async function migrateBoardSchema(
  db: KanbanPostgres,
  slug: string,
  opts: MigrateBoardSchemaOptions = {},
): Promise<MigrateBoardSchemaReport> {
  const schema = boardSchemaName(slug);
  const migrationsFolder = opts.migrationsFolder ?? defaultPgMigrationsFolder();
  const lockTimeoutMs = opts.lockTimeoutMs ?? 60_000;
  const [{ drizzle }, { migrate }] = await Promise.all([
    import("drizzle-orm/node-postgres"),
    import("drizzle-orm/node-postgres/migrator"),
  ]);

  let client: PoolClient;
  try {
    client = await db.pool.connect();
  } catch (err) {
    throw db.failure(err);
  }
  let broken: Error | undefined;
  try {
    // lock_timeout bounds the wait for the advisory lock (it is a heavyweight lock like any other).
    await client.query("SELECT set_config('lock_timeout', $1, false)", [`${lockTimeoutMs}ms`]);
    try {
      await client.query("SELECT pg_advisory_lock($1, $2)", [PG_LOCK_CLASS.migrate, advisoryLockKey(schema)]);
    } catch (err) {
      if ((err as { code?: unknown }).code === "55P03") {
        throw new KanbanDbError(
          "DB_UNAVAILABLE",
          `another process has been migrating board schema ${schema} at ${db.target.label} for over ${Math.round(lockTimeoutMs / 1000)} s`,
          { schema, host: db.target.host, port: db.target.port, database: db.target.database },
        );
      }
      throw err;
    }
    try {
      await client.query("RESET lock_timeout");
      const before = await journalCount(client, schema);
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
      await client.query(`SET search_path TO ${quoteIdent(schema)}`);
      await migrate(drizzle({ client }), { migrationsFolder, migrationsSchema: schema, migrationsTable: JOURNAL });
      const after = await journalCount(client, schema);
      return { schema, applied: after - before };
    } finally {
      await client.query("SELECT pg_advisory_unlock($1, $2)", [PG_LOCK_CLASS.migrate, advisoryLockKey(schema)]);
      await client.query("RESET search_path");
    }
  } catch (err) {
    // A connection whose session state is unknown (lock, search_path) is not given back to the pool.
    broken = err instanceof Error ? err : new Error(String(err));
    if (err instanceof KanbanDbError) throw err;
    throw db.failure(err);
  } finally {
    client.release(broken);
  }
}

/** Drops a board's schema with everything in it (tables, sequences, migration journal). */
export async function dropBoardSchema(db: KanbanPostgres, slug: string): Promise<void> {
  try {
    await db.pool.query(`DROP SCHEMA IF EXISTS ${quoteIdent(boardSchemaName(slug))} CASCADE`);
  } catch (err) {
    throw db.failure(err);
  }
}
