import { TASK_STATUSES } from "./constants.ts";
import type { BoardContext } from "./context.ts";
import { invalid } from "./errors.ts";
import type { Task } from "./types.ts";

export const LIST_ORDERS = {
  created: "created_at ASC, id ASC",
  "created-desc": "created_at DESC, id DESC",
  priority: "priority DESC, created_at ASC",
  // Hermes' name is the reverse of what it sorts by; kept as an interface fact.
  "priority-desc": "priority ASC, created_at ASC",
  status: "status ASC, created_at ASC",
  assignee: "assignee ASC, created_at ASC",
  title: "title ASC, id ASC",
  updated: "started_at IS NULL, started_at DESC, created_at DESC",
} as const;
export type ListOrder = keyof typeof LIST_ORDERS;

export interface ListTasksFilter {
  assignee?: string | null;
  status?: string | null;
  tenant?: string | null;
  session_id?: string | null;
  include_archived?: boolean;
  limit?: number | null;
  order_by?: string | null;
  workflow_template_id?: string | null;
  current_step_key?: string | null;
  /** Free-text match on id, title, body, result, assignee, tenant (case-insensitive). */
  search?: string | null;
}

/**
 * The WHERE conditions of {@link listTasks} (joined with AND; empty = every task), so that a caller
 * paging with its own ORDER BY filters exactly as the list does. Archived tasks only when asked for
 * (or when filtering on `archived`).
 */
export function listTasksWhere(filter: ListTasksFilter = {}): { where: string[]; args: unknown[] } {
  const where: string[] = [];
  const args: unknown[] = [];
  if (filter.status) {
    if (!TASK_STATUSES.includes(filter.status as (typeof TASK_STATUSES)[number])) {
      throw invalid(`status must be one of [${TASK_STATUSES.map((s) => `'${s}'`).join(", ")}]`);
    }
    where.push("status = ?");
    args.push(filter.status);
  } else if (!filter.include_archived) {
    where.push("status != 'archived'");
  }
  for (const key of ["assignee", "tenant", "session_id", "workflow_template_id", "current_step_key"] as const) {
    const v = filter[key];
    if (v !== undefined && v !== null && v !== "") {
      where.push(`${key} = ?`);
      args.push(key === "assignee" ? v.trim().toLowerCase() : v);
    }
  }
  if (filter.search) {
    const like = `%${filter.search.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    where.push(
      "(lower(id) LIKE ? ESCAPE '\\' OR lower(title) LIKE ? ESCAPE '\\' OR lower(COALESCE(body, '')) LIKE ? ESCAPE '\\' OR lower(COALESCE(result, '')) LIKE ? ESCAPE '\\' OR lower(COALESCE(assignee, '')) LIKE ? ESCAPE '\\' OR lower(COALESCE(tenant, '')) LIKE ? ESCAPE '\\')",
    );
    args.push(like, like, like, like, like, like);
  }
  return { where, args };
}

/** Lists tasks; archived ones only when asked for (or when filtering on `archived`). */
export function listTasks(ctx: BoardContext, filter: ListTasksFilter = {}): Task[] {
  const { where, args } = listTasksWhere(filter);
  const orderKey = (filter.order_by ?? "priority") as ListOrder;
  const order = LIST_ORDERS[orderKey];
  if (!order) throw invalid(`order_by must be one of ${Object.keys(LIST_ORDERS).join(", ")}`);
  let sql = `SELECT * FROM tasks${where.length ? ` WHERE ${where.join(" AND ")}` : ""} ORDER BY ${order}`;
  if (filter.limit !== undefined && filter.limit !== null) {
    if (!Number.isInteger(filter.limit) || filter.limit < 1) throw invalid("limit must be an integer >= 1");
    sql += " LIMIT ?";
    args.push(filter.limit);
  }
  return ctx.tasks(sql, ...args);
}

export function parentIds(ctx: BoardContext, id: string): string[] {
  return (
    ctx.stmt("SELECT parent_id FROM task_links WHERE child_id = ? ORDER BY parent_id").all(id) as {
      parent_id: string;
    }[]
  ).map((r) => r.parent_id);
}

export function childIds(ctx: BoardContext, id: string): string[] {
  return (
    ctx.stmt("SELECT child_id FROM task_links WHERE parent_id = ? ORDER BY child_id").all(id) as { child_id: string }[]
  ).map((r) => r.child_id);
}

/** `[parent id, result]` of the done parents, oldest completion first. */
export function parentResults(ctx: BoardContext, id: string): [string, string | null][] {
  const rows = ctx
    .stmt(
      `SELECT t.id, t.result FROM task_links l JOIN tasks t ON t.id = l.parent_id
       WHERE l.child_id = ? AND t.status = 'done' ORDER BY t.completed_at ASC, t.id ASC`,
    )
    .all(id) as { id: string; result: string | null }[];
  return rows.map((r) => [r.id, r.result]);
}
