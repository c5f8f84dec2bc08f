import type { SqlContext } from "./session.ts";
import { runFromRow } from "../../rows.ts";
import { tenantScopeArgs, tenantScopeSql } from "./sql-fragments.ts";
import type { TaskRun } from "../../types.ts";

// Reading a task's attempts (activity.ts, worker-context.ts). Opening and closing runs is the verbs'.

type Row = Record<string, unknown>;

/** Every run of a task, oldest start first. */
export async function runsOf(ctx: SqlContext, taskId: string): Promise<TaskRun[]> {
  return (
    (await ctx.all("SELECT * FROM task_runs WHERE task_id = ? ORDER BY started_at ASC, id ASC", taskId)) as Row[]
  ).map(runFromRow);
}

export async function runById(ctx: SqlContext, runId: number): Promise<TaskRun | null> {
  const row = (await ctx.get("SELECT * FROM task_runs WHERE id = ?", runId)) as Row | undefined;
  return row ? runFromRow(row) : null;
}

/** The task's open run (the newest, should an invariant ever have been broken), or null. */
export async function openRunOf(ctx: SqlContext, taskId: string): Promise<TaskRun | null> {
  const row = (await ctx.get(
    "SELECT * FROM task_runs WHERE task_id = ? AND ended_at IS NULL ORDER BY id DESC LIMIT 1",
    taskId,
  )) as Row | undefined;
  return row ? runFromRow(row) : null;
}

/** The task's most recently started run, or null. */
export async function latestRunOf(ctx: SqlContext, taskId: string): Promise<TaskRun | null> {
  const row = (await ctx.get(
    "SELECT * FROM task_runs WHERE task_id = ? ORDER BY started_at DESC, id DESC LIMIT 1",
    taskId,
  )) as Row | undefined;
  return row ? runFromRow(row) : null;
}

const LATEST_SUMMARIES = `SELECT task_id, summary FROM (
      SELECT task_id, summary, ROW_NUMBER() OVER (PARTITION BY task_id ORDER BY COALESCE(ended_at, started_at) DESC, id DESC) AS rn
      FROM task_runs WHERE summary IS NOT NULL AND summary != ''%s) WHERE rn = 1`;
const LATEST_SUMMARIES_ALL = LATEST_SUMMARIES.replace("%s", "");
const LATEST_SUMMARIES_OF = LATEST_SUMMARIES.replace("%s", " AND task_id IN (SELECT value FROM json_each(?))");

/** Newest non-empty run summary per task (of every task, or of `ids`), in one query. */
export async function latestSummaries(ctx: SqlContext, ids?: string[]): Promise<Map<string, string>> {
  const rows = (
    ids === undefined
      ? await ctx.all(LATEST_SUMMARIES_ALL)
      : ids.length === 0
        ? []
        : await ctx.all(LATEST_SUMMARIES_OF, JSON.stringify(ids))
  ) as { task_id: string; summary: string }[];
  return new Map(rows.map((r) => [r.task_id, r.summary]));
}

/** How many of the task's runs have ended. */
export async function closedRunCount(ctx: SqlContext, taskId: string): Promise<number> {
  return (
    (await ctx.get("SELECT COUNT(*) AS n FROM task_runs WHERE task_id = ? AND ended_at IS NOT NULL", taskId)) as {
      n: number;
    }
  ).n;
}

/** The task's newest `limit` ended runs, newest start first. */
export async function newestClosedRuns(ctx: SqlContext, taskId: string, limit: number): Promise<TaskRun[]> {
  return (
    (await ctx.all(
      "SELECT * FROM task_runs WHERE task_id = ? AND ended_at IS NOT NULL ORDER BY started_at DESC, id DESC LIMIT ?",
      taskId,
      limit,
    )) as Row[]
  ).map(runFromRow);
}

/**
 * Each task's newest ended run (outcome and end; tasks with none are absent), in one query: what the
 * respawn guard's cooldown and expiry rules read for a whole board (motion/explain.ts).
 */
export async function newestClosedRunOf(
  ctx: SqlContext,
  ids: readonly string[],
): Promise<Map<string, { outcome: string | null; ended_at: number }>> {
  if (ids.length === 0) return new Map();
  const rows = (await ctx.all(
    `SELECT task_id, outcome, ended_at FROM (
       SELECT task_id, outcome, ended_at, ROW_NUMBER() OVER (PARTITION BY task_id ORDER BY started_at DESC, id DESC) AS rn
       FROM task_runs WHERE ended_at IS NOT NULL AND task_id IN (SELECT value FROM json_each(?))) AS latest WHERE rn = 1`,
    JSON.stringify(ids),
  )) as { task_id: string; outcome: string | null; ended_at: number }[];
  return new Map(rows.map((r) => [r.task_id, { outcome: r.outcome, ended_at: Number(r.ended_at) }]));
}

/** For each parent of `child`, its newest completed run (parents with none are absent), in one query. */
export async function newestCompletedParentRuns(ctx: SqlContext, child: string): Promise<TaskRun[]> {
  return (
    (await ctx.all(
      `SELECT * FROM (
           SELECT r.*, ROW_NUMBER() OVER (
             PARTITION BY r.task_id ORDER BY COALESCE(r.ended_at, r.started_at) DESC, r.id DESC) AS newest_rank
           FROM task_runs r JOIN task_links l ON l.parent_id = r.task_id
           WHERE l.child_id = ? AND r.outcome = 'completed'
         ) WHERE newest_rank = 1`,
      child,
    )) as Row[]
  ).map(runFromRow);
}

/** A completed run elsewhere, with its task's title and result. */
export interface CompletedWork {
  task_id: string;
  title: string;
  summary: string | null;
  result: string | null;
  finished_at: number;
}

/**
 * `profile`'s newest `limit` completed runs on tasks other than `excludeTask`, confined to `scope`
 * (a tenant; null = every tenant), newest finish first.
 */
export async function recentCompletedWork(
  ctx: SqlContext,
  profile: string,
  excludeTask: string,
  scope: string | null,
  limit: number,
): Promise<CompletedWork[]> {
  return (await ctx.all(
    `SELECT r.task_id, t.title, r.summary, t.result, COALESCE(r.ended_at, r.started_at) AS finished_at
       FROM task_runs r JOIN tasks t ON t.id = r.task_id
       WHERE r.profile = ? AND r.outcome = 'completed' AND r.task_id != ? AND ${tenantScopeSql("t")}
       ORDER BY finished_at DESC, r.id DESC LIMIT ?`,
    profile,
    excludeTask,
    ...tenantScopeArgs(scope),
    limit,
  )) as CompletedWork[];
}

/**
 * The task's newest ended run other than `exceptRun` (the attempt being started), or null: what a
 * retry is told about the attempt before it (previous-run.ts).
 */
export async function previousClosedRun(
  ctx: SqlContext,
  taskId: string,
  exceptRun: number | null,
): Promise<TaskRun | null> {
  const row = (await ctx.get(
    "SELECT * FROM task_runs WHERE task_id = ? AND ended_at IS NOT NULL AND id != ? ORDER BY started_at DESC, id DESC LIMIT 1",
    taskId,
    exceptRun ?? -1,
  )) as Row | undefined;
  return row ? runFromRow(row) : null;
}
