import type { SqlContext } from "./session.ts";

/**
 * The events after which a card's earlier success no longer stands: a person moved or revived it, or
 * (completion gates, the review lane) a completion was judged and sent back to be done again.
 */
export const REOPEN_KINDS: readonly string[] = [
  "status",
  "promoted",
  "promoted_manual",
  "unblocked",
  "reclaimed",
  "gate_failed",
  "changes_requested",
  "review_reopened",
];
const REOPEN_KIND_LIST = REOPEN_KINDS.map((k) => `'${k}'`).join(", ");

// The respawn guard's reads (respawn-guard.ts decides): what reopened a task after a success, which
// recent comments might link a pull request, and which hand-offs came after such a link.

/**
 * Whether an event that reopens a task (status write, promotion, unblock, reclaim, or a completion its
 * gates or reviewer sent back: gate_failed, changes_requested, review_reopened) was recorded at or
 * after `since`.
 */
export async function reopenedSince(ctx: SqlContext, taskId: string, since: number): Promise<boolean> {
  return (
    (await ctx.get(
      `SELECT 1 FROM task_events WHERE task_id = ? AND kind IN (${REOPEN_KIND_LIST}) AND created_at >= ? LIMIT 1`,
      taskId,
      since,
    )) !== undefined
  );
}

/** What the respawn guard reads of a task first, in one statement (see {@link respawnFactsOf}). */
export interface RespawnFactsRow {
  started_at: number | null;
  created_at: number;
  last_failure_error: string | null;
  /** The newest ended run (by start), or null when none ended. */
  latest_run_id: number | null;
  /** When the newest completed run ended, or null. */
  succeeded_at: number | null;
  /** How many comments were made at or after the comment window's start. */
  comments: number;
}

/** {@link RESPAWN_FACTS_SQL}'s select list over \`tasks t\` (its one parameter: the comments' window start). */
export const RESPAWN_FACTS_COLUMNS = `t.started_at, t.created_at, t.last_failure_error,
            (SELECT r.id FROM task_runs r WHERE r.task_id = t.id AND r.ended_at IS NOT NULL
              ORDER BY r.started_at DESC, r.id DESC LIMIT 1) AS latest_run_id,
            (SELECT MAX(r.ended_at) FROM task_runs r WHERE r.task_id = t.id AND r.outcome = 'completed') AS succeeded_at,
            (SELECT COUNT(*) FROM task_comments c WHERE c.task_id = t.id AND c.created_at >= ?) AS comments`;

/**
 * The task's own facts for the respawn guard and what it must read further, as one statement: a
 * claim walk reads this for every task it is about to claim, and on PostgreSQL each statement is a
 * round trip. Parameters: the comment window's start, then the task id. The newest ended run, the
 * comments and the reopening events are then read only when there are any.
 */
export const RESPAWN_FACTS_SQL = `SELECT ${RESPAWN_FACTS_COLUMNS} FROM tasks t WHERE t.id = ?`;

/** A {@link RESPAWN_FACTS_SQL} row, typed (PostgreSQL answers counts as strings). */
export function respawnFactsFromRow(row: Record<string, unknown>): RespawnFactsRow {
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return {
    started_at: num(row.started_at),
    created_at: Number(row.created_at),
    last_failure_error: (row.last_failure_error as string | null) ?? null,
    latest_run_id: num(row.latest_run_id),
    succeeded_at: num(row.succeeded_at),
    comments: Number(row.comments),
  };
}

/** {@link RESPAWN_FACTS_SQL} for one task; null when the task does not exist. */
export async function respawnFactsOf(
  ctx: SqlContext,
  taskId: string,
  commentsFrom: number,
): Promise<RespawnFactsRow | null> {
  const row = (await ctx.get(RESPAWN_FACTS_SQL, commentsFrom, taskId)) as Record<string, unknown> | undefined;
  return row === undefined ? null : respawnFactsFromRow(row);
}

/** The task's comments since `since`, newest first. */
export async function commentsSince(
  ctx: SqlContext,
  taskId: string,
  since: number,
): Promise<{ body: string; created_at: number }[]> {
  return (await ctx.all(
    "SELECT body, created_at FROM task_comments WHERE task_id = ? AND created_at >= ? ORDER BY created_at DESC, id DESC",
    taskId,
    since,
  )) as { body: string; created_at: number }[];
}

/** Hand-off events (reassignments, review verdicts) since `since`, with their raw payload. */
export async function handoffsSince(
  ctx: SqlContext,
  taskId: string,
  since: number,
): Promise<{ kind: string; payload: string | null; created_at: number }[]> {
  return (await ctx.all(
    "SELECT kind, payload, created_at FROM task_events WHERE task_id = ? AND created_at >= ? AND kind IN ('assigned', 'changes_requested', 'review_reopened')",
    taskId,
    since,
  )) as { kind: string; payload: string | null; created_at: number }[];
}
