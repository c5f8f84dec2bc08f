import type { BoardContext } from "./context.ts";
import type { Task } from "./types.ts";

/** A worker the caller should terminate (the kernel never signals processes itself). */
export interface Termination {
  pid: number;
  lock: string | null;
}

/**
 * The worker recorded on `task`'s claim, whatever its status: a pid claimed on this host (a pid
 * from another host names some other process). Recovery sweeps and the operator's reclaim use it:
 * a reclaim may release a lock left on a `ready` or `blocked` task, and its worker still goes.
 */
export function claimHolder(ctx: BoardContext, task: Task): Termination | null {
  return task.worker_pid !== null && task.worker_pid > 0 && ctx.isHostLocal(task.claim_lock)
    ? { pid: task.worker_pid, lock: task.claim_lock }
    : null;
}

/**
 * The worker to stop when `task`'s claim is released by someone other than the worker (archive,
 * delete, a direct status write, a person's complete/block/schedule): only a `running` task has
 * one working for it.
 */
export function workerToStop(ctx: BoardContext, task: Task): Termination | null {
  return task.status === "running" ? claimHolder(ctx, task) : null;
}
