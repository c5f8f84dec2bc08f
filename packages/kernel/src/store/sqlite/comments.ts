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
  return Number(
    ctx
      .stmt("INSERT INTO task_comments (task_id, author, body, created_at) VALUES (?, ?, ?, ?)")
      .run(taskId, author, body, at).lastInsertRowid,
  );
}

/** Every comment of a task, oldest first. */
export async function commentsOf(ctx: SqlContext, taskId: string): Promise<TaskComment[]> {
  return (
    ctx.stmt("SELECT * FROM task_comments WHERE task_id = ? ORDER BY created_at ASC, id ASC").all(taskId) as Row[]
  ).map(commentFromRow);
}

export async function commentCount(ctx: SqlContext, taskId: string): Promise<number> {
  return (ctx.stmt("SELECT COUNT(*) AS n FROM task_comments WHERE task_id = ?").get(taskId) as { n: number }).n;
}

/** The task's newest `limit` comments, newest first. */
export async function newestComments(ctx: SqlContext, taskId: string, limit: number): Promise<TaskComment[]> {
  return (
    ctx
      .stmt("SELECT * FROM task_comments WHERE task_id = ? ORDER BY created_at DESC, id DESC LIMIT ?")
      .all(taskId, limit) as Row[]
  ).map(commentFromRow);
}
