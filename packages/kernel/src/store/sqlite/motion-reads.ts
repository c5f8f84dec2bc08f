import type { Task } from "../../types.ts";
import { REOPEN_KINDS } from "./respawn-reads.ts";
import type { SqlContext } from "./session.ts";

// The rows the motion judges (motion/explain.ts decides), for any number of tasks in a fixed number
// of statements: the board's cards must not cost a query each.

/** The tasks of `ids` (any order; unknown ids are absent). */
export async function tasksByIds(ctx: SqlContext, ids: readonly string[]): Promise<Task[]> {
  return await ctx.tasks("SELECT * FROM tasks WHERE id IN (SELECT value FROM json_each(?))", JSON.stringify(ids));
}

export interface UnfinishedParentRow {
  child_id: string;
  id: string;
  title: string;
  status: string;
  tenant: string | null;
}

/** Parents of `ids` that are neither done nor archived, oldest link first. */
export async function unfinishedParentsOf(ctx: SqlContext, ids: readonly string[]): Promise<UnfinishedParentRow[]> {
  return (await ctx.all(
    `SELECT l.child_id AS child_id, p.id AS id, p.title AS title, p.status AS status, p.tenant AS tenant
       FROM task_links l JOIN tasks p ON p.id = l.parent_id
      WHERE l.child_id IN (SELECT value FROM json_each(?)) AND p.status NOT IN ('done', 'archived')
      ORDER BY l.child_id, p.created_at, p.id`,
    JSON.stringify(ids),
  )) as UnfinishedParentRow[];
}

export interface ParkEventRow {
  task_id: string;
  kind: string;
  payload: string | null;
  created_at: number;
  id: number;
}

/** The newest `blocked`, `gave_up` and `scheduled` event of each of `ids` (one row per task and kind). */
export async function latestParkEvents(ctx: SqlContext, ids: readonly string[]): Promise<ParkEventRow[]> {
  return (await ctx.all(
    `SELECT e.id AS id, e.task_id AS task_id, e.kind AS kind, e.payload AS payload, e.created_at AS created_at
       FROM task_events e
      WHERE e.id IN (SELECT MAX(id) FROM task_events
                      WHERE task_id IN (SELECT value FROM json_each(?)) AND kind IN ('blocked', 'gave_up', 'scheduled')
                      GROUP BY task_id, kind)`,
    JSON.stringify(ids),
  )) as ParkEventRow[];
}

/** One row of what the respawn guard reads about a ready task (see {@link guardRows}). */
export interface GuardRow {
  task_id: string;
  /** `completed` (the newest completed run's end), `comment` (a comment that may link a PR), or an event kind. */
  kind: string;
  /** The event's payload, or the comment's body; null for `completed`. */
  payload: string | null;
  created_at: number;
}

/**
 * Everything the respawn guard reads about `ids`, in one statement (respawn-reads.ts reads it per
 * task, lazily): each task's newest completed run's end; its reopening and hand-off events since
 * `since`; its comments since `since` that may link a pull request (the guard's regex decides).
 */
/** The events the guard reads: the reopening kinds and the hand-offs (reassignments, review verdicts). */
const GUARD_EVENT_KIND_LIST = [...new Set([...REOPEN_KINDS, "assigned", "changes_requested", "review_reopened"])]
  .map((k) => `'${k}'`)
  .join(", ");

export async function guardRows(ctx: SqlContext, ids: readonly string[], since: number): Promise<GuardRow[]> {
  const list = JSON.stringify(ids);
  return (await ctx.all(
    `SELECT task_id, 'completed' AS kind, NULL AS payload, MAX(ended_at) AS created_at FROM task_runs
      WHERE task_id IN (SELECT value FROM json_each(?)) AND outcome = 'completed' GROUP BY task_id
     UNION ALL
     SELECT task_id, kind, payload, created_at FROM task_events
      WHERE task_id IN (SELECT value FROM json_each(?)) AND created_at >= ?
        AND kind IN (${GUARD_EVENT_KIND_LIST})
     UNION ALL
     SELECT task_id, 'comment', body, created_at FROM task_comments
      WHERE task_id IN (SELECT value FROM json_each(?)) AND created_at >= ? AND lower(body) LIKE '%/pull/%'`,
    list,
    list,
    since,
    list,
    since,
  )) as GuardRow[];
}
