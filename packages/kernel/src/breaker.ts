import { PROTOCOL_VIOLATION_STREAK_LIMIT } from "./constants.ts";
import type { BoardContext } from "./context.ts";
import { foldedFailure, noteUncountedFailure } from "./incidents.ts";
import { appendEvent } from "./store/sqlite/events.ts";
import { newestClosedRuns } from "./store/sqlite/run-reads.ts";
import { endRun } from "./store/sqlite/runs.ts";
import { bookFailures, getTask, giveUp, requeueAfterSpawnFailure } from "./store/sqlite/tasks.ts";
import { isReviewRun } from "./store/sqlite/review-reads.ts";

export interface FailureInput {
  error: string;
  /** What failed: crashed, timed_out, spawn_failed, reclaimed, protocol_violation... */
  outcome: string;
  /** Spawn path: the task is still claimed; release the claim and close the run here. */
  releaseClaim?: boolean;
  /** Trip regardless of the count (systemic failures, protocol violations). */
  forceTrip?: boolean;
  /** The limit when the task sets no `max_retries` (spec §2.11 `failure_limit`); default the board's. */
  failureLimit?: number;
  /**
   * The spawn was refused for host reasons (issue 17 `infrastructure`: the worker program is missing
   * on this host, a fork or the workspace's disk failed). Not the task's fault, so nothing is
   * counted and the breaker can never trip on it; on the spawn path the run closes `spawn_failed`
   * with metadata `infrastructure` and the respawn guard cools the task down (spec §2.11, §2.12 rule 1).
   */
  infrastructure?: boolean;
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
    // An outage of the task's profile or host (incidents.ts) counts no failure towards its breaker.
    if (await foldedFailure(ctx, task, { ...input, error })) return false;
    if (input.infrastructure === true && input.forceTrip !== true) {
      await bookInfrastructureRefusal(ctx, id, task.consecutive_failures, error, input);
      return false;
    }
    const failures = task.consecutive_failures + 1;
    const limit = task.max_retries ?? input.failureLimit ?? ctx.failureLimit;
    const limitSource = task.max_retries !== null ? "task" : "dispatcher";
    const tripped = input.forceTrip === true || failures >= limit;
    const releaseClaim = input.releaseClaim === true;
    if (!tripped) {
      if (releaseClaim) {
        await requeueAfterSpawnFailure(ctx, id, failures, error);
        const runId = await endRun(ctx, id, {
          status: "spawn_failed",
          outcome: "spawn_failed",
          error,
          metadata: { failure_class: "spawn_failed" },
        });
        await appendEvent(
          ctx,
          id,
          "spawn_failed",
          { error, failures, failure_class: "spawn_failed", ...input.extra },
          runId,
        );
      } else {
        await bookFailures(ctx, id, { failures, error, releaseClaim: false });
      }
      return false;
    }
    // Hermes B: a trip of a review (a reviewer run, or a card recovery already put back in review)
    // says so, so that the card resumes in review once it is back in play.
    const fromReview = task.status === "review" || (task.status === "running" && (await isReviewRun(ctx, id)));
    if (!(await giveUp(ctx, id, { failures, error, releaseClaim }))) {
      // A task the breaker does not block (already blocked or scheduled, done…) still books the streak.
      await bookFailures(ctx, id, { failures, error, releaseClaim });
    }
    // The run a tripping spawn closes is still a spawn failure by class (the incident folding reads it).
    const runId = releaseClaim
      ? await endRun(ctx, id, {
          status: "gave_up",
          outcome: "gave_up",
          error,
          metadata: { failure_class: "spawn_failed" },
        })
      : null;
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
        ...(fromReview ? { source_status: "review" } : {}),
        ...sticky,
        ...input.extra,
      },
      runId,
    );
    // A forced trip (protocol violation, systemic crash) usually stores fewer failures than the
    // limit, so recomputeReady would undo it on the next tick. The `blocked` event makes it sticky
    // (Hermes B marks forced trips `sticky`): only an explicit unblock puts the task back in play.
    if (input.forceTrip === true)
      await appendEvent(
        ctx,
        id,
        "blocked",
        { reason: error, source: "circuit_breaker", sticky: true, ...(fromReview ? { source_status: "review" } : {}) },
        runId,
      );
    return true;
  });
}

