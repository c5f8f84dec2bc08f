import type { BoardContext } from "../../context.ts";

/** The ready lane's order: highest priority first, then oldest, then first inserted. */
export const LANE_ORDER = "priority DESC, created_at ASC, rowid ASC";

// The dispatcher's reads of the ready lane and of running work (moved from packages/dispatcher's
// dispatch-once.ts and dispatcher.ts as they were: same statements, now cached by ctx.stmt).

export interface LaneRow {
  id: string;
  assignee: string | null;
  tenant: string | null;
}

/**
 * Ready, unclaimed tasks in the order the dispatcher takes them: priority, then age, then creation
 * order (rowid) among tasks of the same second. The partial index (migration 0002) is in
 * priority/age order, so only ties within one second are sorted.
 */
export async function readyLaneRows(ctx: BoardContext): Promise<LaneRow[]> {
  return (await ctx.all(
    `SELECT id, assignee, tenant FROM tasks INDEXED BY idx_tasks_ready_priority WHERE status = 'ready' AND claim_lock IS NULL ORDER BY ${LANE_ORDER}`,
  )) as LaneRow[];
}

/**
 * Which of a JSON list of ids are still ready and unclaimed. The status test is an expression so that
 * SQLite looks each id up by its key. Written `status = 'ready'`, an unanalyzed board's planner took
 * idx_tasks_status and read every ready task for each window of 64 ids: 0.48 ms a call at 2,000 ready
 * tasks against 0.06 ms, and a walk over a lane of 20,000 with nothing to start made 300 such calls
 * (a dispatcher tick of 7.5 s). PostgreSQL finds the ids by key either way (`id = ANY(…)`, translate.ts).
 */
export const STILL_READY_SQL =
  "SELECT id FROM tasks WHERE id IN (SELECT value FROM json_each(?)) AND coalesce(status, '') = 'ready' AND claim_lock IS NULL";

/**
 * Which of `ids` are still ready and unclaimed: another claimer (a second dispatcher, a worker
 * pulling work) may have taken lane rows since the lane was read, and finding that out one row at a
 * time would cost a claim attempt each.
 */
export async function stillReady(ctx: BoardContext, ids: readonly string[]): Promise<Set<string>> {
  const rows = (await ctx.all(STILL_READY_SQL, JSON.stringify(ids))) as { id: string }[];
  return new Set(rows.map((r) => r.id));
}

/** How many tasks are running on this board (the dispatcher's max_spawn / max_in_progress budgets). */
export async function runningCount(ctx: BoardContext): Promise<number> {
  return ((await ctx.get("SELECT COUNT(*) AS n FROM tasks WHERE status = 'running'")) as { n: number }).n;
}

/** Running tasks per assignee (max_in_progress_per_profile). */
export async function runningPerProfile(ctx: BoardContext): Promise<Map<string, number>> {
  const rows = (await ctx.all(
    "SELECT assignee, COUNT(*) AS n FROM tasks WHERE status = 'running' AND assignee IS NOT NULL GROUP BY assignee",
  )) as { assignee: string; n: number }[];
  return new Map(rows.map((r) => [r.assignee, r.n]));
}

/** Running tasks claimed by `lock` that never recorded a worker pid (a claimer that died before spawning). */
export async function unspawnedClaims(ctx: BoardContext, lock: string): Promise<string[]> {
  const rows = (await ctx.all(
    "SELECT id FROM tasks WHERE status = 'running' AND claim_lock = ? AND worker_pid IS NULL",
    lock,
  )) as { id: string }[];
  return rows.map((r) => r.id);
}

export interface RunningWorkerRow {
  task_id: string;
  pid: number;
  run_id: number | null;
  started_at: number;
}

/** Running tasks with a recorded worker pid, by task id (the dispatcher's status file). */
export async function runningWorkers(ctx: BoardContext): Promise<RunningWorkerRow[]> {
  const rows = (await ctx.all(
    "SELECT id, worker_pid, current_run_id, started_at FROM tasks WHERE status = 'running' AND worker_pid IS NOT NULL ORDER BY id",
  )) as { id: string; worker_pid: number; current_run_id: number | null; started_at: number | null }[];
  return rows.map((r) => ({
    task_id: r.id,
    pid: r.worker_pid,
    run_id: r.current_run_id,
    started_at: r.started_at ?? 0,
  }));
}
