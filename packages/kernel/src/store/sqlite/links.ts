import type { BoardContext } from "../../context.ts";

// Dependency edges as the API lists them (moved from tasks.list's include_links and the task drawer).

export interface LinkedTaskRow {
  id: string;
  title: string;
  status: string;
  assignee: string | null;
  tenant: string | null;
}

/** Every edge touching one of `ids`, ordered by parent then child. */
export function linkEdges(ctx: BoardContext, ids: string[]): { parent_id: string; child_id: string }[] {
  return ctx
    .stmt(
      `SELECT parent_id, child_id FROM task_links
           WHERE parent_id IN (SELECT value FROM json_each(:ids)) OR child_id IN (SELECT value FROM json_each(:ids))
           ORDER BY parent_id, child_id`,
    )
    .all({ ids: JSON.stringify(ids) }) as { parent_id: string; child_id: string }[];
}

const PARENTS_SQL = `SELECT t.id, t.title, t.status, t.assignee, t.tenant FROM task_links l JOIN tasks t ON t.id = l.parent_id
  WHERE l.child_id = ? ORDER BY t.id`;
const CHILDREN_SQL = `SELECT t.id, t.title, t.status, t.assignee, t.tenant, t.result FROM task_links l JOIN tasks t ON t.id = l.child_id
  WHERE l.parent_id = ? ORDER BY t.id`;

/** A task's parents with their title, status, assignee and tenant, by id. */
export function linkedParents(ctx: BoardContext, id: string): LinkedTaskRow[] {
  return ctx.stmt(PARENTS_SQL).all(id) as LinkedTaskRow[];
}

/** A task's children, as {@link linkedParents} plus their result. */
export function linkedChildren(ctx: BoardContext, id: string): (LinkedTaskRow & { result: string | null })[] {
  return ctx.stmt(CHILDREN_SQL).all(id) as (LinkedTaskRow & { result: string | null })[];
}
