import type { Task } from "../../types.ts";
import type { SqlContext } from "./session.ts";
import { tenantScopeArgs, tenantScopeSql } from "./sql-fragments.ts";

// The rows a create writes and the idempotency-key lookup (create.ts). Its links are links.ts's.

/** A task row as `createTask` inserts it; every other column takes its default. */
export interface NewTaskRow {
  id: string;
  title: string;
  body: string | null;
  assignee: string | null;
  status: string;
  priority: number;
  created_by: string | null;
  created_at: number;
  workspace_kind: string;
  workspace_path: string | null;
  branch_name: string | null;
  tenant: string | null;
  idempotency_key: string | null;
  max_runtime_seconds: number | null;
  /** JSON text of the skill list, or null. */
  skills: string | null;
  max_retries: number | null;
  model_override: string | null;
  session_id: string | null;
  workflow_template_id: string | null;
  current_step_key: string | null;
}

/**
 * The id of the newest live (non-archived) task created with `key`, among the tasks of `scope` (a
 * tenant; null = the whole board), or null.
 */
export async function idempotentTaskId(ctx: SqlContext, key: string, scope: string | null): Promise<string | null> {
  const row = (await ctx.get(
    `SELECT id FROM tasks t WHERE idempotency_key = ? AND status != 'archived' AND ${tenantScopeSql("t")}
       ORDER BY created_at DESC, rowid DESC LIMIT 1`,
    key,
    ...tenantScopeArgs(scope),
  )) as { id: string } | undefined;
  return row ? row.id : null;
}

/**
 * Inserts a task row and returns it as stored (defaults filled, read back by the insert itself: no
 * second read). Returns null when its id is already taken (the caller draws another); other errors
 * throw. A taken id is a no-op insert, not an error: on PostgreSQL an error would abort the whole
 * enclosing transaction.
 */
export async function insertTask(ctx: SqlContext, row: NewTaskRow): Promise<Task | null> {
  return await ctx.task(`${INSERT_TASK_SQL} RETURNING *`, ...insertTaskArgs(row));
}

/** The insert of {@link insertTask}, without its RETURNING (PostgreSQL's folded create builds on it). */
export const INSERT_TASK_SQL = `INSERT INTO tasks (id, title, body, assignee, status, priority, created_by, created_at, workspace_kind,
         workspace_path, branch_name, tenant, idempotency_key, max_runtime_seconds, skills, max_retries,
         model_override, session_id, workflow_template_id, current_step_key)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO NOTHING`;

export function insertTaskArgs(row: NewTaskRow): unknown[] {
  return [
    row.id,
    row.title,
    row.body,
    row.assignee,
    row.status,
    row.priority,
    row.created_by,
    row.created_at,
    row.workspace_kind,
    row.workspace_path,
    row.branch_name,
    row.tenant,
    row.idempotency_key,
    row.max_runtime_seconds,
    row.skills,
    row.max_retries,
    row.model_override,
    row.session_id,
    row.workflow_template_id,
    row.current_step_key,
  ];
}
