import type { PoolClient, QueryConfig } from "pg";
import { KanbanDbError } from "../errors.ts";
import { boardSchemaName, migrateBoardSchema, quoteIdent as q } from "../pg-board-schema.ts";
import type { KanbanPostgres } from "../pg-connection.ts";
import { eventsAnnouncementSql } from "../pg-listen.ts";
import { type CopyRow, type CopyValue, describeValue } from "./canonical.ts";
import { KanbanCopyError } from "./errors.ts";
import { type CopyReader, type CopyStore, type CopyWriter, describeCounts } from "./store.ts";
import { COPY_TABLES, type CopyTable, isDerivedTable } from "./tables.ts";

const READ_BATCH = 2000;
/** PostgreSQL takes at most 65,535 parameters per statement; 500 rows of 38 columns stay well under. */
const INSERT_BATCH = 500;

/**
 * Every value as the server's text, whatever parsers the pool installed: an int8 becomes a bigint
 * here (exact beyond 2^53), text stays the string the server sent.
 */
const RAW_TEXT = { getTypeParser: () => (value: string) => value } as unknown as QueryConfig["types"];

function qualified(schema: string, table: string): string {
  return `${q(schema)}.${q(table)}`;
}

async function countRows(client: PoolClient, schema: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const t of COPY_TABLES) {
    const exists = await client.query<{ present: boolean }>("SELECT to_regclass($1) IS NOT NULL AS present", [
      qualified(schema, t.name),
    ]);
    if (!exists.rows[0]?.present) continue;
    const res = await client.query({
      text: `SELECT count(*) AS n FROM ${qualified(schema, t.name)}`,
      types: RAW_TEXT,
    });
    const n = Number((res.rows[0] as { n: string }).n);
    if (n > 0) counts.set(t.name, n);
  }
  return counts;
}

/** The derived tables ({@link isDerivedTable}) the board's schema holds. */
async function derivedTables(client: PoolClient, schema: string): Promise<string[]> {
  const res = await client.query<{ name: string }>(
    "SELECT tablename AS name FROM pg_tables WHERE schemaname = $1 ORDER BY tablename",
    [schema],
  );
  return res.rows.map((r) => r.name).filter(isDerivedTable);
}

/** Whether the board's schema exists, and the row counts of its non-empty tables (read, nothing created). */
export async function probePostgresBoard(
  db: KanbanPostgres,
  slug: string,
): Promise<{ exists: boolean; counts: Map<string, number> }> {
  const schema = boardSchemaName(slug);
  let client: PoolClient;
  try {
    client = await db.pool.connect();
  } catch (err) {
    throw db.failure(err);
  }
  try {
    const res = await client.query<{ present: boolean }>(
      "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1) AS present",
      [schema],
    );
    if (!res.rows[0]?.present) return { exists: false, counts: new Map() };
    return { exists: true, counts: await countRows(client, schema) };
  } catch (err) {
    throw db.failure(err);
  } finally {
    client.release();
  }
}

function toBigint(text: string | null): bigint | null {
  return text === null ? null : BigInt(text);
}

function reader(client: PoolClient, schema: string): CopyReader {
  return {
    async *rows(table: CopyTable): AsyncIterable<CopyRow[]> {
      const cols = table.columns.map((c) => q(c.name)).join(", ");
      const keyIdx = table.primaryKey.map((k) => table.columns.findIndex((c) => c.name === k));
      const order = table.primaryKey.map(q).join(", ");
      const keyTuple = `(${table.primaryKey.map(q).join(", ")})`;
      const keyParams = `(${table.primaryKey.map((_, i) => `$${i + 1}`).join(", ")})`;
      // Keyset pages: text columns are COLLATE "C", so the primary key's index is in byte order, the
      // order SQLite's BINARY collation gives, and each page is an index range scan.
      let last: CopyRow | null = null;
      for (;;) {
        const after: CopyRow | null = last;
        const where: string = after === null ? "" : `WHERE ${keyTuple} > ${keyParams}`;
        const res: { rows: unknown[][] } = await client.query<unknown[]>({
          text: `SELECT ${cols} FROM ${qualified(schema, table.name)} ${where} ORDER BY ${order} LIMIT ${READ_BATCH}`,
          values: after === null ? [] : keyIdx.map((i) => String(after[i])),
          rowMode: "array",
          types: RAW_TEXT,
        });
        const rows: CopyRow[] = res.rows.map((raw) =>
          table.columns.map((c, i) => {
            const v = raw[i] as string | null;
            return c.integer ? toBigint(v) : v;
          }),
        );
        if (rows.length > 0) yield rows;
        if (rows.length < READ_BATCH) return;
        last = rows[rows.length - 1] ?? null;
      }
    },

    async sequences(): Promise<Map<string, bigint>> {
      const out = new Map<string, bigint>();
      for (const t of COPY_TABLES) {
        if (t.autoincrement === null) continue;
        const seq = await client.query<{ name: string | null }>("SELECT pg_get_serial_sequence($1, $2) AS name", [
          qualified(schema, t.name),
          t.autoincrement,
        ]);
        const name = seq.rows[0]?.name;
        if (!name) {
          out.set(t.name, 0n);
          continue;
        }
        // pg_get_serial_sequence returns the name already quoted where needed.
        const res = await client.query({ text: `SELECT last_value, is_called FROM ${name}`, types: RAW_TEXT });
        const row = res.rows[0] as { last_value: string; is_called: string };
        const lastValue = BigInt(row.last_value);
        // Not yet called: the next value is last_value itself, so the highest handed out is one less.
        out.set(t.name, row.is_called === "t" ? lastValue : lastValue - 1n);
      }
      return out;
    },

    async extras() {
      // A PostgreSQL board is created from our own migrations: there is nothing beyond the schema.
      return { legacyColumns: [], unknownWithData: [] };
    },
  };
}

