import { LEGACY_EVENT_KINDS } from "@kanban/contract";
import Database from "better-sqlite3";
import { writeTxn } from "./write-txn.ts";

/**
 * In-place upgrade of boards written by Hermes (or by older versions of it), following the
 * structural, idempotent migration pass of spec §1.8. Nothing is ever dropped: legacy columns stay,
 * every row is kept, renamed columns are added and copied, TEXT-id tables are rebuilt with their
 * rows copied across.
 *
 * Unlike Hermes, the whole pass runs in one `BEGIN IMMEDIATE` transaction (SQLite's ALTER TABLE is
 * transactional), so a crash mid-upgrade leaves the file exactly as it was.
 */
export interface LegacyUpgradeReport {
  /** Whether anything in the file changed. */
  changed: boolean;
  addedColumns: string[];
  copiedColumns: string[];
  rebuiltTables: string[];
  backfilledRuns: number;
  renamedEvents: number;
}

export interface LegacyUpgradeOptions {
  nowSeconds: () => number;
  /** Statements of the baseline drizzle migration: the canonical shape the upgrade converges to. */
  baselineSql: string[];
}

interface ColumnInfo {
  name: string;
  type: string;
  notnull: number;
  dflt_value: string | null;
  pk: number;
}

/** Early additive `tasks` columns, in Hermes' order (§1.8 step 1). */
const EARLY_TASK_COLUMNS = ["tenant", "result", "branch_name", "project_id", "idempotency_key"];
/** Later additive `tasks` columns, in Hermes' order (§1.8 step 4). */
const LATER_TASK_COLUMNS = [
  "max_runtime_seconds",
  "last_heartbeat_at",
  "current_run_id",
  "workflow_template_id",
  "current_step_key",
  "skills",
  "max_retries",
  "model_override",
  "provider_override",
  "reasoning_effort",
  "goal_mode",
  "goal_max_turns",
  "completion_contract",
  "session_id",
  "block_kind",
  "block_recurrences",
];
/** `kanban_notify_subs` additions in Hermes' order (§1.8 step 7). */
const NOTIFY_COLUMNS = [
  "last_ping_event_id",
  "notifier_profile",
  "delivery_mode",
  "chat_type",
  "user_id_alt",
  "delivery_metadata",
];
/** Event kinds renamed by Hermes over time (§1.7, §1.8 step 9): old name → current name. */
export const LEGACY_EVENT_RENAMES: ReadonlyArray<readonly [string, string]> = Object.entries(LEGACY_EVENT_KINDS);

const canonicalCache = new Map<string, Map<string, ColumnInfo[]>>();

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function columns(sqlite: Database.Database, table: string): ColumnInfo[] {
  return sqlite
    .prepare(`SELECT name, type, "notnull", dflt_value, pk FROM pragma_table_info(?)`)
    .all(table) as ColumnInfo[];
}

function tableExists(sqlite: Database.Database, table: string): boolean {
  return sqlite.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table) !== undefined;
}

function ifNotExists(stmt: string): string {
  return stmt
    .replace(/^\s*CREATE TABLE\s+(?!IF NOT EXISTS)/i, "CREATE TABLE IF NOT EXISTS ")
    .replace(/^\s*CREATE INDEX\s+(?!IF NOT EXISTS)/i, "CREATE INDEX IF NOT EXISTS ");
}

function canonicalColumns(baselineSql: string[]): Map<string, ColumnInfo[]> {
  const key = baselineSql.join("\n");
  const cached = canonicalCache.get(key);
  if (cached) return cached;
  const mem = new Database(":memory:");
  try {
    for (const stmt of baselineSql) mem.exec(stmt);
    const tables = mem
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
      .all() as { name: string }[];
    const map = new Map(tables.map((t) => [t.name, columns(mem, t.name)]));
    canonicalCache.set(key, map);
    return map;
  } finally {
    mem.close();
  }
}

function columnDefinition(col: ColumnInfo): string {
  let def = `${quoteIdent(col.name)} ${col.type.toUpperCase()}`;
  if (col.notnull) def += " NOT NULL";
  if (col.dflt_value !== null) def += ` DEFAULT ${col.dflt_value}`;
  return def;
}

function schemaText(sqlite: Database.Database): string {
  const rows = sqlite.prepare("SELECT type, name, sql FROM sqlite_master ORDER BY type, name").all() as {
    sql: string | null;
  }[];
  return rows.map((r) => r.sql ?? "").join("\n");
}

