import type { SqlContext } from "./session.ts";

// The whole board's counts (stats.ts) and event retention; one tenant's counts are in workers.ts.

/** Non-archived, assigned tasks counted per assignee and status. */
export async function assigneeStatusCounts(
  ctx: SqlContext,
): Promise<{ assignee: string; status: string; n: number }[]> {
  return ctx
    .stmt(
      `SELECT assignee, status, COUNT(*) AS n FROM tasks
       WHERE status != 'archived' AND assignee IS NOT NULL AND assignee != ''
       GROUP BY assignee, status`,
    )
    .all() as { assignee: string; status: string; n: number }[];
}

/** Non-archived tasks counted per status (statuses with no task are absent). */
export async function liveStatusCounts(ctx: SqlContext): Promise<{ status: string; n: number }[]> {
  return ctx.stmt("SELECT status, COUNT(*) AS n FROM tasks WHERE status != 'archived' GROUP BY status").all() as {
    status: string;
    n: number;
  }[];
}

/** Creation time of the oldest ready task, or null when nothing is ready. */
export async function oldestReadyCreatedAt(ctx: SqlContext): Promise<number | null> {
  return (
    ctx.stmt("SELECT MIN(created_at) AS oldest FROM tasks WHERE status = 'ready'").get() as { oldest: number | null }
  ).oldest;
}

/**
 * Deletes the events created before `cutoff` of done or archived tasks, except those of a kind in
 * `keepKinds`; returns how many went.
 */
export async function deleteFinishedTaskEvents(
  ctx: SqlContext,
  cutoff: number,
  keepKinds: readonly string[],
): Promise<number> {
  return ctx
    .stmt(
      `DELETE FROM task_events
         WHERE created_at < ?
           AND kind NOT IN (SELECT value FROM json_each(?))
           AND task_id IN (SELECT id FROM tasks WHERE status IN ('done', 'archived'))`,
    )
    .run(cutoff, JSON.stringify(keepKinds)).changes;
}
