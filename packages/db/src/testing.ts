import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { forgetInitialised, type KanbanDatabase, type OpenDatabaseOptions, openDatabase } from "./connection.ts";

// Locks held the way Hermes holds them (a real Python fcntl.flock), for the db and dispatcher lock tests.
// A port a test can hand to a child process without an outgoing connection taking it first.
export { stablePort } from "./test/ports.ts";
export { flockCommandCan, holdFlockInPython, type PythonFlockHolder, pythonCanFlock } from "./test/python-flock.ts";

/**
 * The environment for a process a test starts: the test process's own, without the surrounding
 * shell's KANBAN_* and HERMES_* settings (nor variables starting with one of `alsoDrop`), so a
 * developer's settings never leak into a test. `npm test`'s KANBAN_RUNTIME_BIN stays: the `kanban`
 * and `kanban-dispatcher` the test starts then run the runtime's bundles, not tsx (~2 CPU-s less a
 * start), with no change in behaviour. (apps/cli's harness keeps its own copy: its layer imports no db.)
 */
export function cleanChildEnv(alsoDrop: readonly string[] = []): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined || k.startsWith("HERMES_") || alsoDrop.some((p) => k.startsWith(p))) continue;
    if (k.startsWith("KANBAN_") && k !== "KANBAN_RUNTIME_BIN") continue;
    env[k] = v;
  }
  return env;
}

/** A fresh temporary directory, removed by the returned cleanup. Tests use real files, never :memory:. */
export function makeTempDir(prefix = "kanban-test-"): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Opens a migrated board file in a new temporary directory. */
export function createTestDatabase(
  opts: Partial<OpenDatabaseOptions> = {},
): KanbanDatabase & { dir: string; cleanup: () => void } {
  const { dir, cleanup } = makeTempDir();
  const file = path.join(dir, "kanban.db");
  forgetInitialised(file);
  const db = openDatabase({ warn: () => {}, ...opts, path: file });
  return Object.assign(db, {
    dir,
    cleanup: () => {
      db.close();
      cleanup();
    },
  });
}

export interface SchemaColumn {
  name: string;
  type: string;
  notnull: boolean;
  default: string | null;
  pk: number;
}

export interface SchemaDescription {
  tables: Record<string, SchemaColumn[]>;
  indexes: Record<string, { table: string; columns: string[] }>;
}

/**
 * The shape of a database as SQLite reports it, independent of DDL formatting and physical column
 * order (upgraded boards append columns in migration order).
 */
export function describeSchema(sqlite: import("better-sqlite3").Database): SchemaDescription {
  const tables = sqlite
    .prepare(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name != '__drizzle_migrations' ORDER BY name",
    )
    .all() as { name: string }[];
  const out: SchemaDescription = { tables: {}, indexes: {} };
  for (const { name } of tables) {
    const cols = sqlite.prepare(`SELECT name, type, "notnull", dflt_value, pk FROM pragma_table_info(?)`).all(name) as {
      name: string;
      type: string;
      notnull: number;
      dflt_value: string | null;
      pk: number;
    }[];
    out.tables[name] = cols
      .map((c) => ({
        name: c.name,
        type: c.type.toUpperCase(),
        notnull: c.notnull === 1,
        default: c.dflt_value,
        pk: c.pk,
      }))
      .sort((a, b) => a.name.localeCompare(b.name));
    const idx = sqlite.prepare("SELECT name FROM pragma_index_list(?) WHERE origin = 'c'").all(name) as {
      name: string;
    }[];
    for (const i of idx) {
      const cols2 = sqlite.prepare("SELECT name FROM pragma_index_info(?) ORDER BY seqno").all(i.name) as {
        name: string;
      }[];
      out.indexes[i.name] = { table: name, columns: cols2.map((c) => c.name) };
    }
  }
  return out;
}

/** Every row of every table (ids included), for before/after comparisons. */
export function dumpRows(sqlite: import("better-sqlite3").Database): Record<string, unknown[]> {
  const tables = sqlite
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
    .all() as { name: string }[];
  const out: Record<string, unknown[]> = {};
  for (const { name } of tables) out[name] = sqlite.prepare(`SELECT * FROM "${name}" ORDER BY rowid`).all();
  return out;
}
