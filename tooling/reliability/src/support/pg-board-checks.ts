import { boardSchemaName, type KanbanPostgres, openPostgres } from "@kanban/db";

/**
 * A read-only view of one PostgreSQL board for the test's checks: its own small pool with the
 * board's schema on the search path, so the SQL names the tables as the kernel does. Not the
 * kernel's Board: the checks must see the rows as the database holds them.
 */
export interface PgBoardReader {
  db: KanbanPostgres;
  rows<T>(sql: string, params?: unknown[]): Promise<T[]>;
  one<T>(sql: string, params?: unknown[]): Promise<T>;
  close(): Promise<void>;
}

export async function openPgBoardReader(url: string, slug: string): Promise<PgBoardReader> {
  const db = await openPostgres(url, {
    poolSize: 2,
    applicationName: "kanban-test-reader",
    searchPath: boardSchemaName(slug),
  });
  const rows = async <T>(sql: string, params: unknown[] = []) => (await db.pool.query(sql, params)).rows as T[];
  return {
    db,
    rows,
    one: async <T>(sql: string, params: unknown[] = []) => {
      const [row] = await rows<T>(sql, params);
      if (row === undefined) throw new Error(`no row: ${sql}`);
      return row;
    },
    close: () => db.close(),
  };
}

/**
 * The kernel's board invariants (board-checks.ts's, written for PostgreSQL: booleans compared as
 * booleans), read in one REPEATABLE READ transaction so every check sees one snapshot while the
 * processes under test keep writing. `[]` when the board is consistent.
 */
export async function pgInvariantViolations(r: PgBoardReader): Promise<{ check: string; rows: unknown[] }[]> {
  const checks: [string, string][] = [
    [
      "current_run_id ⇔ exactly one open run, and it is that run",
      `SELECT t.id FROM tasks t WHERE
         ((SELECT count(*) FROM task_runs r WHERE r.task_id = t.id AND r.ended_at IS NULL) = 1) <> (t.current_run_id IS NOT NULL)
         OR (SELECT count(*) FROM task_runs r WHERE r.task_id = t.id AND r.ended_at IS NULL) > 1
         OR (t.current_run_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM task_runs r WHERE r.id = t.current_run_id AND r.task_id = t.id AND r.ended_at IS NULL))`,
    ],
    ["running ⇔ claim held", "SELECT id FROM tasks WHERE (status = 'running') <> (claim_lock IS NOT NULL)"],
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
    // Nothing half-applied: a task row without its creation event, or a comment without its event.
    [
      "created ⇒ its event",
      "SELECT id FROM tasks t WHERE NOT EXISTS (SELECT 1 FROM task_events e WHERE e.task_id = t.id AND e.kind = 'created')",
    ],
  ];
  const client = await r.db.pool.connect();
  try {
    await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    const out: { check: string; rows: unknown[] }[] = [];
    for (const [check, sql] of checks) {
      const { rows } = await client.query(sql);
      if (rows.length > 0) out.push({ check, rows: rows.slice(0, 20) });
    }
    await client.query("COMMIT");
    return out;
  } finally {
    client.release();
  }
}
