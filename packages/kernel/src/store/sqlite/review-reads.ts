import type { SqlContext } from "./session.ts";

// The review lane's reads (Hermes B): provenance (who implemented, who reviews) from the events,
// whether a run was claimed from `review`, and the resume rule. Apart from review.ts so that the
// task writes (tasks.ts, recovery.ts), which land a reviewer run back in review, can use them
// without an import cycle. A reviewer run is recognised by its `claimed` event's
// `source_status: "review"`, as Hermes B writes it, so a board B left mid-review reads the same.

/** Who handed the task to review and to whom, from the newest `review_requested` event (null fields when absent). */
export interface ReviewProvenance {
  implementer: string | null;
  reviewer: string | null;
}

function text(v: unknown): string | null {
  return typeof v === "string" && v.trim() !== "" ? v : null;
}

/** The newest event of `kind` on the task, its payload's implementer and reviewer; null when there is none. */
export async function latestProvenance(
  ctx: SqlContext,
  id: string,
  kind: "review_requested" | "changes_requested",
): Promise<ReviewProvenance | null> {
  const row = (await ctx.get(
    `SELECT CASE WHEN json_valid(payload) THEN json_extract(payload, '$.implementer') END AS implementer,
            CASE WHEN json_valid(payload) THEN json_extract(payload, '$.reviewer') END AS reviewer
       FROM task_events WHERE task_id = ? AND kind = ? ORDER BY id DESC LIMIT 1`,
    id,
    kind,
  )) as { implementer: unknown; reviewer: unknown } | undefined;
  if (row === undefined) return null;
  return { implementer: text(row.implementer), reviewer: text(row.reviewer) };
}

/**
 * Whether the task's current run was claimed from `review` (a reviewer run): the phase a recovery
 * returns it to, and the only kind of run that may request changes.
 */
export async function isReviewRun(ctx: SqlContext, id: string): Promise<boolean> {
  const row = await ctx.get(
    `SELECT 1 AS yes FROM tasks t JOIN task_events e ON e.task_id = t.id AND e.run_id = t.current_run_id
      WHERE t.id = ? AND e.kind = 'claimed' AND json_valid(e.payload)
        AND json_extract(e.payload, '$.source_status') = 'review' LIMIT 1`,
    id,
  );
  return row !== undefined;
}

/** Where a released claim of the task lands: back in `review` for a reviewer run, else `ready`. */
export async function sourcePhase(ctx: SqlContext, id: string): Promise<"ready" | "review"> {
  return (await isReviewRun(ctx, id)) ? "review" : "ready";
}

/**
 * Whether a waiting card should resume in `review` (Hermes B's resume rule): the newest of the
 * lifecycle events that can take a card out of review says it left review (`resume_status`,
 * `retry_status` or `source_status` is `review`).
 */
export async function resumesInReview(ctx: SqlContext, id: string): Promise<boolean> {
  const row = (await ctx.get(
    `SELECT CASE WHEN json_valid(payload) AND (json_extract(payload, '$.resume_status') = 'review'
                 OR json_extract(payload, '$.retry_status') = 'review' OR json_extract(payload, '$.source_status') = 'review')
            THEN 1 ELSE 0 END AS review
       FROM task_events WHERE task_id = ? AND kind IN ('blocked', 'block_loop_detected', 'dependency_wait', 'gave_up',
         'unblocked', 'changes_requested', 'review_reopened', 'status', 'reclaimed', 'stale', 'timed_out', 'crashed',
         'spawn_failed', 'rate_limited')
      ORDER BY id DESC LIMIT 1`,
    id,
  )) as { review: number } | undefined;
  return Number(row?.review ?? 0) === 1;
}
