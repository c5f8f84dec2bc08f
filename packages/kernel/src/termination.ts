import type { BoardContext } from "./context.ts";
import type { Fence } from "./fencing.ts";
import type { Task } from "./types.ts";

/** A worker the caller should terminate (the kernel never signals processes itself). */
export interface Termination {
  pid: number;
  lock: string | null;
}

/** The columns that name a claim's worker (a verb's narrow read is enough). */
type ClaimedBy = Pick<Task, "worker_pid" | "claim_lock">;

/**
 * The worker recorded on `task`'s claim, whatever its status: a pid claimed on this host (a pid
 * from another host names some other process). Recovery sweeps and the operator's reclaim use it:
 * a reclaim may release a lock left on a `ready` or `blocked` task, and its worker still goes.
 */
export function claimHolder(ctx: BoardContext, task: ClaimedBy): Termination | null {
  return task.worker_pid !== null && task.worker_pid > 0 && ctx.isHostLocal(task.claim_lock)
    ? { pid: task.worker_pid, lock: task.claim_lock }
    : null;
}

/**
 * The worker to stop when `task`'s claim is released by someone other than the worker (archive,
 * delete, a direct status write, a person's complete/block/schedule): only a `running` task has
 * one working for it.
 */
export function workerToStop(ctx: BoardContext, task: ClaimedBy & Pick<Task, "status">): Termination | null {
  return task.status === "running" ? claimHolder(ctx, task) : null;
}

/**
 * The worker a complete/block/schedule must have stopped. A call fenced by run id or claim lock is
 * the worker speaking for itself (it exits on its own): none. An unfenced one is a person or a script
 * settling the card under a live worker, which is stopped like any other released claim.
 */
export function workerReleasedByOthers(
  ctx: BoardContext,
  task: ClaimedBy & Pick<Task, "status">,
  fence: Fence,
): Termination | null {
  const fenced =
    (fence.expected_run_id !== undefined && fence.expected_run_id !== null) ||
    (fence.claim_lock !== undefined && fence.claim_lock !== null);
  return fenced ? null : workerToStop(ctx, task);
}
