import type { BoardContext } from "./context.ts";
import { invalid, notFound } from "./errors.ts";
import { checkFence, type Fence } from "./fencing.ts";
import { commentsOf, insertComment } from "./store/sqlite/comments.ts";
import { type EventStreamFilter, eventStream, eventsOf, lastEventsOf, maxEventId } from "./store/sqlite/event-reads.ts";
import * as runReads from "./store/sqlite/run-reads.ts";
import type { TaskComment, TaskEvent, TaskRun } from "./types.ts";

export type { EventStreamFilter };

/**
 * Adds a comment (event `commented`). A worker commenting on its own task may pass its fence, so a
 * reclaimed worker cannot keep talking as if it still owned the attempt.
 */
export function addComment(ctx: BoardContext, id: string, author: string, body: string, fence: Fence = {}): number {
  const a = String(author ?? "").trim();
  const b = String(body ?? "").trim();
  if (b === "") throw invalid("comment body is required");
  if (a === "") throw invalid("comment author is required");
  return ctx.tx(() => {
    const task = ctx.getTask(id);
    if (!task) throw notFound(`unknown task ${id}`, { task_id: id });
    checkFence(task, fence);
    return recordComment(ctx, id, a, b);
  });
}

/**
 * Stores a checked comment (trimmed, non-blank author and body) and its `commented` event, inside
 * the caller's transaction: a verb that records its reason as a comment (block, schedule, unblock)
 * keeps the status change and the comment together or neither.
 */
export function recordComment(ctx: BoardContext, id: string, author: string, body: string): number {
  const commentId = insertComment(ctx, id, author, body, ctx.now());
  ctx.appendEvent(id, "commented", { author, len: body.length });
  return commentId;
}

export function listComments(ctx: BoardContext, id: string): TaskComment[] {
  return commentsOf(ctx, id);
}

export function listEvents(ctx: BoardContext, id: string, opts: { limit?: number } = {}): TaskEvent[] {
  return opts.limit ? lastEventsOf(ctx, id, opts.limit) : eventsOf(ctx, id);
}

/** Board-wide events after a cursor (the live stream). Ordered by id; at most `limit` (default 200). */
export function eventsAfter(ctx: BoardContext, cursor: number, filter: EventStreamFilter = {}): TaskEvent[] {
  return eventStream(ctx, cursor, filter, Math.max(1, Math.min(filter.limit ?? 200, 1000)));
}

/** The newest event id on the board (0 when empty): where a live stream without a cursor starts. */
export function latestEventId(ctx: BoardContext): number {
  return maxEventId(ctx);
}

export function listRuns(ctx: BoardContext, id: string, opts: { include_active?: boolean } = {}): TaskRun[] {
  const runs = runReads.runsOf(ctx, id);
  return opts.include_active === false ? runs.filter((r) => r.ended_at !== null) : runs;
}

export function getRun(ctx: BoardContext, runId: number): TaskRun {
  const run = runReads.runById(ctx, runId);
  if (!run) throw notFound(`run ${runId} not found`, { run_id: runId });
  return run;
}

export function activeRun(ctx: BoardContext, id: string): TaskRun | null {
  return runReads.openRunOf(ctx, id);
}

export function latestRun(ctx: BoardContext, id: string): TaskRun | null {
  return runReads.latestRunOf(ctx, id);
}

/** Newest non-empty run summary per task, for many tasks in one query. */
export function latestSummaries(ctx: BoardContext, ids?: string[]): Map<string, string> {
  return runReads.latestSummaries(ctx, ids);
}

export function latestSummary(ctx: BoardContext, id: string): string | null {
  return latestSummaries(ctx, [id]).get(id) ?? null;
}
