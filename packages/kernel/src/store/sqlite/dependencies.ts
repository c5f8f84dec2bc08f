import type { Awaitable } from "../port.ts";
import type { SqlContext } from "./session.ts";

// A task's dependency edges as the lifecycle verbs judge them: may it run or complete (are its
// parents finished), and whom does it release when it goes away (its children).

export interface ParentState {
  id: string;
  title: string;
  status: string;
}

/** Direct parents that are neither done nor archived, by id. */
export function unfinishedParents(ctx: SqlContext, taskId: string): Awaitable<ParentState[]> {
  return ctx.all(
    `SELECT t.id, t.title, t.status FROM task_links l JOIN tasks t ON t.id = l.parent_id
       WHERE l.child_id = ? AND t.status NOT IN ('done', 'archived') ORDER BY t.id`,
    taskId,
  ) as Awaitable<ParentState[]>;
}

/** Whether every direct parent is done or archived (a task with none is satisfied). */
export async function parentsSatisfied(ctx: SqlContext, taskId: string): Promise<boolean> {
  return (
    (await ctx.get(
      `SELECT 1 FROM task_links l JOIN tasks t ON t.id = l.parent_id
       WHERE l.child_id = ? AND t.status NOT IN ('done', 'archived') LIMIT 1`,
      taskId,
    )) === undefined
  );
}

/** Ids of a task's direct children. */
export async function childIds(ctx: SqlContext, parentId: string): Promise<string[]> {
  return (
    (await ctx.all("SELECT child_id FROM task_links WHERE parent_id = ?", parentId)) as { child_id: string }[]
  ).map((r) => r.child_id);
}

/** Whether `childId` is linked as a direct child of `parentId`. */
export async function isChildOf(ctx: SqlContext, parentId: string, childId: string): Promise<boolean> {
  return (
    (await ctx.get("SELECT 1 FROM task_links WHERE parent_id = ? AND child_id = ?", parentId, childId)) !== undefined
  );
}

/**
 * The tasks linked to `taskId` either way that share its tenant (both NULL counts as shared): whose
 * link counts a hard delete changes, named in its `deleted` event without telling one tenant about
 * another's tasks.
 */
export async function sameTenantNeighbours(ctx: SqlContext, taskId: string, tenant: string | null): Promise<string[]> {
  const rows = (await ctx.all(
    `SELECT DISTINCT t.id FROM task_links l JOIN tasks t ON t.id = CASE WHEN l.parent_id = ? THEN l.child_id ELSE l.parent_id END
       WHERE (l.parent_id = ? OR l.child_id = ?) AND COALESCE(t.tenant, '') = ? ORDER BY t.id`,
    taskId,
    taskId,
    taskId,
    tenant ?? "",
  )) as { id: string }[];
  return rows.map((r) => r.id);
}
