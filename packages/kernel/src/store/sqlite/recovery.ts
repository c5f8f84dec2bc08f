import { CLEAR_CLAIM } from "./sql-fragments.ts";
import type { Task } from "../../types.ts";
import type { SqlContext } from "./session.ts";
import { sourcePhase } from "./review-reads.ts";
import { swapStatus } from "./tasks.ts";

// What the recovery sweeps read (each set of running tasks in one query: every sweep runs on every
// dispatcher tick) and the releases they write, each compare-and-swapped on the claim they saw.

/** Running tasks whose lease ended before `now`. */
export async function expiredClaims(ctx: SqlContext, now: number): Promise<Task[]> {
  return await ctx.tasks("SELECT * FROM tasks WHERE status = 'running' AND claim_expires < ? ORDER BY id", now);
}

/** Running tasks with a recorded worker pid. */
export async function runningWithWorker(ctx: SqlContext): Promise<Task[]> {
  return await ctx.tasks("SELECT * FROM tasks WHERE status = 'running' AND worker_pid IS NOT NULL ORDER BY id");
}

/** Running tasks with a worker pid and a runtime cap. */
export async function runningWithRuntimeCap(ctx: SqlContext): Promise<Task[]> {
  return await ctx.tasks(
    "SELECT * FROM tasks WHERE status = 'running' AND max_runtime_seconds IS NOT NULL AND worker_pid IS NOT NULL ORDER BY id",
  );
}

/**
 * Running tasks whose attempt started before `startedBefore` and whose last heartbeat (if any) is
 * older than `heartbeatBefore`. The filter runs in SQL so that a board with thousands of healthy
 * running tasks does not load them every tick.
 */
export async function staleCandidates(
  ctx: SqlContext,
  startedBefore: number,
  heartbeatBefore: number,
): Promise<Task[]> {
  return await ctx.tasks(
    `SELECT t.* FROM tasks t LEFT JOIN task_runs r ON r.id = t.current_run_id
     WHERE t.status = 'running' AND COALESCE(r.started_at, t.started_at) < ?
       AND (t.last_heartbeat_at IS NULL OR t.last_heartbeat_at < ?)
     ORDER BY t.id`,
    startedBefore,
    heartbeatBefore,
  );
}

/**
 * `requeue`: a running task goes back to ready (a reviewer run: to review) with its claim released,
 * if it still holds the lock and run it was read with. `clearHeartbeat` also forgets its last heartbeat (a timed-out attempt).
 */
export async function requeueRunning(
  ctx: SqlContext,
  task: Pick<Task, "id" | "claim_lock" | "current_run_id">,
  opts: { clearHeartbeat?: boolean } = {},
): Promise<boolean> {
  return (
    (await swapStatus(ctx, "requeue", task.id, {
      to: await sourcePhase(ctx, task.id),
      set: opts.clearHeartbeat ? `${CLEAR_CLAIM}, last_heartbeat_at = NULL` : CLEAR_CLAIM,
      where: "claim_lock IS ? AND current_run_id IS ?",
      whereArgs: [task.claim_lock, task.current_run_id],
    })) === 1
  );
}

/** Moves an expired lease to `expires`, if the claim and its old lease end are still the ones read. */
export async function extendExpiredLease(
  ctx: SqlContext,
  task: Pick<Task, "id" | "claim_lock" | "claim_expires">,
  expires: number,
): Promise<boolean> {
  return (
    (
      await ctx.run(
        "UPDATE tasks SET claim_expires = ? WHERE id = ? AND status = 'running' AND claim_lock IS ? AND claim_expires = ?",
        expires,
        task.id,
        task.claim_lock,
        task.claim_expires,
      )
    ).changes === 1
  );
}

/** `reclaim` (an operator's): back to ready (a reviewer run: review) with the claim `lock` released and a fresh retry budget. */
export async function releaseClaim(ctx: SqlContext, id: string, lock: string | null): Promise<boolean> {
  return (
    (await swapStatus(ctx, "reclaim", id, {
      to: await sourcePhase(ctx, id),
      set: `${CLEAR_CLAIM}, consecutive_failures = 0, last_failure_error = NULL`,
      where: "claim_lock IS ?",
      whereArgs: [lock],
    })) === 1
  );
}
