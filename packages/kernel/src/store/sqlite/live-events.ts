import type { BoardContext } from "../../context.ts";
import { eventFromRow } from "../../rows.ts";
import { eventReadBound } from "../pg/event-horizon.ts";
import type { TaskEvent } from "../../types.ts";

// The live stream's feed (moved from the API's live watcher; the newest id is activity.latestEventId).

/** An event with its task's tenant and assignee (null once the task is gone; a tombstone keeps the tenant), for filtering a live stream. */
export type LiveEventRow = TaskEvent & { tenant: string | null; assignee: string | null };

/**
 * Events after `afterId` with their task's tenant and assignee, oldest first: a live stream's feed.
 * On PostgreSQL no further than the newest settled id (eventReadBound), so the stream's next read
 * from its last id misses no event committed late.
 */
export async function liveEventRows(ctx: BoardContext, afterId: number, limit: number): Promise<LiveEventRow[]> {
  const bound = await eventReadBound(ctx);
  const rows = (await ctx.all(
    `SELECT e.id, e.task_id, e.run_id, e.kind, e.payload, e.created_at, t.tenant, t.assignee
       FROM task_events e LEFT JOIN tasks t ON t.id = e.task_id WHERE e.id > ?${bound === null ? "" : " AND e.id <= ?"} ORDER BY e.id LIMIT ?`,
    afterId,
    ...(bound === null ? [] : [bound]),
    limit,
  )) as Record<string, unknown>[];
  return rows.map((r) => {
    const event = eventFromRow(r);
    // A deleted task's tombstone names the tenant it had, so that the tenant's own streams see it go.
    const tenant = r.tenant ?? (event.kind === "deleted" ? event.payload?.tenant : null);
    return {
      ...event,
      tenant: tenant === null || tenant === undefined ? null : String(tenant),
      assignee: r.assignee === null || r.assignee === undefined ? null : String(r.assignee),
    };
  });
}
