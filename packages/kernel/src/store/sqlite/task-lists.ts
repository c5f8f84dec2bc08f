import { TASK_STATUSES } from "../../constants.ts";
import type { SqlContext } from "./session.ts";
import { invalid } from "../../errors.ts";
import type { Task } from "../../types.ts";

// `listTasks`' filter and orders as SQL (list.ts), shared with tasks.list's keyset pages (task-pages.ts).

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

/** The WHERE conditions of a task list (joined with AND; empty = every task) and their parameters. */
export interface ListWhere {
  where: string[];
  args: unknown[];
}

/**
 * The WHERE conditions of `listTasks` (joined with AND; empty = every task), so that a caller
 * paging with its own ORDER BY filters exactly as the list does. Archived tasks only when asked for
 * (or when filtering on `archived`). Refuses an unknown status.
 */
export function listTasksWhere(filter: ListTasksFilter = {}): ListWhere {
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

/** The tasks matching `filter` (see {@link listTasksWhere}) in `order`, at most `limit` (null = all). */
export async function taskRows(
  ctx: SqlContext,
  filter: ListWhere,
  order: ListOrder,
  limit: number | null,
): Promise<Task[]> {
  const { where } = filter;
  const args = [...filter.args];
  let sql = `SELECT * FROM tasks${where.length ? ` WHERE ${where.join(" AND ")}` : ""} ORDER BY ${LIST_ORDERS[order]}`;
  if (limit !== null) {
    sql += " LIMIT ?";
    args.push(limit);
  }
  return await ctx.tasks(sql, ...args);
}
