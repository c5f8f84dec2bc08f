import type Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { boardSchemaName, dropBoardSchema, migrateBoardSchema, quoteIdent } from "./pg-board-schema.ts";
import { type KanbanPostgres, openPostgres } from "./pg-connection.ts";
import { createTestDatabase } from "./testing.ts";
import { createTestPgDatabase, type TestPgDatabase } from "./testing-pg.ts";

/**
 * Boards on a real PostgreSQL (the run's server from test/pg-global-setup.ts, a fresh database for
 * this file): one schema per board, migrated by drizzle's node-postgres migrator, shaped exactly like
 * an SQLite board table by table.
 */

interface ColumnShape {
  type: string;
  notnull: boolean;
  default: string | null;
  pk: boolean;
  autoincrement: boolean;
}
interface IndexShape {
  table: string;
  /** Column names in order; null for an expression. */
  columns: (string | null)[];
  partial: boolean;
  unique: boolean;
}
interface Shape {
  tables: Record<string, Record<string, ColumnShape>>;
  indexes: Record<string, IndexShape>;
}

/** An SQLite board, with each declared type as PostgreSQL spells the type we chose for it. */
function sqliteShape(sqlite: Database.Database): Shape {
  const tables = sqlite
    .prepare(
      "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name != '__drizzle_migrations'",
    )
    .all() as { name: string; sql: string }[];
  const out: Shape = { tables: {}, indexes: {} };
  for (const { name, sql } of tables) {
    const cols = sqlite.prepare('SELECT name, type, "notnull", dflt_value, pk FROM pragma_table_info(?)').all(name) as {
      name: string;
      type: string;
      notnull: number;
      dflt_value: string | null;
      pk: number;
    }[];
    out.tables[name] = {};
    for (const c of cols) {
      const type = c.type.toUpperCase();
      out.tables[name][c.name] = {
        type: type === "INTEGER" ? "bigint" : type === "TEXT" ? "text" : `unmapped ${type}`,
        // Hermes declares primary keys without NOT NULL (SQLite lets an id be NULL); PostgreSQL's are
        // always NOT NULL, which is what the kernel needs anyway.
        notnull: c.notnull === 1 || c.pk > 0,
        default: c.dflt_value,
        pk: c.pk > 0,
        autoincrement: c.pk > 0 && /AUTOINCREMENT/i.test(sql),
      };
    }
    const idx = sqlite
      .prepare("SELECT name, \"unique\", partial FROM pragma_index_list(?) WHERE origin = 'c'")
      .all(name) as {
      name: string;
      unique: number;
      partial: number;
    }[];
    for (const i of idx) {
      const ic = sqlite.prepare("SELECT name FROM pragma_index_info(?) ORDER BY seqno").all(i.name) as {
        name: string | null;
      }[];
      out.indexes[i.name] = {
        table: name,
        columns: ic.map((c) => c.name),
        partial: i.partial === 1,
        unique: i.unique === 1,
      };
    }
  }
  return out;
}

