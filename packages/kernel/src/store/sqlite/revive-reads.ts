import type { Task } from "../../types.ts";
import type { SqlContext } from "./session.ts";

// The auto-revive's reads (auto-revive.ts decides): which blocked cards could be the breaker's, and
// the few event kinds that say whether one was, how often it was revived, and what reset the count.

/** The event kinds the revive rule reads, newest first per task. */
export const REVIVE_EVENT_KINDS = [
  "gave_up",
  "blocked",
  "unblocked",
  "completed",
  "auto_revived",
  "auto_revive_exhausted",
] as const;

export interface ReviveEventRow {
  task_id: string;
  id: number;
  kind: string;
  payload: unknown;
  created_at: number;
}

/**
 * Blocked tasks that have counted failures: the only ones the breaker can have blocked (a person's
 * or a worker's block with a clean counter is never the breaker's). Cheap on every tick: few rows.
 */
export async function breakerBlockedCandidates(ctx: SqlContext): Promise<Task[]> {
  return await ctx.tasks("SELECT * FROM tasks WHERE status = 'blocked' AND consecutive_failures > 0 ORDER BY id");
}

/** The revive rule's events of each task, newest first per task (at most `perTask` each). */
export async function reviveEvents(
  ctx: SqlContext,
  ids: readonly string[],
  perTask = 64,
): Promise<Map<string, ReviveEventRow[]>> {
  const out = new Map<string, ReviveEventRow[]>();
  if (ids.length === 0) return out;
  const rows = (await ctx.all(
    `SELECT task_id, id, kind, payload, created_at FROM (
       SELECT task_id, id, kind, payload, created_at,
         ROW_NUMBER() OVER (PARTITION BY task_id ORDER BY id DESC) AS rn
       FROM task_events
       WHERE task_id IN (SELECT value FROM json_each(?)) AND kind IN (SELECT value FROM json_each(?))) AS recent
     WHERE rn <= ? ORDER BY task_id, id DESC`,
    JSON.stringify(ids),
    JSON.stringify(REVIVE_EVENT_KINDS),
    perTask,
  )) as ReviveEventRow[];
  for (const r of rows) {
    const row = { ...r, id: Number(r.id), created_at: Number(r.created_at) };
    const list = out.get(r.task_id);
    if (list) list.push(row);
    else out.set(r.task_id, [row]);
  }
  return out;
}
