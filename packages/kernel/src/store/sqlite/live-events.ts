import type { BoardContext } from "../../context.ts";

// The live stream's feed (moved from the API's live watcher; the newest id is activity.latestEventId).

/** Event rows after `afterId` with their task's tenant and assignee, oldest first: a live stream's feed. */
export function liveEventRows(ctx: BoardContext, afterId: number, limit: number): Record<string, unknown>[] {
  return ctx
    .stmt(
      `SELECT e.id, e.task_id, e.run_id, e.kind, e.payload, e.created_at, t.tenant, t.assignee
       FROM task_events e LEFT JOIN tasks t ON t.id = e.task_id WHERE e.id > ? ORDER BY e.id LIMIT ?`,
    )
    .all(afterId, limit) as Record<string, unknown>[];
}