function primaryKeyText(table: CopyTable, row: CopyRow): string {
  return table.primaryKey
    .map((k) => {
      const v = row[table.columns.findIndex((c) => c.name === k)] ?? null;
      return `${k}=${typeof v === "string" ? v : describeValue(v)}`;
    })
    .join(", ");
}

/**
 * A value as a statement parameter, or COPY_UNSUPPORTED when PostgreSQL cannot hold it exactly:
 * SQLite stores whatever a program wrote (a real or text in an INTEGER column, a blob anywhere, a
 * NUL character in text); PostgreSQL's bigint and text columns do not, and a copy that rounds or
 * drops is worse than one that refuses.
 */
function param(table: CopyTable, index: number, row: CopyRow): string | null {
  const value: CopyValue = row[index] ?? null;
  const column = table.columns[index];
  if (value === null || column === undefined) return null;
  const refuse = (why: string) => {
    throw new KanbanCopyError(
      "COPY_UNSUPPORTED",
      `${table.name}.${column.name} of the row ${primaryKeyText(table, row)} holds ${describeValue(value)}: ${why}; nothing was copied`,
      { table: table.name, column: column.name },
    );
  };
  if (column.integer) {
    if (typeof value === "bigint") return value.toString();
    return refuse("PostgreSQL's column is bigint");
  }
  if (typeof value !== "string") return refuse("PostgreSQL's column is text");
  if (value.includes("\u0000")) return refuse("PostgreSQL text cannot hold a NUL character");
  return value;
}

/**
 * Moves the identity sequence of `table.column` so its next value passes every value the column
 * holds (explicit values do not move an identity), `highest` (the source's counter), and what the
 * target had handed out before (under --replace): a value is never handed out twice.
 */
async function advanceIdentity(
  client: PoolClient,
  schema: string,
  table: CopyTable,
  column: string,
  highest: bigint,
): Promise<void> {
  const target = qualified(schema, table.name);
  const seq = await client.query<{ name: string | null }>("SELECT pg_get_serial_sequence($1, $2) AS name", [
    target,
    column,
  ]);
  const name = seq.rows[0]?.name;
  if (!name) throw new Error(`${target}.${column} has no identity sequence`);
  // pg_get_serial_sequence returns the name quoted where needed.
  const state = await client.query({
    text: `SELECT last_value, is_called, (SELECT COALESCE(max(${q(column)}), 0) FROM ${target}) AS max_id FROM ${name}`,
    types: RAW_TEXT,
  });
  const row = state.rows[0] as { last_value: string; is_called: string; max_id: string };
  const handedOut = row.is_called === "t" ? BigInt(row.last_value) : BigInt(row.last_value) - 1n;
  let next = highest;
  for (const v of [handedOut, BigInt(row.max_id)]) if (v > next) next = v;
  if (next > 0n) await client.query("SELECT setval($1, $2::bigint, true)", [name, next.toString()]);
}

