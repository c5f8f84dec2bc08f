import type { BoardContext } from "./context.ts";
import { invalid, notFound } from "./errors.ts";
import { checkFence, type Fence } from "./fencing.ts";
import { commentFromRow, eventFromRow, runFromRow } from "./rows.ts";
import type { TaskComment, TaskEvent, TaskRun } from "./types.ts";

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
    const commentId = Number(
      ctx
        .stmt("INSERT INTO task_comments (task_id, author, body, created_at) VALUES (?, ?, ?, ?)")
        .run(id, a, b, ctx.now()).lastInsertRowid,
    );
    ctx.appendEvent(id, "commented", { author: a, len: b.length });
    return commentId;
  });
}

export function listComments(ctx: BoardContext, id: string): TaskComment[] {
  return (
    ctx.stmt("SELECT * FROM task_comments WHERE task_id = ? ORDER BY created_at ASC, id ASC").all(id) as Record<
      string,
      unknown
    >[]
  ).map(commentFromRow);
}

export function listEvents(ctx: BoardContext, id: string, opts: { limit?: number } = {}): TaskEvent[] {
  if (opts.limit) {
    const rows = ctx
      .stmt("SELECT * FROM task_events WHERE task_id = ? ORDER BY id DESC LIMIT ?")
      .all(id, opts.limit) as Record<string, unknown>[];
    return rows.map(eventFromRow).reverse();
  }
  return (
    ctx.stmt("SELECT * FROM task_events WHERE task_id = ? ORDER BY created_at ASC, id ASC").all(id) as Record<
      string,
      unknown
    >[]
  ).map(eventFromRow);
}

export interface EventStreamFilter {
  task_id?: string | null;
  tenant?: string | null;
  kinds?: string[] | null;
  assignee?: string | null;
  limit?: number;
}

/** Board-wide events after a cursor (the live stream). Ordered by id; at most `limit` (default 200). */
export function eventsAfter(ctx: BoardContext, cursor: number, filter: EventStreamFilter = {}): TaskEvent[] {
  const where = ["e.id > ?"];
  const args: unknown[] = [cursor];
  if (filter.task_id) {
    where.push("e.task_id = ?");
    args.push(filter.task_id);
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
  args.push(Math.max(1, Math.min(filter.limit ?? 200, 1000)));
  const sql = `SELECT e.* FROM task_events e${join ? " JOIN tasks t ON t.id = e.task_id" : ""} WHERE ${where.join(" AND ")} ORDER BY e.id LIMIT ?`;
  return (ctx.stmt(sql).all(...args) as Record<string, unknown>[]).map(eventFromRow);
}

/** The newest event id on the board (0 when empty): where a live stream without a cursor starts. */
export function latestEventId(ctx: BoardContext): number {
  return Number((ctx.stmt("SELECT COALESCE(MAX(id), 0) AS m FROM task_events").get() as { m: number }).m);
}

export function listRuns(ctx: BoardContext, id: string, opts: { include_active?: boolean } = {}): TaskRun[] {
  const rows = ctx.stmt("SELECT * FROM task_runs WHERE task_id = ? ORDER BY started_at ASC, id ASC").all(id) as Record<
    string,
    unknown
  >[];
  const runs = rows.map(runFromRow);
  return opts.include_active === false ? runs.filter((r) => r.ended_at !== null) : runs;
}

export function getRun(ctx: BoardContext, runId: number): TaskRun {
  const row = ctx.stmt("SELECT * FROM task_runs WHERE id = ?").get(runId) as Record<string, unknown> | undefined;
  if (!row) throw notFound(`run ${runId} not found`, { run_id: runId });
  return runFromRow(row);
}

export function activeRun(ctx: BoardContext, id: string): TaskRun | null {
  const row = ctx
    .stmt("SELECT * FROM task_runs WHERE task_id = ? AND ended_at IS NULL ORDER BY id DESC LIMIT 1")
    .get(id) as Record<string, unknown> | undefined;
  return row ? runFromRow(row) : null;
}

export function latestRun(ctx: BoardContext, id: string): TaskRun | null {
  const row = ctx.stmt("SELECT * FROM task_runs WHERE task_id = ? ORDER BY started_at DESC, id DESC LIMIT 1").get(id) as
    | Record<string, unknown>
    | undefined;
  return row ? runFromRow(row) : null;
}

/** Newest non-empty run summary per task, for many tasks in one query. */
export function latestSummaries(ctx: BoardContext, ids?: string[]): Map<string, string> {
  const base = `SELECT task_id, summary FROM (
      SELECT task_id, summary, ROW_NUMBER() OVER (PARTITION BY task_id ORDER BY COALESCE(ended_at, started_at) DESC, id DESC) AS rn
      FROM task_runs WHERE summary IS NOT NULL AND summary != ''%s) WHERE rn = 1`;
  const rows = (
    ids === undefined
      ? ctx.stmt(base.replace("%s", "")).all()
      : ids.length === 0
        ? []
        : ctx.stmt(base.replace("%s", " AND task_id IN (SELECT value FROM json_each(?))")).all(JSON.stringify(ids))
  ) as { task_id: string; summary: string }[];
  return new Map(rows.map((r) => [r.task_id, r.summary]));
}

export function latestSummary(ctx: BoardContext, id: string): string | null {
  return latestSummaries(ctx, [id]).get(id) ?? null;
}
