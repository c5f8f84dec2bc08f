import type { BoardContext } from "./context.ts";
import { KernelError } from "./errors.ts";
import { appendEvent } from "./store/sqlite/events.ts";
import { claimedLockOf, hasLateReport } from "./store/sqlite/late-reports.ts";
import { runById } from "./store/sqlite/run-reads.ts";
import { getTask } from "./store/sqlite/tasks.ts";
import type { Task, TaskRun } from "./types.ts";

// A fenced terminal call (complete or block with `expected_run_id`) whose run is no longer the
// task's current one. Remote workers re-send such calls from their outbox until the server answers,
// so the same call may arrive twice, and a call may arrive after its run was reclaimed:
//
// - a re-send of a call that already settled its run (the run ended with the verb's own outcome)
//   is the same call: the same answer (the task as it is now), `replayed: true`, nothing written;
// - anything else is refused by fencing as before (STALE_RUN), but never silently: one
//   `late_report` event on the task keeps what the worker reported, once per (run, verb).

export type TerminalVerb = "complete" | "block";

/** The run outcome each verb writes: a re-sent call finds its run ended with it. */
const VERB_OUTCOME: Record<TerminalVerb, string> = { complete: "completed", block: "blocked" };

/** How much of a late summary or reason is kept on the event (the rest is cut, and flagged). */
export const LATE_REPORT_TEXT_MAX = 4000;

export interface LateReport {
  verb: TerminalVerb;
  summary: string | null;
  reason: string | null;
}

function isStaleRunOf(err: unknown, runId: number): err is KernelError {
  return err instanceof KernelError && err.code === "STALE_RUN" && err.details.expected_run_id === runId;
}

function capped(text: string | null): { text: string | null; cut: boolean } {
  if (text === null || text.length <= LATE_REPORT_TEXT_MAX) return { text, cut: false };
  return { text: text.slice(0, LATE_REPORT_TEXT_MAX), cut: true };
}

/** The host part of a claim lock (`<host>:<pid>`): a remote host's id, or a local host's name. */
function lockHost(lock: string | null): string | null {
  if (lock === null) return null;
  const at = lock.lastIndexOf(":");
  return at > 0 ? lock.slice(0, at) : lock;
}

/**
 * Writes the late report in a transaction of its own (so it survives the refusal thrown after it);
 * a second report of the same (run, verb) writes nothing.
 */
async function recordLateReport(ctx: BoardContext, taskId: string, run: TaskRun, report: LateReport): Promise<void> {
  await ctx.tx(async () => {
    if (await hasLateReport(ctx, taskId, run.id, report.verb)) return;
    // An ended run's claim lock is cleared; its `claimed` event still names the claimer.
    const lock = run.claim_lock ?? (await claimedLockOf(ctx, taskId, run.id));
    const summary = capped(report.summary);
    const reason = capped(report.reason);
    const payload: Record<string, unknown> = {
      run_id: run.id,
      verb: report.verb,
      summary: summary.text,
      reason: reason.text,
      run_outcome: run.outcome ?? (run.ended_at === null ? null : run.status),
      host_id: lockHost(lock),
    };
    if (summary.cut || reason.cut) payload.truncated = true;
    await appendEvent(ctx, taskId, "late_report", payload, run.id);
  });
}

/**
 * Runs a fenced terminal verb. When the fence finds the run stale: a re-send of the call that settled
 * it returns the task as it is now (replayed); otherwise the late report is recorded and the
 * STALE_RUN error thrown. A run of another task (or none) is refused as before, with nothing recorded.
 */
export async function withStaleRunHandling<R>(
  ctx: BoardContext,
  taskId: string,
  expectedRunId: number | null | undefined,
  report: LateReport,
  attempt: () => Promise<R>,
  replay: (task: Task, runId: number) => R,
): Promise<R> {
  if (expectedRunId === null || expectedRunId === undefined) return await attempt();
  try {
    return await attempt();
  } catch (err) {
    if (!isStaleRunOf(err, expectedRunId)) throw err;
    const run = await runById(ctx, expectedRunId);
    if (run === null || run.task_id !== taskId) throw err;
    if (run.ended_at !== null && run.outcome === VERB_OUTCOME[report.verb]) {
      const task = await getTask(ctx, taskId);
      if (task !== null) return replay(task, run.id);
    }
    await recordLateReport(ctx, taskId, run, report);
    throw err;
  }
}
