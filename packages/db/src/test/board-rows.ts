import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { openDatabase } from "../connection.ts";
import { COPY_TABLES, isDerivedTable } from "../copy/tables.ts";

/** `../shared/fixtures` beside the repository: real boards written by Hermes' own Python kernel. */
export const HERMES_FIXTURES = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  "..",
  "..",
  "..",
  "..",
  "..",
  "shared",
  "fixtures",
);

/** A copy of a Hermes fixture board in `dir` (opening upgrades in place, so tests never open the original). */
export function copyFixture(name: string, dir: string): string {
  const file = path.join(dir, `${name}.db`);
  fs.copyFileSync(path.join(HERMES_FIXTURES, `${name}.db`), file);
  return file;
}

/**
 * Every row of every board table, columns named, in primary-key order, integers as bigints and the
 * AUTOINCREMENT counters: what two boards must share to be the same board. Read through a plain
 * read-only connection, so the comparison does not go through the code under test.
 */
export function boardRows(file: string): { tables: Record<string, unknown[]>; sequences: Record<string, string> } {
  const sqlite = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const tables: Record<string, unknown[]> = {};
    for (const t of COPY_TABLES) {
      const cols = t.columns.map((c) => `"${c.name}"`).join(", ");
      tables[t.name] = sqlite
        .prepare(`SELECT ${cols} FROM "${t.name}" ORDER BY ${t.primaryKey.map((k) => `"${k}"`).join(", ")}`)
        .safeIntegers(true)
        .all();
    }
    const sequences: Record<string, string> = {};
    const boardTables = new Set(COPY_TABLES.map((t) => t.name));
    for (const r of sqlite.prepare("SELECT name, seq FROM sqlite_sequence ORDER BY name").safeIntegers(true).all() as {
      name: string;
      seq: bigint;
    }[])
      if (boardTables.has(r.name)) sequences[r.name] = String(r.seq);
    return { tables, sequences };
  } finally {
    sqlite.close();
  }
}

/** `PRAGMA integrity_check` of a file through its own connection: `["ok"]` for a sound file. */
export function integrityCheck(file: string): string[] {
  const sqlite = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return (sqlite.pragma("integrity_check") as { integrity_check: string }[]).map((r) => r.integrity_check);
  } finally {
    sqlite.close();
  }
}

/**
 * A few rows in each table of the flow ledger (derived data the copy leaves behind), as a kernel
 * would have written them: one SQL script, unqualified, for either engine.
 */
export const FLOW_LEDGER_ROWS = `
  INSERT INTO kanban_flow_state (id, version, event_id) VALUES (1, 1, 116);
  INSERT INTO kanban_flow_cards (task_id, completed_at, cycle, lead, running, blocked, waiting, runs)
    VALUES ('t_3ffd9a8a', 1700000500, 300, 500, 250, 30, 20, 2);
  INSERT INTO kanban_flow_hist (tenant, day, metric, bucket, n, total, min_value, max_value)
    VALUES ('', 19675, 1, 8, 1, 500, 500, 500);
  INSERT INTO kanban_flow_ready (task_id, tenant, ready_since) VALUES ('t_ready', '', 1700000000);
  INSERT INTO kanban_flow_blocks (task_id, seq, tenant, reason, started_at) VALUES ('t_ready', 1, '', 'needs input', 1699999000);
`;

/** Row counts of a board file's flow ledger tables (`kanban_flow_*`), by name. */
export function flowLedgerCounts(file: string): Record<string, number> {
  const sqlite = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const names = (
      sqlite.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]
    )
      .map((r) => r.name)
      .filter(isDerivedTable);
    return Object.fromEntries(
      names.map((name) => [name, (sqlite.prepare(`SELECT count(*) AS n FROM "${name}"`).get() as { n: number }).n]),
    );
  } finally {
    sqlite.close();
  }
}

/**
 * A copy of a Hermes fixture board in `dir`, upgraded, with FLOW_LEDGER_ROWS in its flow ledger: the
 * source of the copy tests that the ledger is left behind. `filled` is its ledger's row counts and
 * `empty` the same tables with none.
 */
export function fixtureWithLedger(
  name: string,
  dir: string,
): { source: string; filled: Record<string, number>; empty: Record<string, number> } {
  const source = copyFixture(name, dir);
  openDatabase({ path: source, warn: () => {} }).close();
  const raw = new Database(source);
  raw.exec(FLOW_LEDGER_ROWS);
  raw.close();
  const filled = flowLedgerCounts(source);
  return { source, filled, empty: Object.fromEntries(Object.keys(filled).map((table) => [table, 0])) };
}
