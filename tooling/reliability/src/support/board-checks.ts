import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";

/**
 * A connection that only reads a board file (WAL readers never block the writers under test). Not
 * opened read-only: SQLite cannot open a WAL file read-only once its last writer is gone (no -shm).
 */
export function openReader(file: string): Database.Database {
  const db = new Database(file, { fileMustExist: true });
  db.pragma("busy_timeout = 10000");
  return db;
}

/**
 * The kernel's board invariants (the same SQL as packages/kernel/src/invariants.test.ts), as a
 * list of violations: `[]` when the board is consistent.
 */
export function invariantViolations(db: Database.Database): { check: string; rows: unknown[] }[] {
  const checks: [string, string][] = [
    [
      "current_run_id ⇔ exactly one open run, and it is that run",
      `SELECT t.id FROM tasks t WHERE
         (SELECT count(*) FROM task_runs r WHERE r.task_id = t.id AND r.ended_at IS NULL) != (t.current_run_id IS NOT NULL)
         OR (t.current_run_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM task_runs r WHERE r.id = t.current_run_id AND r.task_id = t.id AND r.ended_at IS NULL))`,
    ],
    ["running ⇔ claim held", "SELECT id FROM tasks WHERE (status = 'running') != (claim_lock IS NOT NULL)"],
    [
      "running has its run and lease",
      "SELECT id FROM tasks WHERE status = 'running' AND (current_run_id IS NULL OR claim_expires IS NULL)",
    ],
    ...["task_events", "task_runs", "task_comments", "kanban_notify_subs"].map((table): [string, string] => [
      `no orphan ${table}`,
      `SELECT task_id FROM ${table} WHERE task_id NOT IN (SELECT id FROM tasks)`,
    ]),
    [
      "no orphan task_links",
      "SELECT * FROM task_links WHERE parent_id NOT IN (SELECT id FROM tasks) OR child_id NOT IN (SELECT id FROM tasks)",
    ],
    ["done ⇒ completed_at", "SELECT id FROM tasks WHERE status = 'done' AND completed_at IS NULL"],
    ["closed run ⇒ outcome", "SELECT id FROM task_runs WHERE ended_at IS NOT NULL AND outcome IS NULL"],
  ];
  // One read transaction: every check sees the same snapshot even while other processes write.
  return db.transaction(() =>
    checks.flatMap(([check, sql]) => {
      const rows = db.prepare(sql).all();
      return rows.length > 0 ? [{ check, rows }] : [];
    }),
  )();
}

/** The tables that hold a board's task data (what a refused request must leave untouched). */
export const TASK_TABLES = [
  "tasks",
  "task_links",
  "task_comments",
  "task_runs",
  "task_events",
  "kanban_notify_subs",
] as const;

/**
 * The writes a refusal makes by design: a completion that claims cards that do not exist is refused
 * *and audited* with a `completion_blocked_hallucination` event (spec §2, complete_task gate), and a
 * fenced complete or block of a run that has ended is refused and kept as a `late_report` event
 * (issue 15: a late completion is never silently dropped).
 */
export const AUDIT_EVENT_KINDS = ["completion_blocked_hallucination", "late_report"] as const;

/**
 * sha256 over every row of the task tables, in primary-key order; with `withoutAudit`, the audit
 * events a refusal may append are left out.
 */
export function taskDataHash(db: Database.Database, withoutAudit = false): string {
  const both = taskDataHashes(db);
  return withoutAudit ? both.withoutAudit : both.all;
}

/**
 * Both fingerprints of `taskDataHash` from one read of the tables: a fuzz loop that checks every
 * call against both reads each board once a call instead of twice.
 */
export function taskDataHashes(db: Database.Database): { all: string; withoutAudit: string } {
  const all = createHash("sha256");
  const withoutAudit = createHash("sha256");
  const audit = new Set<string>(AUDIT_EVENT_KINDS);
  db.transaction(() => {
    for (const table of TASK_TABLES) {
      all.update(`\u0000${table}\u0000`);
      withoutAudit.update(`\u0000${table}\u0000`);
      const statement = db.prepare(`SELECT * FROM ${table} ORDER BY rowid`).raw();
      const kindAt = table === "task_events" ? statement.columns().findIndex((c) => c.name === "kind") : -1;
      for (const row of statement.iterate() as Iterable<unknown[]>) {
        const text = JSON.stringify(row, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
        all.update(text);
        if (kindAt === -1 || !audit.has(row[kindAt] as string)) withoutAudit.update(text);
      }
    }
  })();
  return { all: all.digest("hex"), withoutAudit: withoutAudit.digest("hex") };
}

/** Every board database under a home: `<home>/kanban.db` and `<home>/kanban/boards/**\/kanban.db`. */
export function boardFiles(home: string): string[] {
  const out: string[] = [];
  const main = path.join(home, "kanban.db");
  if (fs.existsSync(main)) out.push(main);
  const walk = (dir: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name === "kanban.db") out.push(p);
    }
  };
  walk(path.join(home, "kanban", "boards"));
  return out.sort();
}

/** The task data of every board of a home, as one fingerprint per board file (relative path → hash). */
export function homeTaskData(home: string, withoutAudit = false): Record<string, string> {
  const both = homeTaskDataBoth(home);
  return withoutAudit ? both.withoutAudit : both.all;
}

/** `homeTaskData` with and without the audit events, from one read of each board. */
export function homeTaskDataBoth(home: string): { all: Record<string, string>; withoutAudit: Record<string, string> } {
  const all: Record<string, string> = {};
  const withoutAudit: Record<string, string> = {};
  for (const file of boardFiles(home)) {
    const db = openReader(file);
    try {
      const key = path.relative(home, file);
      const hashes = taskDataHashes(db);
      all[key] = hashes.all;
      withoutAudit[key] = hashes.withoutAudit;
    } finally {
      db.close();
    }
  }
  return { all, withoutAudit };
}
