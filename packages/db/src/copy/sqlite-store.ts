import fs from "node:fs";
import Database from "better-sqlite3";
import { type KanbanDatabase, openDatabase } from "../connection.ts";
import { KanbanDbError } from "../errors.ts";
import { classifySqliteFailure } from "../sqlite-failures.ts";
import type { CopyRow } from "./canonical.ts";
import { KanbanCopyError } from "./errors.ts";
import { type CopyReader, type CopyStore, type CopyWriter, describeCounts } from "./store.ts";
import { COPY_TABLES, type CopyTable, isBookkeepingTable, isDerivedTable, LEGACY_COLUMNS } from "./tables.ts";

const BATCH = 1000;

function q(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function tableNames(sqlite: Database.Database): string[] {
  return (
    sqlite.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]
  ).map((r) => r.name);
}

/** Row counts of the board tables that hold rows (a table the file lacks counts as empty). */
function nonEmptyTables(sqlite: Database.Database): Map<string, number> {
  const present = new Set(tableNames(sqlite));
  const counts = new Map<string, number>();
  for (const t of COPY_TABLES) {
    if (!present.has(t.name)) continue;
    const n = Number((sqlite.prepare(`SELECT count(*) AS n FROM ${q(t.name)}`).get() as { n: number }).n);
    if (n > 0) counts.set(t.name, n);
  }
  return counts;
}

/**
 * Row counts of an existing board file, read through a read-only connection that changes nothing
 * (no upgrade, no migration, no journal-mode switch): the copy decides to refuse a non-empty target
 * before `openDatabase` would upgrade it. A missing or empty file holds nothing.
 */
export function probeSqliteBoard(file: string): Map<string, number> {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    return new Map();
  }
  if (stat.isDirectory()) {
    throw new KanbanDbError("DB_PATH_INVALID", `database path is a directory, not a file: ${file}`, { path: file });
  }
  if (stat.size === 0) return new Map();
  let sqlite: Database.Database | undefined;
  try {
    sqlite = new Database(file, { readonly: true, fileMustExist: true });
    return nonEmptyTables(sqlite);
  } catch (err) {
    if (err instanceof KanbanDbError) throw err;
    const code = (err as { code?: unknown }).code;
    if (code === "SQLITE_NOTADB") {
      throw new KanbanDbError("DB_NOT_A_DATABASE", `file is not a database: ${file}`, { path: file });
    }
    throw classifySqliteFailure(sqlite ?? null, err);
  } finally {
    sqlite?.close();
  }
}

function reader(sqlite: Database.Database): CopyReader {
  return {
    async *rows(table: CopyTable): AsyncIterable<CopyRow[]> {
      const cols = table.columns.map((c) => q(c.name)).join(", ");
      const order = table.primaryKey.map(q).join(", ");
      // safeIntegers: every INTEGER as a bigint (64-bit ids and times stay exact); raw: arrays in column order.
      const stmt = sqlite
        .prepare(`SELECT ${cols} FROM ${q(table.name)} ORDER BY ${order}`)
        .raw(true)
        .safeIntegers(true);
      let batch: CopyRow[] = [];
      for (const row of stmt.iterate() as Iterable<CopyRow>) {
        batch.push(row);
        if (batch.length >= BATCH) {
          yield batch;
          batch = [];
        }
      }
      if (batch.length > 0) yield batch;
    },

    async sequences(): Promise<Map<string, bigint>> {
      const out = new Map<string, bigint>();
      const hasSequence = tableNames(sqlite).includes("sqlite_sequence");
      for (const t of COPY_TABLES) {
        if (t.autoincrement === null) continue;
        const seq = hasSequence
          ? (sqlite
              .prepare("SELECT max(seq) AS s FROM sqlite_sequence WHERE name = ?")
              .safeIntegers(true)
              .get(t.name) as {
              s: bigint | null;
            })
          : { s: null };
        out.set(t.name, seq.s ?? 0n);
      }
      return out;
    },

    async extras() {
      const known = new Map(COPY_TABLES.map((t) => [t.name, new Set(t.columns.map((c) => c.name))]));
      const legacyColumns: string[] = [];
      const unknownWithData: string[] = [];
      for (const name of tableNames(sqlite)) {
        // Derived tables are neither copied nor unknown: the target's kernel rebuilds them.
        if (isBookkeepingTable(name) || isDerivedTable(name)) continue;
        const ours = known.get(name);
        if (!ours) {
          const n = Number((sqlite.prepare(`SELECT count(*) AS n FROM ${q(name)}`).get() as { n: number }).n);
          if (n > 0) unknownWithData.push(`table ${name} (${n} rows)`);
          continue;
        }
        const cols = (sqlite.prepare("SELECT name FROM pragma_table_info(?)").all(name) as { name: string }[]).map(
          (c) => c.name,
        );
        for (const col of cols) {
          if (ours.has(col)) continue;
          if (LEGACY_COLUMNS[name]?.includes(col)) {
            legacyColumns.push(`${name}.${col}`);
            continue;
          }
          const n = Number(
            (sqlite.prepare(`SELECT count(*) AS n FROM ${q(name)} WHERE ${q(col)} IS NOT NULL`).get() as { n: number })
              .n,
          );
          if (n > 0) unknownWithData.push(`column ${name}.${col} (${n} values)`);
        }
      }
      return { legacyColumns, unknownWithData };
    },
  };
}

