import { recordTaskFailure } from "./breaker.ts";
import type { BoardContext } from "./context.ts";
import { notFound } from "./errors.ts";
import { appendEvent } from "./store/sqlite/events.ts";
import { requeueRunning } from "./store/sqlite/recovery.ts";
import { runById } from "./store/sqlite/run-reads.ts";
import { endRun } from "./store/sqlite/runs.ts";
import { getTask } from "./store/sqlite/tasks.ts";

/** How a remote host saw its worker end (no terminal call reached the server for the run). */
export interface RemoteExit {
  exit_code: number | null;
  signal: string | null;
  /** The last of the worker's output, for the event (cut to {@link OUTPUT_TAIL_MAX}). */
  output_tail?: string | null;
}

/** How much of a remote worker's last output the `crashed` event keeps (its end). */
export const OUTPUT_TAIL_MAX = 4000;

export interface RemoteExitResult {
  recorded: "crashed" | "ignored";
}

/**
 * A remote host reports that a run's worker exited without a terminal call the server heard. While
 * the run is still its task's current run and the task is running, that is the local crash path
 * (recovery.ts detectCrashedWorkers): the task is requeued, the run ends `crashed`, the failure
 * counts against the breaker, and the event keeps the exit and the last output; an exit 0 is a
 * protocol violation (the worker never settled its task) and trips the breaker at once. A run that
 * ended some other way first (completed, reclaimed, cancelled) is left alone: `ignored`.
 */
export async function recordRemoteExit(ctx: BoardContext, runId: number, exit: RemoteExit): Promise<RemoteExitResult> {
  return await ctx.tx(async () => {
    const run = await runById(ctx, runId);
    if (run === null) throw notFound(`run ${runId} not found`, { run_id: runId });
    const task = await getTask(ctx, run.task_id);
    if (task === null || task.status !== "running" || task.current_run_id !== runId || run.ended_at !== null)
      return { recorded: "ignored" };
    const violation = exit.exit_code === 0;
    const who = task.worker_pid === null ? "the remote worker" : `remote pid ${task.worker_pid}`;
    const error = violation
      ? `${who} exited with code 0 while the task was still running (it never completed or blocked)`
      : exit.exit_code !== null
        ? `${who} exited with code ${exit.exit_code}`
        : exit.signal
          ? `${who} killed by signal ${exit.signal}`
          : `${who} exited`;
    if (!(await requeueRunning(ctx, task))) return { recorded: "ignored" };
    const tail = exit.output_tail ? exit.output_tail.slice(-OUTPUT_TAIL_MAX) : null;
    const closed = await endRun(ctx, task.id, {
      status: "crashed",
      outcome: "crashed",
      error,
      metadata: violation ? { protocol_violation: true } : null,
    });
    const payload: Record<string, unknown> = {
      pid: task.worker_pid,
      claimer: task.claim_lock,
      exit_code: exit.exit_code,
      exit_signal: exit.signal,
      error,
      remote: true,
      output_tail: tail,
    };
    if (violation)
      await appendEvent(ctx, task.id, "protocol_violation", { ...payload, protocol_violation: true }, closed);
    else await appendEvent(ctx, task.id, "crashed", payload, closed);
    await recordTaskFailure(ctx, task.id, {
      error,
      outcome: violation ? "protocol_violation" : "crashed",
      forceTrip: violation,
      extra: violation ? { protocol_violation: true } : undefined,
    });
    return { recorded: "crashed" };
  });
}
