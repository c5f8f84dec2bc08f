import { type Board, notFound, type TaskView } from "@kanban/kernel";
import type { KanbanContext } from "./context.ts";

/** A task as the API returns it: the kernel's view, with `skills` always a list (Hermes' task dict). */
export type TaskDto = Omit<TaskView, "skills"> & { skills: string[] };

export function taskDto(t: TaskView): TaskDto {
  return { ...t, skills: t.skills ?? [] };
}

/** Whether the caller may see this task at all (tenant-scoped tokens see only their tenant). */
export function visible(ctx: KanbanContext, task: { tenant: string | null }): boolean {
  return ctx.tenant === null || task.tenant === ctx.tenant;
}

/**
 * The task a request names, or NOT_FOUND. A task of another tenant is reported exactly like an
 * unknown one, so a tenant-scoped token cannot even learn which ids exist elsewhere.
 */
export function scopedTask(ctx: KanbanContext, board: Board, id: string): TaskView {
  const task = board.getTask(id);
  if (!task || !visible(ctx, task)) throw notFound(`task ${id} not found`, { task_id: id });
  return task;
}

/** The tenant a read is confined to: the token's, whatever the request asked for. */
export function tenantFilter(ctx: KanbanContext, requested: string | null | undefined): string | null {
  return ctx.tenant ?? (requested?.trim() ? requested.trim() : null);
}
