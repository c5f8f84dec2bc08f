import { getTableConfig, type SQLiteTable } from "drizzle-orm/sqlite-core";
import {
  kanbanBudgets,
  kanbanEvidence,
  kanbanGates,
  kanbanHosts,
  kanbanIncidents,
  kanbanNotifyDeliveries,
  kanbanNotifyRules,
  kanbanNotifySubs,
  kanbanTaskRequires,
  kanbanUsage,
  kanbanVerifications,
  kanbanViews,
  taskAttachments,
  taskComments,
  taskEvents,
  taskLinks,
  taskRuns,
  tasks,
} from "../schema/index.ts";

/** One column as the copy sees it: its name and whether the schema declares it INTEGER (else TEXT). */
export interface CopyColumn {
  name: string;
  integer: boolean;
}

/** What the copy needs to know of a table: every column, the primary key, the AUTOINCREMENT id. */
export interface CopyTable {
  name: string;
  /**
   * Every column of the schema, in declaration order, then `rowid` for a table in {@link ROWID_TABLES}:
   * the order of the checksum's fields.
   */
  columns: CopyColumn[];
  /** The primary key's columns: rows are read, hashed and written in this order. */
  primaryKey: string[];
  /** The AUTOINCREMENT column whose sequence the copy carries over, or null. */
  autoincrement: string | null;
  /** Whether the last column is the row-order key `rowid` (see {@link ROWID_TABLES}). */
  rowid: boolean;
}

/**
 * Tables whose `rowid` the copy carries as one more integer column, after the schema's. On SQLite it
 * is the implicit rowid (not in the drizzle schema; `"rowid"` names it in a SELECT or an INSERT), on
 * PostgreSQL the explicit identity column `tasks.rowid` (drizzle-pg 0001). The kernel breaks ties
 * between tasks created in the same second by it (`ORDER BY created_at, rowid`), so a copy that let
 * the target number its rows (in the copy's primary-key order: random task ids) would reorder them.
 *
 * Being a column here, the rowid is also one more field of the table's checksum, so the verification
 * checks it. The exact values are hashed rather than each row's rank in rowid order: the copy writes
 * the values as they are, so equal values is the stricter check (equal ranks follow from it) and
 * costs no window query on either engine. The price: `kanban db verify` of two boards holding the same
 * tasks in the same order under other numbers (not made by a copy) reports `tasks` as different.
 */
export const ROWID_TABLES: readonly string[] = ["tasks"];

function describe(table: SQLiteTable): CopyTable {
  const config = getTableConfig(table);
  const columns = config.columns.map((c) => ({ name: c.name, integer: c.getSQLType().toUpperCase() === "INTEGER" }));
  const single = config.columns.filter((c) => c.primary).map((c) => c.name);
  const composite = config.primaryKeys[0]?.columns.map((c) => c.name) ?? [];
  const primaryKey = single.length > 0 ? single : composite;
  if (primaryKey.length === 0) throw new Error(`table ${config.name} has no primary key`);
  const auto = config.columns.find((c) => c.primary && (c as unknown as { autoIncrement?: boolean }).autoIncrement);
  const rowid = ROWID_TABLES.includes(config.name);
  if (rowid) columns.push({ name: "rowid", integer: true });
  return { name: config.name, columns, primaryKey, autoincrement: auto?.name ?? null, rowid };
}

/**
 * Every table of a board, derived from the drizzle schema so that a column added to the schema is
 * copied (and hashed) without touching the copy. Parents first, for readers of the report. The
 * derived tables are not here ({@link isDerivedTable}).
 */
export const COPY_TABLES: readonly CopyTable[] = [
  tasks,
  taskLinks,
  taskRuns,
  taskEvents,
  taskComments,
  taskAttachments,
  kanbanNotifySubs,
  // Ours, not Hermes': the labels tasks require, and the remote hosts that served the board.
  kanbanTaskRequires,
  kanbanHosts,
  // Incidents, subscription rules and the delivery log (issue 17).
  kanbanIncidents,
  kanbanNotifyRules,
  kanbanNotifyDeliveries,
  // What each run consumed, and the budgets that limit it (issue 21).
  kanbanUsage,
  kanbanBudgets,
  // Completion gates, the cards being verified and the evidence kept on them (issue 20).
  kanbanGates,
  kanbanVerifications,
  kanbanEvidence,
  // A board's saved views (issue 19).
  kanbanViews,
].map(describe);

/**
 * Columns an upgraded Hermes board keeps but no longer uses: the upgrade copied their values into
 * their successors (`spawn_failures` → `consecutive_failures`, `last_spawn_error` →
 * `last_failure_error`) and Hermes' current schema has neither. The copy leaves them behind and says so.
 */
export const LEGACY_COLUMNS: Readonly<Record<string, readonly string[]>> = {
  tasks: ["spawn_failures", "last_spawn_error"],
};

/** Tables an SQLite board holds that are not the board's data (SQLite's own, the migrator's journal). */
export function isBookkeepingTable(name: string): boolean {
  return name.startsWith("sqlite_") || name === "__drizzle_migrations";
}

/**
 * Tables of the board that hold derived data: the flow ledger (`kanban_flow_*`, issue 21), which the
 * kernel computes from `tasks`, `task_runs` and `task_events` and rebuilds whenever
 * `kanban_flow_state` has no row. They are not in {@link COPY_TABLES}: leaving them behind loses
 * nothing, and a ledger rebuilt from the copied rows cannot disagree with them, where a copied one
 * could (one its kernel had not caught up on yet, or of another format version). The copy neither
 * reports them as unknown nor checks them, and it empties them on the target in its write
 * transaction, so the target's kernel rebuilds them from the copied rows.
 */
export function isDerivedTable(name: string): boolean {
  return name.startsWith("kanban_flow_");
}
