import type { SqlContext } from "./session.ts";

/**
 * A run that did work, as opposed to the zero-length run a block or a manual completion of a card
 * nobody claimed synthesizes (started_at = ended_at, status = outcome; spec §1.6).
 */
const WORKED = "(r.ended_at IS NULL OR r.ended_at > r.started_at OR r.status != r.outcome)";

// The rows flow.ts measures. Every read is bounded by the window and, for a tenant, by its tasks.
// The same SQL runs on both engines; numbers are coerced by the caller (PostgreSQL returns bigint
// aggregates as strings).

/** A task that became done within the window, with the times its cycle is measured between. */
export interface DoneTaskRow {
  id: string;
  assignee: string | null;
  created_at: number;
  started_at: number | null;
  completed_at: number;
  /** Runs the task has had, and their summed durations (open runs count to now). */
  runs: number;
  running_seconds: number;
}

/** Tasks done within [since, until): the done-recent index bounds the scan. */
export async function doneTasksIn(
  ctx: SqlContext,
  since: number,
  until: number,
  tenant: string | null,
): Promise<DoneTaskRow[]> {
  // One pass over the window's done rows and their runs (a join and GROUP BY, not two lookups per row).
  return (await ctx.all(
    `SELECT t.id, t.assignee, t.created_at, t.started_at, COALESCE(t.completed_at, t.created_at) AS completed_at,
            SUM(CASE WHEN r.id IS NOT NULL AND ${WORKED} THEN 1 ELSE 0 END) AS runs,
            COALESCE(SUM(COALESCE(r.ended_at, :now) - r.started_at), 0) AS running_seconds
       FROM tasks t LEFT JOIN task_runs r ON r.task_id = t.id
      WHERE t.status = 'done' AND COALESCE(t.completed_at, t.created_at) >= :since
        AND COALESCE(t.completed_at, t.created_at) < :until AND (:tenant IS NULL OR t.tenant = :tenant)
      GROUP BY t.id, t.assignee, t.created_at, t.started_at, t.completed_at`,
    { since, until, tenant, now: ctx.now() },
  )) as DoneTaskRow[];
}

/** A ready task and when it last entered the lane (its newest lifecycle event, else its creation). */
export interface ReadyTaskRow {
  id: string;
  ready_since: number;
}

/** Event kinds after which a task is (again) in the ready lane, or waiting to be. */
export const LANE_ENTRY_KINDS = [
  "created",
  "promoted",
  "promoted_manual",
  "unblocked",
  "reclaimed",
  "crashed",
  "timed_out",
  "stale",
  "rate_limited",
  "spawn_failed",
  "status",
  "changes_requested",
  "review_reopened",
  "auto_revived",
] as const;

/** The tasks ready now, with the time each entered the lane. */
export async function readyTasks(ctx: SqlContext, tenant: string | null): Promise<ReadyTaskRow[]> {
  const kinds = LANE_ENTRY_KINDS.map((k) => `'${k}'`).join(", ");
  return (await ctx.all(
    `SELECT t.id,
            COALESCE((SELECT MAX(e.created_at) FROM task_events e WHERE e.task_id = t.id AND e.kind IN (${kinds})),
                     t.created_at) AS ready_since
       FROM tasks t
      WHERE t.status = 'ready' AND (:tenant IS NULL OR t.tenant = :tenant)`,
    { tenant },
  )) as ReadyTaskRow[];
}

/** One event that starts or ends a blocked episode. */
export interface BlockEventRow {
  task_id: string;
  kind: string;
  payload: string | null;
  created_at: number;
}

/** Events that put a task into `blocked`. */
export const BLOCK_START_KINDS = ["blocked", "gave_up", "dependency_wait", "block_loop_detected"] as const;
/** Events that take a task out of `blocked` (or end it some other way). */
export const BLOCK_END_KINDS = [
  "unblocked",
  "promoted",
  "promoted_manual",
  "claimed",
  "completed",
  "status",
  "archived",
  "auto_revived",
] as const;

/**
 * The block starts within [since, until) and every block end after `since`, in order per task, so
 * each episode can be closed by the first end that follows it.
 */
export async function blockEvents(
  ctx: SqlContext,
  since: number,
  until: number,
  tenant: string | null,
): Promise<BlockEventRow[]> {
  const starts = BLOCK_START_KINDS.map((k) => `'${k}'`).join(", ");
  const ends = BLOCK_END_KINDS.map((k) => `'${k}'`).join(", ");
  // Only tasks with a block in the window are read in full: ends alone (every claim, every completion)
  // would be most of the board's events.
  return (await ctx.all(
    `SELECT e.task_id, e.kind, CASE WHEN e.kind IN (${starts}) THEN e.payload END AS payload, e.created_at
       FROM task_events e
      WHERE e.task_id IN (SELECT b.task_id FROM task_events b
                           WHERE b.kind IN (${starts}) AND b.created_at >= :since AND b.created_at < :until)
        AND e.created_at >= :since
        AND ((e.kind IN (${starts}) AND e.created_at < :until) OR e.kind IN (${ends}))
        AND (:tenant IS NULL OR e.task_id IN (SELECT id FROM tasks WHERE tenant = :tenant))
      ORDER BY e.task_id, e.id`,
    { since, until, tenant },
  )) as BlockEventRow[];
}

/** Runs that ended within [since, until), counted per profile and outcome. */
export interface RunOutcomeRow {
  profile: string | null;
  outcome: string | null;
  n: number;
}

export async function runOutcomes(
  ctx: SqlContext,
  since: number,
  until: number,
  tenant: string | null,
): Promise<RunOutcomeRow[]> {
  return (await ctx.all(
    `SELECT r.profile, r.outcome, COUNT(*) AS n
       FROM task_runs r
      WHERE r.ended_at >= :since AND r.ended_at < :until AND ${WORKED}
        AND (:tenant IS NULL OR r.task_id IN (SELECT id FROM tasks WHERE tenant = :tenant))
      GROUP BY r.profile, r.outcome`,
    { since, until, tenant },
  )) as RunOutcomeRow[];
}
