import type { Task } from "../../types.ts";
import type { Awaitable } from "../port.ts";
import type { SqlContext } from "./session.ts";
import { CLEAR_CLAIM } from "./sql-fragments.ts";
import { swapStatus, swapStatusReturning } from "./tasks.ts";

// The review lane's writes (Hermes B): the hand-off to a reviewer and back, the reviewer's claim,
// and the lane's rows. Its reads are in review-reads.ts.

/** `request_review`: the task read as `from` (still on run `runId`) goes to review, assigned to `reviewer`, its claim released. */
export async function sendToReview(
  ctx: SqlContext,
  id: string,
  w: { from: string; runId: number | null; reviewer: string },
): Promise<boolean> {
  return (
    (await swapStatus(ctx, "request_review", id, {
      to: "review",
      from: w.from,
      set: `${CLEAR_CLAIM}, assignee = ?`,
      setArgs: [w.reviewer],
      where: "current_run_id IS ?",
      whereArgs: [w.runId],
    })) === 1
  );
}

/**
 * `request_changes` / `reopen_review`: back to the implementer (null keeps the assignee), in `to`,
 * its claim released. The failure streak is kept (Hermes B): a review round is not a retry.
 */
export async function returnToImplementer(
  ctx: SqlContext,
  verb: "request_changes" | "reopen_review" | "gate_failed",
  id: string,
  w: { from: string; to: "ready" | "todo"; implementer: string | null; runId: number | null },
): Promise<boolean> {
  return (
    (await swapStatus(ctx, verb, id, {
      to: w.to,
      from: w.from,
      set: `${CLEAR_CLAIM}, assignee = COALESCE(?, assignee)`,
      setArgs: [w.implementer],
      where: "current_run_id IS ?",
      whereArgs: [w.runId],
    })) === 1
  );
}

/** `claim_review`: an unclaimed review task becomes a running reviewer run (see claims.ts takeClaim). */
export function takeReviewClaim(
  ctx: SqlContext,
  id: string,
  c: { claimer: string; expires: number; now: number; runId: number },
): Awaitable<Task | null> {
  return swapStatusReturning(ctx, "claim_review", id, {
    to: "running",
    set: "claim_lock = ?, claim_expires = ?, started_at = COALESCE(started_at, ?), last_heartbeat_at = NULL, worker_pid = NULL, current_run_id = ?",
    setArgs: [c.claimer, c.expires, c.now, c.runId],
    where: "claim_lock IS NULL",
  });
}

/** `review_demote`: an unclaimed review task with a reopened parent waits in todo. */
export async function demoteReview(ctx: SqlContext, id: string): Promise<boolean> {
  return (await swapStatus(ctx, "review_demote", id, { to: "todo", where: "claim_lock IS NULL" })) === 1;
}

/** The review lane: unclaimed review tasks in dispatch order (priority, then age), at most `limit`. */
export async function reviewLaneRows(ctx: SqlContext, limit: number): Promise<Task[]> {
  // A gated card waiting for its acceptance commands or a person's approval is not a reviewer's yet.
  return await ctx.tasks(
    `SELECT * FROM tasks WHERE status = 'review' AND claim_lock IS NULL
       AND NOT EXISTS (SELECT 1 FROM kanban_verifications v WHERE v.task_id = tasks.id AND v.stage IN ('commands', 'approval'))
     ORDER BY priority DESC, created_at ASC, id ASC LIMIT ?`,
    limit,
  );
}
