import { recordComment } from "./activity.ts";
import type { BoardContext } from "./context.ts";
import { invalid, notFound, wrongState } from "./errors.ts";
import { reclaimTask } from "./recovery.ts";
import { appendEvent } from "./store/sqlite/events.ts";
import { CLEAR_CLAIM } from "./store/sqlite/sql-fragments.ts";
import { getTask, requireTask, swapStatus } from "./store/sqlite/tasks.ts";
import type { Termination } from "./termination.ts";
import { allowedFrom } from "./transitions.ts";
import type { Task } from "./types.ts";

export interface CancelOptions {
  /** Why (required, one line): stored as the block reason `cancelled: <reason>`. */
  reason: string;
  /** Who cancelled (an operator, `tenant:<name>`): the author of the `BLOCKED:` comment. */
  actor?: string | null;
}

export interface CancelResult {
  task: Task;
  /** The run the cancel ended (a running task's), or null. */
  run_id: number | null;
  /**
   * A host-local worker the caller must stop (as for a reclaim). A remote host hears at its next
   * heartbeat that the run is no longer its own and stops the worker's tree itself.
   */
  terminate: Termination | null;
}

/**
 * Cancels a task that has not finished, in one transaction: a running task is reclaimed (its run
 * ends `reclaimed`, event `reclaimed`), then the task is parked `blocked` with the reason
 * `cancelled: <reason>` (a sticky block: only an unblock moves it on), so a hung card is not simply
 * run again. The reason is also kept as a `BLOCKED:` comment by `actor`.
 */
export async function cancelTask(ctx: BoardContext, id: string, opts: CancelOptions): Promise<CancelResult> {
  const why = String(opts.reason ?? "").trim();
  if (why === "") throw invalid("a cancel needs a reason");
  const reason = `cancelled: ${why}`;
  const actor = opts.actor?.trim() || null;
  return await ctx.tx(async () => {
    const task = await getTask(ctx, id);
    if (!task) throw notFound(`task ${id} not found`, { task_id: id });
    if (task.status !== "running" && !allowedFrom("cancel", task.status)) {
      throw wrongState(
        `cannot cancel ${id}: status is '${task.status}' (only triage, todo, scheduled, ready or running tasks are cancelled)`,
        { task_id: id, status: task.status },
      );
    }
    let terminate: Termination | null = null;
    let runId: number | null = null;
    let from = task.status;
    if (task.status === "running") {
      runId = task.current_run_id;
      const reclaimed = await reclaimTask(ctx, id, { reason });
      terminate = reclaimed.terminate;
      from = reclaimed.task.status;
    }
    const moved = await swapStatus(ctx, "cancel", id, {
      to: "blocked",
      from,
      set: CLEAR_CLAIM,
      where: "current_run_id IS NULL",
    });
    if (moved !== 1) throw wrongState(`cannot cancel ${id}: it changed state concurrently`, { task_id: id });
    await appendEvent(ctx, id, "blocked", { reason, cancelled: true, actor }, runId);
    if (actor !== null) await recordComment(ctx, id, actor, `BLOCKED: ${reason}`);
    return { task: await requireTask(ctx, id), run_id: runId, terminate };
  });
}
