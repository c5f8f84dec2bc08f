import type { BoardContext } from "./context.ts";
import { invalid, notFound } from "./errors.ts";
import { checkFence, type Fence } from "./fencing.ts";
import { commentCount, commentsBefore, commentsOf, insertComment } from "./store/sqlite/comments.ts";
import { type EventStreamFilter, eventStream, eventsOf, lastEventsOf, maxEventId } from "./store/sqlite/event-reads.ts";
import * as runReads from "./store/sqlite/run-reads.ts";
import type { TaskComment, TaskEvent, TaskRun } from "./types.ts";

export type { EventStreamFilter };

/**
 * Adds a comment (event `commented`). A worker commenting on its own task may pass its fence, so a
 * reclaimed worker cannot keep talking as if it still owned the attempt.
 */
export async function addComment(
  ctx: BoardContext,
  id: string,
  author: string,
  body: string,
  fence: Fence = {},
): Promise<number> {
  const a = String(author ?? "").trim();
  const b = String(body ?? "").trim();
  if (b === "") throw invalid("comment body is required");
  if (a === "") throw invalid("comment author is required");
  return await ctx.tx(async () => {
    const task = await ctx.getTask(id);
    if (!task) throw notFound(`unknown task ${id}`, { task_id: id });
    checkFence(task, fence);
    return await recordComment(ctx, id, a, b);
  });
}

/**
 * Stores a checked comment (trimmed, non-blank author and body) and its `commented` event, inside
 * the caller's transaction: a verb that records its reason as a comment (block, schedule, unblock)
 * keeps the status change and the comment together or neither.
 */
export async function recordComment(ctx: BoardContext, id: string, author: string, body: string): Promise<number> {
  const commentId = await insertComment(ctx, id, author, body, ctx.now());
  await ctx.appendEvent(id, "commented", { author, len: body.length });
  return commentId;
}

export async function listComments(ctx: BoardContext, id: string): Promise<TaskComment[]> {
  return await commentsOf(ctx, id);
}

/**
 * One page of a task's comments, oldest first: the `limit` just before comment `before` (the newest
 * when null), and whether earlier ones remain. A drawer opens on the newest page and pages back.
 */
export async function commentPage(
  ctx: BoardContext,
  id: string,
  opts: { before: number | null; limit: number },
): Promise<{ comments: TaskComment[]; more: boolean }> {
  const newestFirst = await commentsBefore(ctx, id, opts.before, opts.limit + 1);
  const more = newestFirst.length > opts.limit;
  return { comments: newestFirst.slice(0, opts.limit).reverse(), more };
}

export async function commentTotal(ctx: BoardContext, id: string): Promise<number> {
  return Number(await commentCount(ctx, id));
}

export async function listEvents(ctx: BoardContext, id: string, opts: { limit?: number } = {}): Promise<TaskEvent[]> {
  return opts.limit ? await lastEventsOf(ctx, id, opts.limit) : await eventsOf(ctx, id);
}

/** Board-wide events after a cursor (the live stream). Ordered by id; at most `limit` (default 200). */
export async function eventsAfter(
  ctx: BoardContext,
  cursor: number,
  filter: EventStreamFilter = {},
): Promise<TaskEvent[]> {
  return await eventStream(ctx, cursor, filter, Math.max(1, Math.min(filter.limit ?? 200, 1000)));
}

/** The newest event id on the board (0 when empty): where a live stream without a cursor starts. */
export async function latestEventId(ctx: BoardContext): Promise<number> {
  return await maxEventId(ctx);
}

export async function listRuns(
  ctx: BoardContext,
  id: string,
  opts: { include_active?: boolean } = {},
): Promise<TaskRun[]> {
  const runs = await runReads.runsOf(ctx, id);
  return opts.include_active === false ? runs.filter((r) => r.ended_at !== null) : runs;
}

export async function getRun(ctx: BoardContext, runId: number): Promise<TaskRun> {
  const run = await runReads.runById(ctx, runId);
  if (!run) throw notFound(`run ${runId} not found`, { run_id: runId });
  return run;
}

export async function activeRun(ctx: BoardContext, id: string): Promise<TaskRun | null> {
  return await runReads.openRunOf(ctx, id);
}

export async function latestRun(ctx: BoardContext, id: string): Promise<TaskRun | null> {
  return await runReads.latestRunOf(ctx, id);
}

/** Newest non-empty run summary per task, for many tasks in one query. */
export async function latestSummaries(ctx: BoardContext, ids?: string[]): Promise<Map<string, string>> {
  return await runReads.latestSummaries(ctx, ids);
}

export async function latestSummary(ctx: BoardContext, id: string): Promise<string | null> {
  return (await latestSummaries(ctx, [id])).get(id) ?? null;
}
