import type { RunOutcome } from "../../constants.ts";
import { jsonOrNull } from "../../rows.ts";
import { CLEAR_CLAIM } from "./sql-fragments.ts";
import type { Task } from "../../types.ts";
import type { Awaitable } from "../port.ts";
import type { SqlContext } from "./session.ts";

// Writes and narrow reads of attempts (`task_runs`): opening one at a claim, closing it at a
// settle or a recovery, the lease/heartbeat/pid bookkeeping of the open one.

/** How a run closes: its status and outcome, the handoff or error, its metadata. */
export interface RunClose {
  status: string;
  /** One of the shared contract's outcomes (spec §1.6): a made-up one does not compile. */
  outcome: RunOutcome;
  summary?: string | null;
  error?: string | null;
  metadata?: Record<string, unknown> | null;
}

export interface RunOpen {
  taskId: string;
  profile: string | null;
  stepKey: string | null;
  claimLock: string;
  claimExpires: number;
  maxRuntimeSeconds: number | null;
  startedAt: number;
}

/** Opens a `running` run for a claim; returns its id. */
export function openRun(ctx: SqlContext, run: RunOpen): Awaitable<number> {
  return ctx.insert(OPEN_RUN_SQL, ...openRunArgs(run));
}

/** The INSERT that opens a run (without `RETURNING`), and its arguments. */
export const OPEN_RUN_SQL = `INSERT INTO task_runs (task_id, profile, step_key, status, claim_lock, claim_expires, max_runtime_seconds, started_at)
         VALUES (?, ?, ?, 'running', ?, ?, ?, ?)`;

export function openRunArgs(run: RunOpen): unknown[] {
  return [run.taskId, run.profile, run.stepKey, run.claimLock, run.claimExpires, run.maxRuntimeSeconds, run.startedAt];
}

/** Whether any run of the task is still open (`ended_at IS NULL`). */
export async function hasOpenRun(ctx: SqlContext, taskId: string): Promise<boolean> {
  return (await ctx.get("SELECT 1 FROM task_runs WHERE task_id = ? AND ended_at IS NULL", taskId)) !== undefined;
}

/** Closes every open run of a task alike, answering their ids ({@link closeOpenRunsArgs} are its arguments). */
export const CLOSE_OPEN_RUNS_SQL = `UPDATE task_runs SET status = ?, outcome = ?, summary = ?, error = ?, metadata = ?, ended_at = ?, ${CLEAR_CLAIM}
      WHERE task_id = ? AND ended_at IS NULL RETURNING id`;

export function closeOpenRunsArgs(taskId: string, close: RunClose, endedAt: number): unknown[] {
  return [
    close.status,
    close.outcome,
    close.summary ?? null,
    close.error ?? null,
    jsonOrNull(close.metadata),
    endedAt,
    taskId,
  ];
}

/**
 * Closes the task's open runs: the newest gets `close`, any older dangling ones are closed as
 * invariant recovery. Leaves `tasks.current_run_id` alone, for callers whose own UPDATE of the task
 * already cleared it. Returns the newest closed run's id, or null when no run was open.
 */
export async function closeOpenRuns(ctx: SqlContext, taskId: string, close: RunClose): Promise<number | null> {
  // One statement in the normal case (one open run): it closes every open run as the newest and
  // answers their ids. Only if an invariant was broken (several open runs) are the older ones then
  // rewritten as superseded, in the same transaction, so the result is as if each were closed apart.
  const closed = (await ctx.all(CLOSE_OPEN_RUNS_SQL, ...closeOpenRunsArgs(taskId, close, ctx.now()))) as {
    id: number | string;
  }[];
  return await supersedeDangling(
    ctx,
    closed.map((r) => Number(r.id)),
  );
}

/**
 * Of the runs one statement just closed alike (`ids`), keeps the newest as closed and rewrites the
 * older ones as superseded by invariant recovery. Returns the newest id, or null when none closed.
 */
