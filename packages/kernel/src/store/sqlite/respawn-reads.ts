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
