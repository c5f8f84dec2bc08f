import type { SqlContext } from "./session.ts";
import { tenantScopeArgs, tenantScopeSql } from "./sql-fragments.ts";
import type { Task } from "../../types.ts";

// Dependency edges as the API lists them (moved from tasks.list's include_links and the task drawer).

export interface LinkedTaskRow {
  id: string;
  title: string;
  status: string;
  assignee: string | null;
  tenant: string | null;
}

/**
 * Every edge touching one of `ids` whose two ends both lie in `scope` (a tenant; null = every
 * tenant), ordered by parent then child. The operator may link tasks of different tenants; a
 * tenant's listing must not learn the other end's id.
 */
export async function linkEdges(
  ctx: SqlContext,
  ids: string[],
  scope: string | null = null,
): Promise<{ parent_id: string; child_id: string }[]> {
  return (await ctx.all(
    `SELECT l.parent_id, l.child_id FROM task_links l
           JOIN tasks p ON p.id = l.parent_id JOIN tasks c ON c.id = l.child_id
           WHERE (l.parent_id IN (SELECT value FROM json_each(?)) OR l.child_id IN (SELECT value FROM json_each(?)))
             AND ${tenantScopeSql("p")} AND ${tenantScopeSql("c")}
           ORDER BY l.parent_id, l.child_id`,
    JSON.stringify(ids),
    JSON.stringify(ids),
    ...tenantScopeArgs(scope),
    ...tenantScopeArgs(scope),
  )) as {
    parent_id: string;
    child_id: string;
  }[];
}

/**
 * "The parent is done", written so that no index can serve it. Boards carry no planner statistics
 * (Hermes never runs ANALYZE), and with `t.status = 'done'` SQLite drove these joins from
 * idx_tasks_status: every done task of the board, each probed for a link to the child. On a
 * 20,000-task board that made `kanban show` (the worker context's parent results) 178 ms slower.
 * Through an expression the join starts from the child's links, as it should. Same meaning on
 * PostgreSQL (status is NOT NULL).
 */
const DONE_PARENT = "t.status || '' = 'done'";

const PARENTS_SQL = `SELECT t.id, t.title, t.status, t.assignee, t.tenant FROM task_links l JOIN tasks t ON t.id = l.parent_id
  WHERE l.child_id = ? AND ${tenantScopeSql("t")} ORDER BY t.id`;
const CHILDREN_SQL = `SELECT t.id, t.title, t.status, t.assignee, t.tenant, t.result FROM task_links l JOIN tasks t ON t.id = l.child_id
  WHERE l.parent_id = ? AND ${tenantScopeSql("t")} ORDER BY t.id`;

/** A task's parents within `scope` (a tenant; null = every tenant) with their title, status, assignee and tenant, by id. */
export async function linkedParents(
  ctx: SqlContext,
  id: string,
  scope: string | null = null,
): Promise<LinkedTaskRow[]> {
  return (await ctx.all(PARENTS_SQL, id, ...tenantScopeArgs(scope))) as LinkedTaskRow[];
}

/** A task's children, as {@link linkedParents} plus their result. */
export async function linkedChildren(
  ctx: SqlContext,
  id: string,
  scope: string | null = null,
): Promise<(LinkedTaskRow & { result: string | null })[]> {
  return (await ctx.all(CHILDREN_SQL, id, ...tenantScopeArgs(scope))) as (LinkedTaskRow & { result: string | null })[];
}

// The edges themselves, for the graph verbs (link, unlink, recompute) and create's parents.

/** Adds the edge `parent → child`; false when it was already there. */
export async function insertLink(ctx: SqlContext, parent: string, child: string): Promise<boolean> {
  return (
    (await ctx.run("INSERT INTO task_links (parent_id, child_id) VALUES (?, ?) ON CONFLICT DO NOTHING", parent, child))
      .changes > 0
  );
}

/** Removes the edge `parent → child`; false when there was none. */
export async function deleteLink(ctx: SqlContext, parent: string, child: string): Promise<boolean> {
  return (await ctx.run("DELETE FROM task_links WHERE parent_id = ? AND child_id = ?", parent, child)).changes > 0;
}

/** Parents of `child`, by id. */
export async function parentIdsSorted(ctx: SqlContext, child: string): Promise<string[]> {
  return (
    (await ctx.all("SELECT parent_id FROM task_links WHERE child_id = ? ORDER BY parent_id", child)) as {
      parent_id: string;
    }[]
  ).map((r) => r.parent_id);
}

/** Children of `parent`, by id. */
export async function childIdsSorted(ctx: SqlContext, parent: string): Promise<string[]> {
  return (
    (await ctx.all("SELECT child_id FROM task_links WHERE parent_id = ? ORDER BY child_id", parent)) as {
      child_id: string;
    }[]
  ).map((r) => r.child_id);
}

/** Id and result of `child`'s done parents, oldest completion first. */
export async function doneParentResults(
  ctx: SqlContext,
  child: string,
): Promise<{ id: string; result: string | null }[]> {
  return (await ctx.all(
    `SELECT t.id, t.result FROM task_links l JOIN tasks t ON t.id = l.parent_id
       WHERE l.child_id = ? AND ${DONE_PARENT} ORDER BY t.completed_at ASC, t.id ASC`,
    child,
  )) as { id: string; result: string | null }[];
}

/** `child`'s done parents as whole tasks, by id, confined to `scope` (a tenant; null = every tenant). */
export async function doneParentTasks(ctx: SqlContext, child: string, scope: string | null): Promise<Task[]> {
  return await ctx.tasks(
    `SELECT t.* FROM task_links l JOIN tasks t ON t.id = l.parent_id
     WHERE l.child_id = ? AND ${DONE_PARENT} AND ${tenantScopeSql("t")} ORDER BY t.id`,
    child,
    ...tenantScopeArgs(scope),
  );
}
