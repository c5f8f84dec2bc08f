import type { BoardContext } from "./context.ts";
import { transition } from "./transition.ts";
import { CLEAR_CLAIM } from "./transitions.ts";

export interface FailureInput {
  error: string;
  /** What failed: crashed, timed_out, spawn_failed, reclaimed, protocol_violation... */
  outcome: string;
  /** Dispatcher-level limit; a task's own `max_retries` wins over it. */
  failureLimit?: number | null;
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
export function recordTaskFailure(ctx: BoardContext, id: string, input: FailureInput): boolean {
  return ctx.tx(() => {
    const task = ctx.getTask(id);
    if (!task) return false;
    const error = input.error.slice(0, 500);
    const failures = task.consecutive_failures + 1;
    const limit = task.max_retries ?? input.failureLimit ?? ctx.failureLimit;
    const limitSource = task.max_retries !== null ? "task" : "dispatcher";
    const tripped = input.forceTrip === true || failures >= limit;
    const counters = `consecutive_failures = ?, last_failure_error = ?${input.releaseClaim ? `, ${CLEAR_CLAIM}` : ""}`;
    if (!tripped) {
      if (input.releaseClaim) {
        transition(ctx, "spawn_failed", id, { to: "ready", set: counters, setArgs: [failures, error] });
        const runId = ctx.endRun(id, { status: "spawn_failed", outcome: "spawn_failed", error });
        ctx.appendEvent(id, "spawn_failed", { error, failures, ...input.extra }, runId);
      } else {
        ctx
          .stmt("UPDATE tasks SET consecutive_failures = ?, last_failure_error = ? WHERE id = ?")
          .run(failures, error, id);
      }
      return false;
    }
    if (transition(ctx, "give_up", id, { to: "blocked", set: counters, setArgs: [failures, error] }) === 0) {
      // A task the breaker does not block (already blocked or scheduled, done…) still books the streak.
      ctx.stmt(`UPDATE tasks SET ${counters} WHERE id = ?`).run(failures, error, id);
    }
    const runId = input.releaseClaim ? ctx.endRun(id, { status: "gave_up", outcome: "gave_up", error }) : null;
    const sticky = input.forceTrip === true ? { sticky: true } : {};
    ctx.appendEvent(
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
      ctx.appendEvent(id, "blocked", { reason: error, source: "circuit_breaker", sticky: true }, runId);
    return true;
  });
}
