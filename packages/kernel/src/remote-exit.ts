import { RATE_LIMIT_EXIT_CODE } from "./constants.ts";
import type { BoardContext } from "./context.ts";
import { notFound } from "./errors.ts";
import { bookDeadWorker, classifyExit, workerOutputTail } from "./recovery.ts";
import { requeueRunning } from "./store/sqlite/recovery.ts";
import { runById } from "./store/sqlite/run-reads.ts";
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
  recorded: "crashed" | "rate_limited" | "ignored";
}

/**
 * A remote host reports that a run's worker exited without a terminal call the server heard. While
 * the run is still its task's current run and the task is running, that is the local crash path
 * (recovery.ts detectCrashedWorkers, booked by the same code): the task is requeued and the exit is
 * classified. Exit 75 is a rate limit (run `rate_limited`, no failure counted, the respawn guard
 * cools it down); exit 0 is a protocol violation (counted; only a violation streak trips the
 * breaker), with the worker's last output on its event; anything else is a counted crash. A run
 * that ended some other way first (completed, reclaimed, cancelled) is left alone: `ignored`.
 */
export async function recordRemoteExit(ctx: BoardContext, runId: number, exit: RemoteExit): Promise<RemoteExitResult> {
  return await ctx.tx(async () => {
    const run = await runById(ctx, runId);
    if (run === null) throw notFound(`run ${runId} not found`, { run_id: runId });
    const task = await getTask(ctx, run.task_id);
    if (task === null || task.status !== "running" || task.current_run_id !== runId || run.ended_at !== null)
      return { recorded: "ignored" };
    const kind = classifyExit(exit.exit_code);
    const who = task.worker_pid === null ? "the remote worker" : `remote pid ${task.worker_pid}`;
    const error =
      kind === "protocol_violation"
        ? `${who} exited with code 0 while the task was still running (it never completed or blocked)`
        : kind === "rate_limited"
          ? `${who} exited with code ${RATE_LIMIT_EXIT_CODE} (rate limited; retried after a cooldown)`
          : exit.exit_code !== null
            ? `${who} exited with code ${exit.exit_code}`
            : exit.signal
              ? `${who} killed by signal ${exit.signal}`
              : `${who} exited`;
    if (!(await requeueRunning(ctx, task))) return { recorded: "ignored" };
    const tail = exit.output_tail ? exit.output_tail.slice(-OUTPUT_TAIL_MAX) : null;
    await bookDeadWorker(ctx, task, {
      kind,
      error,
      payload: {
        pid: task.worker_pid,
        claimer: task.claim_lock,
        exit_code: exit.exit_code,
        exit_signal: exit.signal,
        remote: true,
        output_tail: tail,
      },
      output: workerOutputTail(exit.output_tail),
    });
    return { recorded: kind === "rate_limited" ? "rate_limited" : "crashed" };
  });
}
