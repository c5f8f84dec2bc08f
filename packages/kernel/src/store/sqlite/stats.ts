import type { SqlContext } from "./session.ts";

// The whole board's counts (stats.ts) and event retention; one tenant's counts are in workers.ts.

/** Non-archived, assigned tasks counted per assignee and status. */
export async function assigneeStatusCounts(
  ctx: SqlContext,
): Promise<{ assignee: string; status: string; n: number }[]> {
  return (await ctx.all(`SELECT assignee, status, COUNT(*) AS n FROM tasks
       WHERE status != 'archived' AND assignee IS NOT NULL AND assignee != ''
       GROUP BY assignee, status`)) as { assignee: string; status: string; n: number }[];
}

/** Non-archived tasks counted per status (statuses with no task are absent). */
export async function liveStatusCounts(ctx: SqlContext): Promise<{ status: string; n: number }[]> {
  return (await ctx.all("SELECT status, COUNT(*) AS n FROM tasks WHERE status != 'archived' GROUP BY status")) as {
    status: string;
    n: number;
  }[];
}

/** Creation time of the oldest ready task, or null when nothing is ready. */
export async function oldestReadyCreatedAt(ctx: SqlContext): Promise<number | null> {
  return (
    (await ctx.get("SELECT MIN(created_at) AS oldest FROM tasks WHERE status = 'ready'")) as { oldest: number | null }
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
  return (
    await ctx.run(
      `DELETE FROM task_events
         WHERE created_at < ?
           AND kind NOT IN (SELECT value FROM json_each(?))
           AND task_id IN (SELECT id FROM tasks WHERE status IN ('done', 'archived'))`,
      cutoff,
      JSON.stringify(keepKinds),
    )
  ).changes;
}
