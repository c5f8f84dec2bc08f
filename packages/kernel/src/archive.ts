import type { BoardContext } from "./context.ts";
import { notFound, wrongState } from "./errors.ts";
import { recomputeChildren, recomputeReady } from "./graph.ts";
import { type Termination, workerToStop } from "./termination.ts";
import type { Task } from "./types.ts";
import { transition } from "./transition.ts";
import { CLEAR_CLAIM } from "./transitions.ts";

/**
 * Archives a task from any status. A live run is closed as `reclaimed`; its worker pid is returned
 * so the caller can terminate it after the commit. Archived parents count as finished, so children
 * may promote.
 */
export function archiveTask(
  ctx: BoardContext,
  id: string,
  failureLimit?: number,
): { task: Task; terminate: Termination | null } {
  const out = ctx.tx(() => {
    const task = ctx.getTask(id);
    if (!task) throw notFound(`task ${id} not found`, { task_id: id });
    if (task.status === "archived") throw wrongState(`task ${id} is already archived`, { task_id: id });
    const changed = transition(ctx, "archive", id, { to: "archived", from: task.status, set: CLEAR_CLAIM });
    if (changed !== 1) throw wrongState(`cannot archive ${id}: it changed state concurrently`);
    const runId = ctx.endRun(id, {
      status: "reclaimed",
      outcome: "reclaimed",
      summary: "task archived with run still active",
    });
    ctx.appendEvent(id, "archived", null, runId);
    const terminate = workerToStop(ctx, task);
    return { task: ctx.requireTask(id), terminate };
  });
  recomputeChildren(ctx, id, failureLimit);
  return out;
}

function deleteRows(ctx: BoardContext, id: string): void {
  ctx.stmt("DELETE FROM task_links WHERE parent_id = ? OR child_id = ?").run(id, id);
  for (const table of ["task_comments", "task_events", "task_runs", "kanban_notify_subs", "task_attachments"]) {
    ctx.stmt(`DELETE FROM ${table} WHERE task_id = ?`).run(id);
  }
  ctx.stmt("DELETE FROM tasks WHERE id = ?").run(id);
}

/** Hard-deletes an archived task and everything attached to it. */
export function deleteArchivedTask(ctx: BoardContext, id: string): void {
  ctx.tx(() => {
    const task = ctx.getTask(id);
    if (!task) throw notFound(`task ${id} not found`, { task_id: id });
    if (task.status !== "archived")
      throw wrongState(`cannot delete ${id}: only archived tasks can be deleted this way (status is '${task.status}')`);
    deleteRows(ctx, id);
  });
}

/**
 * Hard-deletes a task in any status (the board's trash). A running worker's pid is returned for
 * termination. Children lose the edge and may promote.
 */
export function deleteTask(ctx: BoardContext, id: string, failureLimit?: number): { terminate: Termination | null } {
  const { terminate, children } = ctx.tx(() => {
    const task = ctx.getTask(id);
    if (!task) throw notFound(`task ${id} not found`, { task_id: id });
    const kids = (
      ctx.stmt("SELECT child_id FROM task_links WHERE parent_id = ?").all(id) as { child_id: string }[]
    ).map((r) => r.child_id);
    deleteRows(ctx, id);
    const t = workerToStop(ctx, task);
    return { terminate: t, children: kids };
  });
  recomputeReady(ctx, failureLimit, children);
  return { terminate };
}