function writer(sqlite: Database.Database): CopyWriter {
  const inserts = new Map<string, Database.Statement>();
  return {
    async insert(table: CopyTable, rows: CopyRow[]): Promise<void> {
      let stmt = inserts.get(table.name);
      if (!stmt) {
        const cols = table.columns.map((c) => q(c.name)).join(", ");
        const params = table.columns.map(() => "?").join(", ");
        stmt = sqlite.prepare(`INSERT INTO ${q(table.name)} (${cols}) VALUES (${params})`);
        inserts.set(table.name, stmt);
      }
      // Values are bound as they were read: a bigint as INTEGER, a number as REAL, text, a Buffer as BLOB.
      for (const row of rows) stmt.run(...row);
    },

    async advanceSequence(table: CopyTable, highest: bigint): Promise<void> {
      // Inserting explicit ids already raised sqlite_sequence to the highest id; the source's counter
      // may be higher still (its newest rows were deleted), and ids must never be handed out twice.
      const updated = sqlite
        .prepare("UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = ?")
        .run(highest, table.name).changes;
      if (updated === 0 && highest > 0n) {
        sqlite.prepare("INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)").run(table.name, highest);
      }
    },

    async advanceRowid(): Promise<void> {
      // Nothing to move: SQLite numbers a new row max(rowid) + 1 of the rows it holds, which are the
      // copied rowids (inserted as given, through the "rowid" column in `insert`).
    },
  };
}

/**
 * A board file, opened by `openDatabase` as every process of ours opens it: a Hermes `kanban.db` is
 * upgraded in place first, and a new file is created with our migrations (a board Hermes opens).
 */
export function openSqliteCopyStore(
  file: string,
  opts: { warn?: (message: string) => void; label?: string } = {},
): CopyStore {
  const db: KanbanDatabase = openDatabase({ path: file, ...(opts.warn ? { warn: opts.warn } : {}) });
  const sqlite = db.sqlite;
  const fail = (err: unknown): never => {
    if (err instanceof KanbanDbError || err instanceof KanbanCopyError) throw err;
    const code = (err as { code?: unknown }).code;
    if (typeof code === "string" && code.startsWith("SQLITE_")) throw classifySqliteFailure(sqlite, err);
    throw err;
  };
  return {
    label: opts.label ?? db.path,

    async readSnapshot<T>(fn: (r: CopyReader) => Promise<T>): Promise<T> {
      sqlite.exec("BEGIN");
      try {
        return await fn(reader(sqlite));
      } catch (err) {
        return fail(err);
      } finally {
        if (sqlite.inTransaction) sqlite.exec("COMMIT");
      }
    },

    async writeTransaction(
      o: { replace: boolean },
      fn: (w: CopyWriter, r: CopyReader) => Promise<void>,
    ): Promise<void> {
      try {
        // BEGIN IMMEDIATE takes the write lock now, so no other writer slips in between the
        // emptiness check and the inserts.
        sqlite.exec("BEGIN IMMEDIATE");
      } catch (err) {
        fail(err);
      }
      try {
        if (o.replace) {
          for (const t of COPY_TABLES) sqlite.exec(`DELETE FROM ${q(t.name)}`);
        } else {
          const counts = nonEmptyTables(sqlite);
          if (counts.size > 0) {
            throw new KanbanCopyError(
              "COPY_TARGET_NOT_EMPTY",
              `the target ${db.path} already holds a board (${describeCounts(counts)}); pass --replace to overwrite it`,
              { target: db.path },
            );
          }
        }
        // The target's derived tables (the flow ledger) describe what it held before, not what is
        // copied in: emptied, they are rebuilt by the target's kernel from the copied rows. Emptied
        // without --replace too, as the check above counts board rows only, and a kernel that opened
        // an empty board may already have written the ledger's state row.
        for (const name of tableNames(sqlite).filter(isDerivedTable)) sqlite.exec(`DELETE FROM ${q(name)}`);
        await fn(writer(sqlite), reader(sqlite));
        sqlite.exec("COMMIT");
      } catch (err) {
        if (sqlite.inTransaction) sqlite.exec("ROLLBACK");
        fail(err);
      }
    },

    async close(): Promise<void> {
      db.close();
    },
  };
}
