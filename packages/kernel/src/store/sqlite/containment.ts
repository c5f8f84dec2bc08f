import type { SqlContext } from "./session.ts";

// What the dispatcher's containment sweep asks of the board: are the runs whose processes it found
// on this host still the live work of their tasks?

/** One run as the sweep judges it; `task_id` null when neither the run nor its task exists any more. */
export interface RunState {
  run_id: number;
  task_id: string | null;
  ended_at: number | null;
  outcome: string | null;
  worker_pid: number | null;
  task_status: string | null;
  task_current_run_id: number | null;
}

/** The rows of `runIds` (a run deleted with its task has none), with its task's status and current run. */
export async function runStates(ctx: SqlContext, runIds: readonly number[]): Promise<RunState[]> {
  if (runIds.length === 0) return [];
  return (await ctx.all(
    `SELECT r.id AS run_id, r.task_id, r.ended_at, r.outcome, r.worker_pid,
         t.status AS task_status, t.current_run_id AS task_current_run_id
       FROM task_runs r LEFT JOIN tasks t ON t.id = r.task_id
       WHERE r.id IN (SELECT value FROM json_each(?))`,
    JSON.stringify(runIds),
  )) as RunState[];
}
