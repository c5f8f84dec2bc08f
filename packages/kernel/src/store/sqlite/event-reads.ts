import type { SqlContext } from "./session.ts";
import { eventFromRow } from "../../rows.ts";
import { eventReadBound } from "../pg/event-horizon.ts";
import type { TaskEvent } from "../../types.ts";

// Reading the event log (activity.ts, notify.ts). Appending to it is events.ts's appendEvent.

type Row = Record<string, unknown>;

/** Which events a board-wide stream wants (activity.ts's eventsAfter). */
export interface EventStreamFilter {
  task_id?: string | null;
  tenant?: string | null;
  kinds?: string[] | null;
  assignee?: string | null;
  limit?: number;
}

/** Every event of a task, oldest first. */
export async function eventsOf(ctx: SqlContext, taskId: string): Promise<TaskEvent[]> {
  return (
    (await ctx.all("SELECT * FROM task_events WHERE task_id = ? ORDER BY created_at ASC, id ASC", taskId)) as Row[]
  ).map(eventFromRow);
}

/** The task's newest `limit` events, oldest of them first. */
export async function lastEventsOf(ctx: SqlContext, taskId: string, limit: number): Promise<TaskEvent[]> {
  const rows = (await ctx.all(
    "SELECT * FROM task_events WHERE task_id = ? ORDER BY id DESC LIMIT ?",
    taskId,
    limit,
  )) as Row[];
  return rows.map(eventFromRow).reverse();
}

/** A task's events after event id `afterId`, by id. */
export async function taskEventsAfter(ctx: SqlContext, taskId: string, afterId: number): Promise<TaskEvent[]> {
  return (
    (await ctx.all("SELECT * FROM task_events WHERE task_id = ? AND id > ? ORDER BY id", taskId, afterId)) as Row[]
  ).map(eventFromRow);
}

/** The newest event id of one task (0 when it has none). */
export async function maxTaskEventId(ctx: SqlContext, taskId: string): Promise<number> {
  const r = (await ctx.get("SELECT COALESCE(MAX(id), 0) AS m FROM task_events WHERE task_id = ?", taskId)) as {
    m: number;
  };
  return Number(r.m);
}

/**
 * The newest event id on the board (0 when empty). On PostgreSQL the newest settled one (see
 * eventReadBound): a cursor taken from it must not pass an event still being committed.
 */
export async function maxEventId(ctx: SqlContext): Promise<number> {
  const bound = await eventReadBound(ctx);
  if (bound !== null)
    return Number(
      ((await ctx.get("SELECT COALESCE(MAX(id), 0) AS m FROM task_events WHERE id <= ?", bound)) as { m: number }).m,
    );
  return Number(((await ctx.get("SELECT COALESCE(MAX(id), 0) AS m FROM task_events")) as { m: number }).m);
}

/**
 * Board-wide events after `cursor` that match `filter` (its `limit` is ignored: pass `limit`), by id.
 * Joins the tasks only when the filter needs their tenant or assignee. On PostgreSQL a board-wide
 * read stops at the newest settled id (eventReadBound), so a later read from its last id misses nothing.
 */
export async function eventStream(
  ctx: SqlContext,
  cursor: number,
  filter: EventStreamFilter,
  limit: number,
): Promise<TaskEvent[]> {
  const where = ["e.id > ?"];
  const args: unknown[] = [cursor];
  if (filter.task_id) {
    where.push("e.task_id = ?");
    args.push(filter.task_id);
  } else {
    const bound = await eventReadBound(ctx);
    if (bound !== null) {
      where.push("e.id <= ?");
      args.push(bound);
    }
  }
  if (filter.kinds && filter.kinds.length > 0) {
    where.push(`e.kind IN (${filter.kinds.map(() => "?").join(", ")})`);
    args.push(...filter.kinds);
  }
  const join = filter.tenant || filter.assignee;
  if (filter.tenant) {
    where.push("t.tenant = ?");
    args.push(filter.tenant);
  }
  if (filter.assignee) {
    where.push("t.assignee = ?");
    args.push(filter.assignee);
  }
  args.push(limit);
  const sql = `SELECT e.* FROM task_events e${join ? " JOIN tasks t ON t.id = e.task_id" : ""} WHERE ${where.join(" AND ")} ORDER BY e.id LIMIT ?`;
  return ((await ctx.all(sql, ...args)) as Row[]).map(eventFromRow);
}