/** A board schema on PostgreSQL, from the catalogs (not from our DDL). */
async function pgShape(db: KanbanPostgres, schema: string): Promise<Shape> {
  const out: Shape = { tables: {}, indexes: {} };
  const cols = await db.pool.query<{
    table_name: string;
    column_name: string;
    data_type: string;
    is_nullable: string;
    column_default: string | null;
    is_identity: string;
    collation_name: string | null;
    pk: boolean;
  }>(
    `SELECT c.table_name, c.column_name, c.data_type, c.is_nullable, c.column_default, c.is_identity, c.collation_name,
            EXISTS (SELECT 1 FROM information_schema.key_column_usage k
                     JOIN information_schema.table_constraints tc
                       ON tc.constraint_name = k.constraint_name AND tc.table_schema = k.table_schema
                    WHERE tc.constraint_type = 'PRIMARY KEY' AND k.table_schema = c.table_schema
                      AND k.table_name = c.table_name AND k.column_name = c.column_name) AS pk
       FROM information_schema.columns c
      WHERE c.table_schema = $1 AND c.table_name <> '__drizzle_migrations'`,
    [schema],
  );
  for (const c of cols.rows) {
    const table = out.tables[c.table_name] ?? {};
    out.tables[c.table_name] = table;
    if (c.data_type === "text") expect(c.collation_name, `${c.table_name}.${c.column_name}`).toBe("C");
    table[c.column_name] = {
      type: c.data_type,
      notnull: c.is_nullable === "NO",
      default: c.column_default === null ? null : c.column_default.replace(/::(text|bigint)$/, ""),
      pk: c.pk,
      autoincrement: c.is_identity === "YES",
    };
  }
  const idx = await db.pool.query<{
    index_name: string;
    table_name: string;
    columns: (string | null)[];
    partial: boolean;
    unique: boolean;
  }>(
    `SELECT i.relname AS index_name, t.relname AS table_name, x.indpred IS NOT NULL AS partial, x.indisunique AS unique,
            ARRAY(SELECT a.attname::text FROM unnest(x.indkey::int2[]) WITH ORDINALITY AS k(attnum, n)
                    LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
                   ORDER BY k.n) AS columns
       FROM pg_index x
       JOIN pg_class i ON i.oid = x.indexrelid
       JOIN pg_class t ON t.oid = x.indrelid
       JOIN pg_namespace n ON n.oid = t.relnamespace
      WHERE n.nspname = $1 AND NOT x.indisprimary AND t.relname <> '__drizzle_migrations'`,
    [schema],
  );
  for (const i of idx.rows) {
    out.indexes[i.index_name] = { table: i.table_name, columns: i.columns, partial: i.partial, unique: i.unique };
  }
  return out;
}

let database: TestPgDatabase;
let db: KanbanPostgres;

beforeAll(async () => {
  database = await createTestPgDatabase();
  db = await openPostgres(database.url);
});

afterAll(async () => {
  await db?.close();
  await database?.drop();
});

