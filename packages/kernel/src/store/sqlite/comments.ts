import type { SqlContext } from "./session.ts";
import { commentFromRow } from "../../rows.ts";
import type { TaskComment } from "../../types.ts";

// A task's comment thread (activity.ts, worker-context.ts).

type Row = Record<string, unknown>;

/** Stores one comment; returns its id. */
export async function insertComment(
  ctx: SqlContext,
  taskId: string,
  author: string,
  body: string,
  at: number,
): Promise<number> {
  return await ctx.insert(
    "INSERT INTO task_comments (task_id, author, body, created_at) VALUES (?, ?, ?, ?)",
    taskId,
    author,
    body,
    at,
  );
}

/** Every comment of a task, oldest first. */
export async function commentsOf(ctx: SqlContext, taskId: string): Promise<TaskComment[]> {
  return (
    (await ctx.all("SELECT * FROM task_comments WHERE task_id = ? ORDER BY created_at ASC, id ASC", taskId)) as Row[]
  ).map(commentFromRow);
}

export async function commentCount(ctx: SqlContext, taskId: string): Promise<number> {
  return ((await ctx.get("SELECT COUNT(*) AS n FROM task_comments WHERE task_id = ?", taskId)) as { n: number }).n;
}

/** The task's newest `limit` comments, newest first. */
export async function newestComments(ctx: SqlContext, taskId: string, limit: number): Promise<TaskComment[]> {
  return (
    (await ctx.all(
      "SELECT * FROM task_comments WHERE task_id = ? ORDER BY created_at DESC, id DESC LIMIT ?",
      taskId,
      limit,
    )) as Row[]
  ).map(commentFromRow);
}

/**
 * Up to `limit` comments of a task before comment `beforeId` (the newest when null), newest first:
 * one page of a long discussion. Keyset on (created_at, id), the order the drawer shows them in.
 */
export async function commentsBefore(
  ctx: SqlContext,
  taskId: string,
  beforeId: number | null,
  limit: number,
): Promise<TaskComment[]> {
  if (beforeId === null) return await newestComments(ctx, taskId, limit);
  return (
    (await ctx.all(
      `SELECT c.* FROM task_comments c, (SELECT created_at, id FROM task_comments WHERE id = ? AND task_id = ?) k
        WHERE c.task_id = ? AND (c.created_at < k.created_at OR (c.created_at = k.created_at AND c.id < k.id))
        ORDER BY c.created_at DESC, c.id DESC LIMIT ?`,
      beforeId,
      taskId,
      taskId,
      limit,
    )) as Row[]
  ).map(commentFromRow);
}