export async function supersedeDangling(ctx: SqlContext, ids: number[]): Promise<number | null> {
  if (ids.length === 0) return null;
  const [newest, ...dangling] = [...ids].sort((x, y) => y - x) as [number, ...number[]];
  for (const id of dangling)
    await ctx.run(
      "UPDATE task_runs SET status = 'reclaimed', outcome = 'reclaimed', summary = ?, error = NULL, metadata = NULL WHERE id = ?",
      "invariant recovery: superseded open run",
      id,
    );
  return newest;
}

/**
 * Closes the task's open run ({@link closeOpenRuns}) and clears `current_run_id`. Returns the
 * closed run's id, or null when no run was open.
 */
export async function endRun(ctx: SqlContext, taskId: string, close: RunClose): Promise<number | null> {
  const closed = await closeOpenRuns(ctx, taskId, close);
  await ctx.run("UPDATE tasks SET current_run_id = NULL WHERE id = ? AND current_run_id IS NOT NULL", taskId);
  return closed;
}

/**
 * A zero-length closed run for a never-claimed task that was settled with handoff text. Its
 * status is its outcome (spec §1.6: a synthesized run has started_at == ended_at, status == outcome).
 */
export async function synthesizeRun(
  ctx: SqlContext,
  task: Pick<Task, "id" | "assignee" | "current_step_key">,
  close: RunClose,
): Promise<number> {
  const now = ctx.now();
  return await ctx.insert(
    `INSERT INTO task_runs (task_id, profile, step_key, status, started_at, ended_at, outcome, summary, metadata, error)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    task.id,
    task.assignee,
    task.current_step_key,
    close.outcome,
    now,
    now,
    close.outcome,
    close.summary ?? null,
    jsonOrNull(close.metadata),
    close.error ?? null,
  );
}

/** Moves an open run's lease end (a heartbeat or a recovery extension). */
export async function setRunLease(ctx: SqlContext, runId: number, claimExpires: number): Promise<void> {
  await ctx.run("UPDATE task_runs SET claim_expires = ? WHERE id = ? AND ended_at IS NULL", claimExpires, runId);
}

/** Records an open run's latest heartbeat. */
export async function setRunHeartbeat(ctx: SqlContext, runId: number, at: number): Promise<void> {
  await ctx.run("UPDATE task_runs SET last_heartbeat_at = ? WHERE id = ? AND ended_at IS NULL", at, runId);
}

/** Records the worker pid spawned for an open run. */
export async function setRunWorkerPid(ctx: SqlContext, runId: number, pid: number): Promise<void> {
  await ctx.run("UPDATE task_runs SET worker_pid = ? WHERE id = ? AND ended_at IS NULL", pid, runId);
}

/** The newest run of the task that ended `completed`, or null. */
export async function latestCompletedRunId(ctx: SqlContext, taskId: string): Promise<number | null> {
  const run = (await ctx.get(
    "SELECT id FROM task_runs WHERE task_id = ? AND outcome = 'completed' ORDER BY id DESC LIMIT 1",
    taskId,
  )) as { id: number } | undefined;
  return run?.id ?? null;
}

/** Rewrites a closed run's handoff: its summary, and its metadata when one is given. */
export async function setRunHandoff(
  ctx: SqlContext,
  runId: number,
  summary: string | null,
  metadata: Record<string, unknown> | null | undefined,
): Promise<void> {
  await ctx.run(
    "UPDATE task_runs SET summary = ?, metadata = COALESCE(?, metadata) WHERE id = ?",
    summary,
    jsonOrNull(metadata),
    runId,
  );
}

/** Start times of the given runs, by run id (one query for a whole recovery sweep). */
export async function runStartTimes(ctx: SqlContext, runIds: readonly number[]): Promise<Map<number, number>> {
  if (runIds.length === 0) return new Map();
  const rows = (await ctx.all(
    "SELECT id, started_at FROM task_runs WHERE id IN (SELECT value FROM json_each(?))",
    JSON.stringify(runIds),
  )) as { id: number; started_at: number }[];
  return new Map(rows.map((r) => [r.id, r.started_at]));
}
