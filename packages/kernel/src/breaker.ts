import type { BoardContext } from "./context.ts";
import { appendEvent } from "./store/sqlite/events.ts";
import { endRun } from "./store/sqlite/runs.ts";
import { bookFailures, getTask, giveUp, requeueAfterSpawnFailure } from "./store/sqlite/tasks.ts";

export interface FailureInput {
  error: string;
  /** What failed: crashed, timed_out, spawn_failed, reclaimed, protocol_violation... */
  outcome: string;
  /** Spawn path: the task is still claimed; release the claim and close the run here. */
  releaseClaim?: boolean;
  /** Trip regardless of the count (systemic failures, protocol violations). */
  forceTrip?: boolean;
  extra?: Record<string, unknown>;
}

/**
 * Books one failure against a task's circuit breaker (`consecutive_failures`). Below the limit the
 * task stays retryable (on the spawn path it goes back to `ready` with a `spawn_failed` event);
 * at the limit it is blocked with a `gave_up` event and never retried automatically.
 * Returns whether the breaker tripped.
 */
export async function recordTaskFailure(ctx: BoardContext, id: string, input: FailureInput): Promise<boolean> {
  return await ctx.tx(async () => {
    const task = await getTask(ctx, id);
    if (!task) return false;
    const error = input.error.slice(0, 500);
    const failures = task.consecutive_failures + 1;
    const limit = task.max_retries ?? ctx.failureLimit;
    const limitSource = task.max_retries !== null ? "task" : "dispatcher";
    const tripped = input.forceTrip === true || failures >= limit;
    const releaseClaim = input.releaseClaim === true;
    if (!tripped) {
      if (releaseClaim) {
        await requeueAfterSpawnFailure(ctx, id, failures, error);
        const runId = await endRun(ctx, id, { status: "spawn_failed", outcome: "spawn_failed", error });
        await appendEvent(ctx, id, "spawn_failed", { error, failures, ...input.extra }, runId);
      } else {
        await bookFailures(ctx, id, { failures, error, releaseClaim: false });
      }
      return false;
    }
    if (!(await giveUp(ctx, id, { failures, error, releaseClaim }))) {
      // A task the breaker does not block (already blocked or scheduled, done…) still books the streak.
      await bookFailures(ctx, id, { failures, error, releaseClaim });
    }
    const runId = releaseClaim ? await endRun(ctx, id, { status: "gave_up", outcome: "gave_up", error }) : null;
    const sticky = input.forceTrip === true ? { sticky: true } : {};
    await appendEvent(
      ctx,
      id,
      "gave_up",
      {
        failures,
        effective_limit: limit,
        limit_source: limitSource,
        error,
        trigger_outcome: input.outcome,
        ...sticky,
        ...input.extra,
      },
      runId,
    );
    // A forced trip (protocol violation, systemic crash) usually stores fewer failures than the
    // limit, so recomputeReady would undo it on the next tick. The `blocked` event makes it sticky
    // (Hermes B marks forced trips `sticky`): only an explicit unblock puts the task back in play.
    if (input.forceTrip === true)
      await appendEvent(ctx, id, "blocked", { reason: error, source: "circuit_breaker", sticky: true }, runId);
    return true;
  });
}