describe("board schemas on PostgreSQL", () => {
  it("names a board's schema kanban_<slug>, normalised like SQLite boards and within 63 bytes", () => {
    expect(boardSchemaName("default")).toBe("kanban_default");
    expect(boardSchemaName("  Ops-Team_2 ")).toBe("kanban_ops-team_2");
    const long1 = `${"a".repeat(60)}-one`;
    const long2 = `${"a".repeat(60)}-two`;
    expect(boardSchemaName(long1)).toHaveLength(63);
    expect(boardSchemaName(long1)).not.toBe(boardSchemaName(long2));
    expect(boardSchemaName(long1.toUpperCase())).toBe(boardSchemaName(long1));
    expect(() => boardSchemaName("-bad")).toThrow(expect.objectContaining({ code: "BOARD_INVALID" }));
  });

  it("migrates two boards into one database, each in its own schema with its own journal and rows", async () => {
    const a = await migrateBoardSchema(db, "alpha");
    const b = await migrateBoardSchema(db, "beta-2");
    expect(a).toMatchObject({ schema: "kanban_alpha" });
    expect(b).toMatchObject({ schema: "kanban_beta-2" });
    expect(a.applied).toBeGreaterThan(0);
    expect(b.applied).toBe(a.applied);
    for (const schema of [a.schema, b.schema]) {
      const { rows } = await db.pool.query<{ n: number }>(
        `SELECT count(*) AS n FROM ${quoteIdent(schema)}."__drizzle_migrations"`,
      );
      expect(rows[0]?.n).toBe(a.applied);
    }
    // Nothing lands in public or in drizzle's default journal schema.
    const stray = await db.pool.query(
      "SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema IN ('public', 'drizzle')",
    );
    expect(stray.rows).toEqual([]);

    // The same unqualified SQL reaches each board's own tables through search_path.
    const client = await db.pool.connect();
    try {
      for (const [schema, id] of [
        [a.schema, "t_alpha"],
        [b.schema, "t_beta"],
      ] as const) {
        await client.query("BEGIN");
        await client.query(`SET LOCAL search_path TO ${quoteIdent(schema)}`);
        await client.query("INSERT INTO tasks (id, title, status, created_at) VALUES ($1, 'x', 'ready', 1)", [id]);
        await client.query("INSERT INTO task_events (task_id, kind, created_at) VALUES ($1, 'created', 1)", [id]);
        await client.query("COMMIT");
      }
    } finally {
      client.release();
    }
    const inA = await db.pool.query(`SELECT id FROM ${quoteIdent(a.schema)}.tasks`);
    const inB = await db.pool.query(`SELECT id FROM ${quoteIdent(b.schema)}.tasks`);
    expect(inA.rows).toEqual([{ id: "t_alpha" }]);
    expect(inB.rows).toEqual([{ id: "t_beta" }]);
  });

  it("has every table, column, nullability, default and index (by name) of an SQLite board", async () => {
    const { schema } = await migrateBoardSchema(db, "shape");
    const sqlite = createTestDatabase();
    try {
      const expected = sqliteShape(sqlite.sqlite);
      const actual = await pgShape(db, schema);
      // SQLite's implicit rowid is an explicit, unique identity column on PostgreSQL (the kernel's
      // tie-break by insertion order). Nothing else may differ but the exceptions named below.
      expect(actual.tables.tasks?.rowid).toEqual({
        type: "bigint",
        notnull: true,
        default: null,
        pk: false,
        autoincrement: true,
      });
      expect(actual.indexes.idx_tasks_rowid).toMatchObject({ columns: ["rowid"], unique: true });
      delete actual.tables.tasks?.rowid;
      delete actual.indexes.idx_tasks_rowid;
      // kanban_dispatchers is PostgreSQL's only extra table: where the dispatchers of several hosts
      // register and report (on SQLite that is the per-home dispatcher.json, and a Hermes-compatible
      // board may carry no table Hermes lacks). It holds no board data, so `kanban db copy` skips it.
      expect(Object.keys(actual.tables.kanban_dispatchers ?? {})).toContain("heartbeat_at");
      expect(actual.indexes.idx_dispatchers_heartbeat).toMatchObject({ table: "kanban_dispatchers" });
      delete actual.tables.kanban_dispatchers;
      delete actual.indexes.idx_dispatchers_heartbeat;
      // The tenant, idempotency-key and session lookups index only the tasks that have one on
      // PostgreSQL (migration 0013: fewer index writes per claim and completion); SQLite keeps
      // Hermes' full indexes. Same name, table and column.
      for (const column of ["tenant", "idempotency_key", "session_id"]) {
        const name = column === "idempotency_key" ? "idx_tasks_idempotency" : `idx_tasks_${column}`;
        expect(expected.indexes[name]).toMatchObject({ columns: [column], partial: false });
        expect(actual.indexes[name]).toMatchObject({ columns: [column], partial: true });
        const { rows } = await db.pool.query<{ pred: string }>(
          "SELECT pg_get_expr(indpred, indrelid) AS pred FROM pg_index WHERE indexrelid = to_regclass($1)",
          [`${quoteIdent(schema)}.${name}`],
        );
        expect(rows).toEqual([{ pred: `(${column} IS NOT NULL)` }]);
        (actual.indexes[name] as { partial: boolean }).partial = false;
      }
      expect(Object.keys(actual.tables).sort()).toEqual(Object.keys(expected.tables).sort());
      for (const table of Object.keys(expected.tables)) {
        expect({ table, columns: actual.tables[table] }).toEqual({ table, columns: expected.tables[table] });
      }
      expect(actual.indexes).toEqual(expected.indexes);
      // The partial indexes SQLite gets from the hand-written migrations are part of the comparison.
      expect(Object.keys(expected.indexes)).toEqual(
        expect.arrayContaining(["idx_tasks_ready_priority", "idx_tasks_done_recent", "idx_events_warnings"]),
      );
      expect(expected.indexes.idx_tasks_done_recent).toMatchObject({ columns: [null, "id"], partial: true });
    } finally {
      sqlite.cleanup();
    }
  });

  it("holds every value an SQLite board can: 64-bit integers, any Unicode text, byte order like SQLite's BINARY", async () => {
    const { schema } = await migrateBoardSchema(db, "values");
    const s = quoteIdent(schema);
    const big = 9_007_199_254_740_993n; // 2^53 + 1: not a safe JS number
    const text = 'emoji 🧪, accents éà, CJK 漢字, quotes \'" and a JSON {"b":1,  "a":[ ]}';
    await db.pool.query(
      `INSERT INTO ${s}.tasks (id, title, status, created_at, priority, result) VALUES ('t1', $1, 'ready', $2, $3, $4)`,
      [text, "9223372036854775807", "-9223372036854775808", text],
    );
    await db.pool.query(
      `INSERT INTO ${s}.task_events (id, task_id, kind, created_at) VALUES ($1, 't1', 'created', 1700000000)`,
      [big.toString()],
    );
    const task = await db.pool.query(`SELECT title, created_at, priority, result FROM ${s}.tasks`);
    expect(task.rows[0]).toEqual({
      title: text,
      created_at: 9_223_372_036_854_775_807n,
      priority: -9_223_372_036_854_775_808n,
      result: text,
    });
    const ev = await db.pool.query(`SELECT id, created_at FROM ${s}.task_events`);
    expect(ev.rows[0]).toEqual({ id: big, created_at: 1_700_000_000 });

    const ids = ["b", "B", "a", "_", "é", "Z", "10", "9"];
    for (const id of ids) {
      await db.pool.query(`INSERT INTO ${s}.tasks (id, title, status, created_at) VALUES ($1, 'x', 'todo', 1)`, [id]);
    }
    const sqlite = createTestDatabase();
    try {
      const insert = sqlite.sqlite.prepare(
        "INSERT INTO tasks (id, title, status, created_at) VALUES (?, 'x', 'todo', 1)",
      );
      for (const id of ids) insert.run(id);
      const sqliteOrder = (
        sqlite.sqlite.prepare("SELECT id FROM tasks WHERE status = 'todo' ORDER BY id").all() as { id: string }[]
      ).map((r) => r.id);
      const pgOrder = (await db.pool.query(`SELECT id FROM ${s}.tasks WHERE status = 'todo' ORDER BY id`)).rows.map(
        (r) => r.id,
      );
      expect(pgOrder).toEqual(sqliteOrder);
    } finally {
      sqlite.cleanup();
    }
  });

  it("is idempotent: a second migration applies nothing and keeps the rows", async () => {
    const first = await migrateBoardSchema(db, "again");
    await db.pool.query(
      `INSERT INTO ${quoteIdent(first.schema)}.tasks (id, title, status, created_at) VALUES ('keep', 'x', 'todo', 1)`,
    );
    const second = await migrateBoardSchema(db, "again");
    expect(second).toEqual({ schema: first.schema, applied: 0 });
    const rows = await db.pool.query(`SELECT id FROM ${quoteIdent(first.schema)}.tasks`);
    expect(rows.rows).toEqual([{ id: "keep" }]);
  });

  it("is safe when several processes migrate the same new board at once (advisory lock)", async () => {
    // Separate pools: separate server sessions, as separate processes would have.
    const pools = await Promise.all([1, 2, 3, 4].map(() => openPostgres(database.url, { poolSize: 1 })));
    try {
      const reports = await Promise.all(pools.map((p) => migrateBoardSchema(p, "race")));
      const applied = reports.map((r) => r.applied).sort((x, y) => y - x);
      expect(applied[0]).toBeGreaterThan(0);
      expect(applied.slice(1)).toEqual([0, 0, 0]);
      const journal = await db.pool.query<{ n: number }>(
        `SELECT count(*) AS n FROM "kanban_race"."__drizzle_migrations"`,
      );
      expect(journal.rows[0]?.n).toBe(applied[0]);
    } finally {
      await Promise.all(pools.map((p) => p.close()));
    }
  });

  it("drops one board's schema and leaves the others", async () => {
    await migrateBoardSchema(db, "doomed");
    await migrateBoardSchema(db, "kept");
    await dropBoardSchema(db, "doomed");
    const { rows } = await db.pool.query<{ nspname: string }>(
      "SELECT nspname FROM pg_namespace WHERE nspname IN ('kanban_doomed', 'kanban_kept')",
    );
    expect(rows).toEqual([{ nspname: "kanban_kept" }]);
  });
});