/**
 * An infrastructure refusal: the counter is left as it is (only the error is stamped), so however
 * many come in a row the breaker never trips. On the spawn path the task goes back to `ready` and
 * its run closes `spawn_failed` marked `infrastructure`, which is what the respawn guard reads.
 */
async function bookInfrastructureRefusal(
  ctx: BoardContext,
  id: string,
  failures: number,
  error: string,
  input: FailureInput,
): Promise<void> {
  if (input.releaseClaim !== true) {
    await bookFailures(ctx, id, { failures, error, releaseClaim: false });
    return;
  }
  await requeueAfterSpawnFailure(ctx, id, failures, error);
  const runId = await endRun(ctx, id, {
    status: "spawn_failed",
    outcome: "spawn_failed",
    error,
    metadata: { infrastructure: true, failure_class: "infrastructure" },
  });
  await appendEvent(
    ctx,
    id,
    "spawn_failed",
    { error, failures, ...input.extra, infrastructure: true, failure_class: "infrastructure" },
    runId,
  );
}

/**
 * A failure that is not the worker's fault (a rate limit): nothing is counted, so the breaker can
 * never trip on it, but `last_failure_error` says what happened (spec §2.10: only the error is
 * stamped; the respawn guard's cooldown does the pacing).
 */
export async function stampFailureError(ctx: BoardContext, id: string, error: string): Promise<void> {
  await ctx.tx(async () => {
    const task = await getTask(ctx, id);
    if (!task) return;
    await noteUncountedFailure(ctx, task, error);
    await bookFailures(ctx, id, {
      failures: task.consecutive_failures,
      error: error.slice(0, 500),
      releaseClaim: false,
    });
  });
}

/** Closed runs read back to measure a violation streak: rate-limited runs in between are skipped, so read generously. */
const STREAK_READ = 64;

/**
 * How many of the task's newest closed runs in a row were protocol violations (exit 0 without
 * settling the task), skipping rate-limited runs, which neither break nor extend the streak. The
 * run just closed by the caller counts. Bounded by the failure counter plus one: a person's
 * unblock, reclaim or reassignment resets the counter and so starts a fresh streak too.
 */
export async function protocolViolationStreak(ctx: BoardContext, id: string, counted: number): Promise<number> {
  let streak = 0;
  for (const run of await newestClosedRuns(ctx, id, STREAK_READ)) {
    if (run.outcome === "rate_limited") continue;
    if (run.metadata?.protocol_violation !== true) break;
    streak++;
  }
  return Math.min(streak, counted);
}

/**
 * Books a protocol violation (spec §2.10 [B]): a worker that exits 0 while its task is still running
 * may just have lost its last call, so the task is requeued and the failure counted; only a
 * violation-only streak of {@link PROTOCOL_VIOLATION_STREAK_LIMIT} (or the task's `max_retries`)
 * trips the breaker, and that trip is sticky. Returns whether it tripped.
 */
export async function recordProtocolViolation(
  ctx: BoardContext,
  id: string,
  error: string,
  extra: Record<string, unknown> = {},
): Promise<boolean> {
  return await ctx.tx(async () => {
    const task = await getTask(ctx, id);
    if (!task) return false;
    const limit = task.max_retries ?? PROTOCOL_VIOLATION_STREAK_LIMIT;
    const streak = await protocolViolationStreak(ctx, id, task.consecutive_failures + 1);
    return await recordTaskFailure(ctx, id, {
      error,
      outcome: "protocol_violation",
      // Counted normally, but never against a limit below the streak's: with the default limit of 2
      // a second violation must still be retried.
      failureLimit: Math.max(limit, ctx.failureLimit),
      forceTrip: streak >= limit,
      extra: { protocol_violation: true, violation_streak: streak, violation_limit: limit, ...extra },
    });
  });
}
