import type { BoardContext } from "./context.ts";
import { KernelError, notFound } from "./errors.ts";
import type { Task } from "./types.ts";

/**
 * What a worker-side call carries to prove it still owns the attempt it was given. A worker whose
 * claim was reclaimed (and possibly re-claimed by another worker) holds a stale run id, so its late
 * heartbeat/complete/block is refused instead of settling the newer attempt.
 */
export interface Fence {
  expected_run_id?: number | null;
  claim_lock?: string | null;
}

/** Throws STALE_RUN when the fence names a run or lock that is no longer the task's current one. */
export function checkFence(task: Pick<Task, "id" | "current_run_id" | "claim_lock">, fence: Fence): void {
  if (
    fence.expected_run_id !== undefined &&
    fence.expected_run_id !== null &&
    task.current_run_id !== fence.expected_run_id
  ) {
    throw new KernelError(
      "STALE_RUN",
      `run ${fence.expected_run_id} is no longer the active run of ${task.id} (the claim was reclaimed or settled); refusing to act on a newer attempt`,
      { task_id: task.id, expected_run_id: fence.expected_run_id, current_run_id: task.current_run_id },
    );
  }
  if (fence.claim_lock !== undefined && fence.claim_lock !== null && task.claim_lock !== fence.claim_lock) {
    throw new KernelError(
      "STALE_RUN",
      `claim ${fence.claim_lock} no longer holds ${task.id}; refusing to act on a newer attempt`,
      {
        task_id: task.id,
        claim_lock: fence.claim_lock,
      },
    );
  }
}

export async function requireFenced(ctx: BoardContext, id: string, fence: Fence): Promise<Task> {
  const task = await ctx.getTask(id);
  if (!task) throw notFound(`task ${id} not found`, { task_id: id });
  checkFence(task, fence);
  return task;
}
