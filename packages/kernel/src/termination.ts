import type { BoardContext } from "./context.ts";
import { runStates } from "./store/sqlite/containment.ts";
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

/** A run whose processes must not run any more (see {@link endedRuns}). */
export interface EndedRun {
  run_id: number;
  /** null: the run is gone (its task was deleted), so there is no task to tell. */
  task_id: string | null;
  /** How it ended (`completed`, `reclaimed`, `crashed`…); `superseded` when it never closed but is no longer its task's. */
  outcome: string;
  /** The worker recorded on the run (the group leader), while the run still names one. */
  worker_pid: number | null;
  /** When the run closed (board clock, seconds); null when it never closed (superseded, deleted). */
  ended_at: number | null;
}

/**
 * Of `runIds` (runs whose processes were found on a host), those that are no longer their task's
 * live work: closed, no longer the task's current run, their task not running, or gone with a
 * deleted task. A run that is its `running` task's current, open run is live and never listed,
 * whoever spawned it (another dispatcher of the same board may be working it).
 */
export async function endedRuns(ctx: BoardContext, runIds: readonly number[]): Promise<EndedRun[]> {
  const unique = [...new Set(runIds)].filter((id) => Number.isSafeInteger(id) && id > 0);
  const states = new Map((await runStates(ctx, unique)).map((s) => [Number(s.run_id), s]));
  const out: EndedRun[] = [];
  for (const id of unique) {
    const s = states.get(id);
    if (s === undefined) {
      out.push({ run_id: id, task_id: null, outcome: "deleted", worker_pid: null, ended_at: null });
      continue;
    }
    const live =
      s.ended_at === null && s.task_status === "running" && Number(s.task_current_run_id) === Number(s.run_id);
    if (live) continue;
    out.push({
      run_id: id,
      task_id: s.task_id,
      outcome: s.ended_at !== null ? (s.outcome ?? "ended") : s.task_id === null ? "deleted" : "superseded",
      worker_pid: s.worker_pid === null ? null : Number(s.worker_pid),
      ended_at: s.ended_at === null ? null : Number(s.ended_at),
    });
  }
  return out;
}

/** What a host stopped of an ended run, as the dispatcher reports it. */
export interface StoppedTree {
  /** Every process signalled. */
  pids: number[];
  /** Those that survived SIGTERM for the grace period and were killed. */
  killed: number[];
  /** How the run had ended (see {@link EndedRun}). */
  run_outcome: string;
  /** Who stopped them (`dispatcher pid 123 on host`), for the reader of the event. */
  by: string;
}

/**
 * Records on the task that the processes of its ended run were stopped: Hermes' own
 * `terminal_worker_reaped` kind (its termination report fields, plus the pids, how many, and
 * whether SIGKILL was needed). False when the task no longer exists (deleted: nothing to tell).
 */
export async function recordTreeStopped(
  ctx: BoardContext,
  taskId: string,
  runId: number,
  stopped: StoppedTree,
  leaderPid: number | null,
): Promise<boolean> {
  return await ctx.tx(async () => {
    if ((await ctx.getTask(taskId)) === null) return false;
    const sigkill = stopped.killed.length > 0;
    await ctx.appendEvent(
      taskId,
      "terminal_worker_reaped",
      {
        pid: leaderPid,
        worker_started_at: null,
        prev_pid: leaderPid,
        host_local: true,
        termination_attempted: true,
        terminated: true,
        sigkill,
        run_id: runId,
        run_outcome: stopped.run_outcome,
        pids: stopped.pids,
        count: stopped.pids.length,
        killed: stopped.killed,
        by: stopped.by,
      },
      runId,
    );
    return true;
  });
}
