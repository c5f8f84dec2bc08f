import { boardSchemaName, type KanbanPostgres, migrateBoardSchema, openPostgres, quoteIdent } from "@kanban/db";
import type { PoolClient } from "pg";
import { inject } from "vitest";

/**
 * Which engine the kernel's test boards use in this run: a vitest project that provides
 * `kanbanTestStore: "postgres"` makes `createTestBoard` (and so `useTestBoards`) open boards on the
 * run's test PostgreSQL, so one suite runs against both stores (the kernel's vitest config runs its
 * contract suites a second time so).
 */
export function testStore(): "sqlite" | "postgres" {
  return inject("kanbanTestStore" as never) === "postgres" ? "postgres" : "sqlite";
}

/** The run's PostgreSQL (from the global setup `@kanban/db/testing-pg/global-setup`). */
export function testStoreUrl(): string {
  const url = inject("kanbanPostgresAdminUrl" as never) as string | undefined;
  if (!url)
    throw new Error("a PostgreSQL test store needs the PostgreSQL global setup in this package's vitest config");
  return url;
}

let admin: Promise<KanbanPostgres> | null = null;
const pending = new Set<Promise<void>>();

function adminDb(): Promise<KanbanPostgres> {
  admin ??= openPostgres(testStoreUrl(), { poolSize: 2, applicationName: "kanban-test-cleanup" });
  return admin;
}

function track(work: Promise<unknown>): void {
  const done = work
    .then(
      () => {},
      () => {},
    )
    .finally(() => pending.delete(done));
  pending.add(done);
}

/** Drops a test board's schema once its board has let go of it (awaited by `settleTestSchemas`). */
export function dropTestSchemaLater(slug: string): void {
  track(adminDb().then((db) => db.pool.query(`DROP SCHEMA IF EXISTS ${quoteIdent(boardSchemaName(slug))} CASCADE`)));
}

// Recycled board schemas, with their connections. A fresh schema per test costs a probe connection,
// the pool's own and a migration: about a second of a loaded 2-core machine, for each of the ~600
// tests of the PostgreSQL project. A board of `useTestBoards` borrows a pool whose connections resolve
// names in its schema; after the test the schema is emptied to what a fresh migration leaves (no rows,
// every sequence restarted) and handed, pool and all, to the next test of the file. A schema is only
// reused when its catalog still matches a freshly migrated one (a test that altered tables, say to
// imitate an older schema, gets its schema dropped instead).

/** A migrated board schema and a pool whose connections resolve names in it. */
export interface TestSchemaLease {
  slug: string;
  db: Promise<KanbanPostgres>;
}

const free: TestSchemaLease[] = [];
const leased = new Set<TestSchemaLease>();
let reference: Promise<string> | null = null;

/** An emptied schema of an earlier test of this process, else a new one named `slug`. */
export function leaseTestSchema(slug: string, poolSize = 3): TestSchemaLease {
  const lease = free.pop() ?? {
    slug,
    db: (async () => {
      const db = await openPostgres(testStoreUrl(), {
        poolSize,
        applicationName: "kanban-test",
        warn: () => {},
        searchPath: boardSchemaName(slug),
      });
      try {
        await migrateBoardSchema(db, slug);
      } catch (err) {
        await db.close();
        throw err;
      }
      return db;
    })(),
  };
  lease.db.catch(() => {});
  leased.add(lease);
  return lease;
}

/** Empties a leased schema for the next test once its board has let go of it (else drops it). */
export function recycleTestSchemaLater(lease: TestSchemaLease): void {
  leased.delete(lease);
  track(
    recycle(lease.slug).then(
      (ok) => {
        if (ok) free.push(lease);
        else retire(lease);
      },
      () => retire(lease),
    ),
  );
}

function retire(lease: TestSchemaLease): void {
  track(lease.db.then((db) => db.close()));
  dropTestSchemaLater(lease.slug);
}

/** Every table, column, default, index, constraint, trigger and function of the schema, as one digest. */
async function catalogDigest(client: PoolClient, schema: string): Promise<string> {
  // Names are compared without the schema (index and trigger definitions spell it out).
  const { rows } = await client.query<{ digest: string }>(
    `SELECT md5(coalesce(string_agg(replace(item, $1, ''), '|' ORDER BY replace(item, $1, '')), '')) AS digest FROM (
       SELECT c.relname || ':' || c.relkind::text || ':' || a.attname || ':' || format_type(a.atttypid, a.atttypmod)
              || ':' || a.attnotnull::text || ':' || coalesce(pg_get_expr(d.adbin, d.adrelid), '') AS item
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
         LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
        WHERE n.nspname = $1
       UNION ALL SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i
         JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1
       UNION ALL SELECT conname || ':' || pg_get_constraintdef(k.oid) FROM pg_constraint k
         JOIN pg_namespace n ON n.oid = k.connamespace WHERE n.nspname = $1
       UNION ALL SELECT pg_get_triggerdef(t.oid) FROM pg_trigger t
         JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND NOT t.tgisinternal
       UNION ALL SELECT p.proname || ':' || md5(p.prosrc) FROM pg_proc p
         JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = $1
     ) parts`,
    [schema],
  );
  return (rows[0] as { digest: string }).digest;
}

/** The digest of a schema fresh from the migrations (made once per process, then dropped). */
function referenceDigest(db: KanbanPostgres): Promise<string> {
  reference ??= (async () => {
    const slug = `t_reference_${process.pid}`;
    const { schema } = await migrateBoardSchema(db, slug);
    const client = await db.pool.connect();
    try {
      return await catalogDigest(client, schema);
    } finally {
      client.release();
      dropTestSchemaLater(slug);
    }
  })();
  return reference;
}

async function recycle(slug: string): Promise<boolean> {
  const db = await adminDb();
  const expected = await referenceDigest(db);
  const schema = boardSchemaName(slug);
  const client = await db.pool.connect();
  try {
    await client.query("BEGIN");
    // A board of the test still busy with the schema: drop it later rather than wait on it here.
    await client.query("SET LOCAL lock_timeout = '2s'");
    if ((await catalogDigest(client, schema)) !== expected) {
      await client.query("ROLLBACK");
      return false;
    }
    // The board schema has no foreign keys: plain DELETEs (cheaper than TRUNCATE's new files), then
    // every sequence back to its start, in one round trip.
    const { rows } = await client.query<{ sql: string }>(
      `SELECT 'DELETE FROM ' || quote_ident($1) || '.' || quote_ident(tablename) AS sql FROM pg_tables
        WHERE schemaname = $1 AND tablename <> '__drizzle_migrations'
       UNION ALL SELECT 'ALTER SEQUENCE ' || quote_ident($1) || '.' || quote_ident(sequencename) || ' RESTART'
         FROM pg_sequences WHERE schemaname = $1`,
      [schema],
    );
    if (rows.length > 0) await client.query(rows.map((r) => r.sql).join("; "));
    await client.query("COMMIT");
    return true;
  } catch (err) {
    await client.query("ROLLBACK").catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}

/** Waits for every schema drop started so far. */
export async function settleTestSchemas(): Promise<void> {
  // A recycle that finds its schema changed starts a drop: wait for that one too.
  while (pending.size > 0) await Promise.all([...pending]);
}

/**
 * Drops the schemas kept for reuse: `useTestBoards` calls it after its file's tests, so that nothing of
 * a run outlives it on a server named by KANBAN_TEST_DATABASE_URL.
 */
export async function dropFreeTestSchemas(): Promise<void> {
  await settleTestSchemas();
  for (const lease of free.splice(0)) retire(lease);
  await settleTestSchemas();
}