/** True when a table's `id` (or notify cursor) was declared with a non-INTEGER type by an old Hermes. */
function hasIdDrift(sqlite: Database.Database, table: string): boolean {
  if (!tableExists(sqlite, table)) return false;
  const cols = columns(sqlite, table);
  if (table === "kanban_notify_subs") {
    const cursor = cols.find((c) => c.name === "last_event_id");
    return cursor !== undefined && cursor.type.toUpperCase() !== "INTEGER";
  }
  const id = cols.find((c) => c.name === "id");
  return id !== undefined && !(id.type.toUpperCase() === "INTEGER" && id.pk > 0);
}

export function upgradeLegacySchema(sqlite: Database.Database, opts: LegacyUpgradeOptions): LegacyUpgradeReport {
  const canonical = canonicalColumns(opts.baselineSql);
  const createTable = new Map<string, string>();
  const createIndex: string[] = [];
  for (const stmt of opts.baselineSql) {
    const table = /^\s*CREATE TABLE\s+[`"]?(\w+)/i.exec(stmt)?.[1];
    if (table) createTable.set(table, stmt);
    else if (/^\s*CREATE INDEX/i.test(stmt)) createIndex.push(ifNotExists(stmt));
  }

  const report: LegacyUpgradeReport = {
    changed: false,
    addedColumns: [],
    copiedColumns: [],
    rebuiltTables: [],
    backfilledRuns: 0,
    renamedEvents: 0,
  };

  const addColumn = (table: string, name: string): boolean => {
    const have = new Set(columns(sqlite, table).map((c) => c.name));
    if (have.has(name)) return false;
    const col = canonical.get(table)?.find((c) => c.name === name);
    if (!col) throw new Error(`no canonical definition for ${table}.${name}`);
    if (col.notnull && col.dflt_value === null) return false; // cannot be added; every Hermes shape has these
    sqlite.exec(`ALTER TABLE ${quoteIdent(table)} ADD COLUMN ${columnDefinition(col)}`);
    report.addedColumns.push(`${table}.${name}`);
    return true;
  };

  writeTxn(sqlite, () => {
    const before = schemaText(sqlite);

    // SCHEMA_SQL: every table of the current shape exists (old boards may lack runs, subs, attachments).
    for (const [table, stmt] of createTable) {
      if (!tableExists(sqlite, table)) sqlite.exec(ifNotExists(stmt));
    }

    // Step 10 (done first here, so that backfilled runs below get INTEGER ids): rebuild tables whose
    // AUTOINCREMENT ids were declared TEXT. Run ids are remapped in tasks and events.
    rebuildDriftedTables(sqlite, createTable, report);

    // Steps 1–4: tasks columns in Hermes' order, renamed columns by add-then-copy.
    const legacyTaskCols = new Set(columns(sqlite, "tasks").map((c) => c.name));
    for (const name of EARLY_TASK_COLUMNS) addColumn("tasks", name);
    if (addColumn("tasks", "consecutive_failures") && legacyTaskCols.has("spawn_failures")) {
      sqlite.exec("UPDATE tasks SET consecutive_failures = COALESCE(spawn_failures, 0)");
      report.copiedColumns.push("spawn_failures->consecutive_failures");
    }
    addColumn("tasks", "worker_pid");
    if (addColumn("tasks", "last_failure_error") && legacyTaskCols.has("last_spawn_error")) {
      sqlite.exec("UPDATE tasks SET last_failure_error = last_spawn_error");
      report.copiedColumns.push("last_spawn_error->last_failure_error");
    }
    for (const name of LATER_TASK_COLUMNS) addColumn("tasks", name);

    // Step 6: events gain run_id (historical events stay task-scoped, NULL).
    addColumn("task_events", "run_id");

    // Step 7: notify subscription columns; pre-column gateway subs behaved as notify+wake.
    for (const name of NOTIFY_COLUMNS) {
      if (addColumn("kanban_notify_subs", name) && name === "delivery_mode") {
        sqlite.exec("UPDATE kanban_notify_subs SET delivery_mode = 'notify+wake' WHERE platform != 'tui'");
      }
    }

    // Anything else the canonical shape has and this file lacks (nullable or defaulted columns only).
    for (const [table, cols] of canonical) {
      for (const col of cols) addColumn(table, col.name);
    }

    // Step 8: running tasks from before task_runs existed get their open run.
    const orphans = sqlite
      .prepare("SELECT id FROM tasks WHERE status = 'running' AND current_run_id IS NULL ORDER BY id")
      .all() as { id: string }[];
    if (orphans.length > 0) {
      const now = opts.nowSeconds();
      const insertRun = sqlite.prepare(
        `INSERT INTO task_runs (task_id, profile, step_key, status, claim_lock, claim_expires, worker_pid,
           max_runtime_seconds, last_heartbeat_at, started_at)
         SELECT id, assignee, current_step_key, 'running', claim_lock, claim_expires, worker_pid,
           max_runtime_seconds, last_heartbeat_at, COALESCE(started_at, ?) FROM tasks WHERE id = ?`,
      );
      const setRun = sqlite.prepare("UPDATE tasks SET current_run_id = ? WHERE id = ? AND current_run_id IS NULL");
      for (const { id } of orphans) {
        const runId = insertRun.run(now, id).lastInsertRowid;
        setRun.run(runId, id);
        report.backfilledRuns++;
      }
    }

    // Step 9: legacy event names.
    const rename = sqlite.prepare("UPDATE task_events SET kind = ? WHERE kind = ?");
    for (const [from, to] of LEGACY_EVENT_RENAMES) report.renamedEvents += rename.run(to, from).changes;

    // Step 5 and the rest: indexes, only now that every column they cover exists.
    for (const stmt of createIndex) sqlite.exec(stmt);

    report.changed =
      report.backfilledRuns > 0 ||
      report.renamedEvents > 0 ||
      report.copiedColumns.length > 0 ||
      schemaText(sqlite) !== before;
  });
  return report;
}

function rebuildDriftedTables(
  sqlite: Database.Database,
  createTable: Map<string, string>,
  report: LegacyUpgradeReport,
): void {
  const order = ["task_runs", "task_comments", "task_events", "kanban_notify_subs"];
  let runMapReady = false;
  for (const table of order) {
    if (!hasIdDrift(sqlite, table)) continue;
    const stmt = createTable.get(table);
    if (!stmt) continue;
    const legacy = `${table}_legacy`;
    const legacyCols = columns(sqlite, table).map((c) => c.name);
    sqlite.exec(`DROP TABLE IF EXISTS ${quoteIdent(legacy)}`);
    sqlite.exec(`ALTER TABLE ${quoteIdent(table)} RENAME TO ${quoteIdent(legacy)}`);
    sqlite.exec(stmt);
    const newCols = new Set(columns(sqlite, table).map((c) => c.name));
    const shared = legacyCols.filter((c) => newCols.has(c) && (c !== "id" || table === "kanban_notify_subs"));
    const list = shared.map(quoteIdent).join(", ");

    if (table === "task_runs") {
      // Row by row so that each old id can be mapped to its new AUTOINCREMENT id.
      sqlite.exec("CREATE TEMP TABLE IF NOT EXISTS _kanban_run_map (old_id TEXT PRIMARY KEY, new_id INTEGER NOT NULL)");
      const insert = sqlite.prepare(`INSERT INTO task_runs (${list}) VALUES (${shared.map(() => "?").join(", ")})`);
      const mapRow = sqlite.prepare("INSERT OR IGNORE INTO _kanban_run_map (old_id, new_id) VALUES (?, ?)");
      const rows = sqlite
        .prepare(`SELECT id AS _old_id, ${list} FROM ${quoteIdent(legacy)} ORDER BY rowid`)
        .raw()
        .all() as unknown[][];
      for (const row of rows) {
        const [oldId, ...values] = row;
        const newId = insert.run(...values).lastInsertRowid;
        if (oldId !== null && oldId !== undefined) mapRow.run(String(oldId), newId);
      }
      sqlite.exec(
        `UPDATE tasks SET current_run_id = (SELECT new_id FROM _kanban_run_map WHERE old_id = CAST(tasks.current_run_id AS TEXT))
         WHERE current_run_id IS NOT NULL`,
      );
      runMapReady = true;
    } else if (table === "kanban_notify_subs") {
      const select = shared
        .map((c) => (c === "last_event_id" ? "COALESCE(CAST(last_event_id AS INTEGER), 0)" : quoteIdent(c)))
        .join(", ");
      sqlite.exec(
        `INSERT INTO kanban_notify_subs (${list}) SELECT ${select} FROM ${quoteIdent(legacy)} ORDER BY rowid`,
      );
      if (!legacyCols.includes("delivery_mode")) {
        // Same rule as step 7: subscriptions from before the column existed behaved as notify+wake.
        sqlite.exec("UPDATE kanban_notify_subs SET delivery_mode = 'notify+wake' WHERE platform != 'tui'");
      }
    } else {
      sqlite.exec(
        `INSERT INTO ${quoteIdent(table)} (${list}) SELECT ${list} FROM ${quoteIdent(legacy)} ORDER BY rowid`,
      );
    }
    sqlite.exec(`DROP TABLE ${quoteIdent(legacy)}`);
    report.rebuiltTables.push(table);
  }
  if (runMapReady) {
    if (columns(sqlite, "task_events").some((c) => c.name === "run_id")) {
      sqlite.exec(
        `UPDATE task_events SET run_id = (SELECT new_id FROM _kanban_run_map WHERE old_id = CAST(task_events.run_id AS TEXT))
         WHERE run_id IS NOT NULL`,
      );
    }
    sqlite.exec("DROP TABLE _kanban_run_map");
  }
}
