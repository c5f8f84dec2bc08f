import type { BoardContext } from "./context.ts";
import { notFound, wrongState } from "./errors.ts";
import { recomputeChildren, recomputeReady } from "./graph.ts";
import { childIds, sameTenantNeighbours } from "./store/sqlite/dependencies.ts";
import { appendEvent } from "./store/sqlite/events.ts";
import { endRun } from "./store/sqlite/runs.ts";
import { archiveRow, deleteTaskRows, getTask, requireTask } from "./store/sqlite/tasks.ts";
import { type Termination, workerToStop } from "./termination.ts";
import type { Task } from "./types.ts";

/**
 * Archives a task from any status. A live run is closed as `reclaimed`; its worker pid is returned
 * so the caller can terminate it after the commit. Archived parents count as finished, so children
 * may promote.
 */
export async function archiveTask(
  ctx: BoardContext,
  id: string,
): Promise<{ task: Task; terminate: Termination | null }> {
  const out = await ctx.tx(async () => {
    const task = await getTask(ctx, id);
    if (!task) throw notFound(`task ${id} not found`, { task_id: id });
    if (task.status === "archived") throw wrongState(`task ${id} is already archived`, { task_id: id });
    if (!(await archiveRow(ctx, id, task.status)))
      throw wrongState(`cannot archive ${id}: it changed state concurrently`);
    const runId = await endRun(ctx, id, {
      status: "reclaimed",
      outcome: "reclaimed",
      summary: "task archived with run still active",
    });
    await appendEvent(ctx, id, "archived", null, runId);
    const terminate = workerToStop(ctx, task);
    return { task: await requireTask(ctx, id), terminate };
  });
  await recomputeChildren(ctx, id);
  return out;
}

/** Hard-deletes an archived task and everything attached to it. */
export async function deleteArchivedTask(ctx: BoardContext, id: string): Promise<void> {
  await ctx.tx(async () => {
    const task = await getTask(ctx, id);
    if (!task) throw notFound(`task ${id} not found`, { task_id: id });
    if (task.status !== "archived")
      throw wrongState(`cannot delete ${id}: only archived tasks can be deleted this way (status is '${task.status}')`);
    await deleteWithTombstone(ctx, task);
  });
}

/**
 * Hard-deletes a task in any status (the board's trash). A running worker's pid is returned for
 * termination. Children lose the edge and may promote.
 */
export async function deleteTask(ctx: BoardContext, id: string): Promise<{ terminate: Termination | null }> {
  const { terminate, children } = await ctx.tx(async () => {
    const task = await getTask(ctx, id);
    if (!task) throw notFound(`task ${id} not found`, { task_id: id });
    const kids = await childIds(ctx, id);
    await deleteWithTombstone(ctx, task);
    const t = workerToStop(ctx, task);
    return { terminate: t, children: kids };
  });
  await recomputeReady(ctx, children);
  return { terminate };
}

/**
 * Deletes a task's rows and leaves one `deleted` event: without it nothing tells a board open in
 * another process (or another API server) that the card is gone, since its events go with it.
 */
async function deleteWithTombstone(ctx: BoardContext, task: Task): Promise<void> {
  const linked = await sameTenantNeighbours(ctx, task.id, task.tenant);
  await deleteTaskRows(ctx, task.id);
  await appendEvent(ctx, task.id, "deleted", { tenant: task.tenant, linked });
}