function writer(client: PoolClient, schema: string): CopyWriter {
  return {
    async insert(table: CopyTable, rows: CopyRow[]): Promise<void> {
      const cols = table.columns.map((c) => q(c.name)).join(", ");
      const width = table.columns.length;
      for (let start = 0; start < rows.length; start += INSERT_BATCH) {
        const chunk = rows.slice(start, start + INSERT_BATCH);
        const values: (string | null)[] = [];
        const tuples = chunk.map((row, r) => {
          for (let i = 0; i < width; i++) values.push(param(table, i, row));
          return `(${table.columns.map((_, i) => `$${r * width + i + 1}`).join(", ")})`;
        });
        // OVERRIDING SYSTEM VALUE is not needed (identities are BY DEFAULT), and would hide a schema
        // that made them ALWAYS: the copy must insert the source's ids as they are.
        await client.query(
          `INSERT INTO ${qualified(schema, table.name)} (${cols}) VALUES ${tuples.join(", ")}`,
          values,
        );
      }
    },

    async advanceSequence(table: CopyTable, highest: bigint): Promise<void> {
      if (table.autoincrement === null) return;
      await advanceIdentity(client, schema, table, table.autoincrement, highest);
    },

    async advanceRowid(table: CopyTable): Promise<void> {
      if (!table.rowid) return;
      // An SQLite source has no counter for rowids (SQLite reuses max + 1), so the floor is the
      // rowids copied; a PostgreSQL source's sequence is not carried over either: only the order
      // among the rows matters, not which numbers were skipped.
      await advanceIdentity(client, schema, table, "rowid", 0n);
    },
  };
}

/**
 * One board of a PostgreSQL database: the schema `kanban_<slug>`, created and migrated (by
 * `migrateBoardSchema`) only when the copy writes to it.
 */
export function postgresCopyStore(db: KanbanPostgres, slug: string, opts: { label: string }): CopyStore {
  const schema = boardSchemaName(slug);
  const fail = (err: unknown): never => {
    if (err instanceof KanbanDbError || err instanceof KanbanCopyError) throw err;
    throw db.failure(err);
  };
  const connect = async (): Promise<PoolClient> => {
    try {
      return await db.pool.connect();
    } catch (err) {
      return fail(err);
    }
  };
  return {
    label: opts.label,

    async readSnapshot<T>(fn: (r: CopyReader) => Promise<T>): Promise<T> {
      const client = await connect();
      let broken: Error | undefined;
      try {
        const exists = await client.query<{ present: boolean }>("SELECT to_regclass($1) IS NOT NULL AS present", [
          qualified(schema, "tasks"),
        ]);
        if (!exists.rows[0]?.present) {
          throw new KanbanDbError("BOARD_NOT_FOUND", `board '${slug}' does not exist on ${opts.label}`, { slug });
        }
        await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
        const result = await fn(reader(client, schema));
        await client.query("COMMIT");
        return result;
      } catch (err) {
        await client.query("ROLLBACK").catch((e: Error) => {
          broken = e;
        });
        return fail(err);
      } finally {
        client.release(broken);
      }
    },

    async writeTransaction(
      o: { replace: boolean },
      fn: (w: CopyWriter, r: CopyReader) => Promise<void>,
    ): Promise<void> {
      await migrateBoardSchema(db, slug);
      const client = await connect();
      let broken: Error | undefined;
      try {
        await client.query("BEGIN");
        // No other writer (a kernel, another copy) may add rows between the check and the commit,
        // nor refill the derived tables emptied below.
        const derived = await derivedTables(client, schema);
        const all = [...COPY_TABLES.map((t) => t.name), ...derived].map((name) => qualified(schema, name)).join(", ");
        await client.query(`LOCK TABLE ${all} IN EXCLUSIVE MODE`);
        if (o.replace) {
          for (const t of COPY_TABLES) await client.query(`DELETE FROM ${qualified(schema, t.name)}`);
        } else {
          const counts = await countRows(client, schema);
          if (counts.size > 0) {
            throw new KanbanCopyError(
              "COPY_TARGET_NOT_EMPTY",
              `the target ${opts.label} already holds a board (${describeCounts(counts)}); pass --replace to overwrite it`,
              { target: opts.label },
            );
          }
        }
        // The target's derived tables (the flow ledger) describe what it held before, not what is
        // copied in: emptied, they are rebuilt by the target's kernel from the copied rows. Emptied
        // without --replace too, as the check above counts board rows only.
        for (const name of derived) await client.query(`DELETE FROM ${qualified(schema, name)}`);
        await fn(writer(client, schema), reader(client, schema));
        // The board's live listeners (kanban serve, the dispatcher) hear of the copied events at the
        // commit, as of a kernel's writes, instead of at their backstop poll.
        await client.query(`${eventsAnnouncementSql(schema)}; COMMIT`);
        // The planner's statistics, for the tables as copied. A board created empty and filled in one
        // transaction has none until autovacuum gets to it (up to a minute later); until then every
        // plan assumes a handful of rows, and a pooled connection keeps the plans it makes then.
        await client.query(`ANALYZE ${COPY_TABLES.map((t) => qualified(schema, t.name)).join(", ")}`);
      } catch (err) {
        await client.query("ROLLBACK").catch((e: Error) => {
          broken = e;
        });
        fail(err);
      } finally {
        client.release(broken);
      }
    },

    async close(): Promise<void> {
      // The pool belongs to whoever opened it (copyBoard closes it once, after both sides are done).
    },
  };
}
