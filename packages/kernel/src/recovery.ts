import { DEFAULT_CLAIM_TTL_SECONDS, DEFAULT_CRASH_GRACE_SECONDS, STALE_HEARTBEAT_GAP_SECONDS } from "./constants.ts";
import type { BoardContext } from "./context.ts";
import { notFound, wrongState } from "./errors.ts";
import { recordTaskFailure } from "./breaker.ts";
import { claimHolder, type Termination } from "./termination.ts";
import type { Task } from "./types.ts";
import { transition } from "./transition.ts";
import { CLEAR_CLAIM } from "./transitions.ts";

/** How a worker process ended, as its parent (the dispatcher) observed when reaping it. */
export interface ExitStatus {
  code: number | null;
  signal: string | null;
}

export interface RecoveryOptions {
  failureLimit?: number | null;
  claimTtlSeconds?: number;
}

/** Running tasks matching `extraWhere`, in one read (every sweep runs on every tick). */
function runningTasks(ctx: BoardContext, extraWhere: string, ...args: unknown[]): Task[] {
  return ctx.tasks(`SELECT * FROM tasks WHERE status = 'running' ${extraWhere} ORDER BY id`, ...args);
}

/**
 * When each task's current attempt started (its open run's start, else the task's first start), for
 * a whole sweep in one query.
 */
function attemptStarts(ctx: BoardContext, tasks: Task[]): (task: Task) => number | null {
  const runIds = tasks.map((t) => t.current_run_id).filter((id): id is number => id !== null);
  const starts =
    runIds.length === 0
      ? new Map<number, number>()
      : new Map(
          (
            ctx
              .stmt("SELECT id, started_at FROM task_runs WHERE id IN (SELECT value FROM json_each(?))")
              .all(JSON.stringify(runIds)) as {
              id: number;
              started_at: number;
            }[]
          ).map((r) => [r.id, r.started_at]),
        );
  return (task) => (task.current_run_id === null ? undefined : starts.get(task.current_run_id)) ?? task.started_at;
}

/** Moves a running task back to `ready`, compare-and-swapped on the lock it had. */
function requeue(ctx: BoardContext, task: Task, extraSet = ""): boolean {
  return (
    transition(ctx, "requeue", task.id, {
      to: "ready",
      set: `${CLEAR_CLAIM}${extraSet}`,
      where: "claim_lock IS ? AND current_run_id IS ?",
      whereArgs: [task.claim_lock, task.current_run_id],
    }) === 1
  );
}

function heartbeatStale(task: Task, now: number): boolean {
  return task.last_heartbeat_at !== null && now - task.last_heartbeat_at > STALE_HEARTBEAT_GAP_SECONDS;
}

/**
 * Claims whose lease expired. A host-local worker that is still alive and heartbeating gets its
 * lease extended (`claim_extended`); otherwise the task is requeued (`reclaimed`) and its worker, if
 * any, is reported for termination. Each automatic reclaim also counts against the breaker, so a
 * claim→expire loop cannot spin forever (Hermes fixed this after the May 2026 snapshot).
 */
export function releaseStaleClaims(
  ctx: BoardContext,
  opts: RecoveryOptions = {},
): { reclaimed: string[]; extended: string[]; terminate: Termination[] } {
  const now = ctx.now();
  const out = { reclaimed: [] as string[], extended: [] as string[], terminate: [] as Termination[] };
  for (const task of runningTasks(ctx, "AND claim_expires < ?", now)) {
    const alive = task.worker_pid !== null && ctx.isHostLocal(task.claim_lock) && ctx.isPidAlive(task.worker_pid);
    const stale = heartbeatStale(task, now);
    if (alive && !stale) {
      const extendedTo = now + (opts.claimTtlSeconds ?? DEFAULT_CLAIM_TTL_SECONDS);
      const ok = ctx.tx(() => {
        if (
          ctx
            .stmt(
              "UPDATE tasks SET claim_expires = ? WHERE id = ? AND status = 'running' AND claim_lock IS ? AND claim_expires = ?",
            )
            .run(extendedTo, task.id, task.claim_lock, task.claim_expires).changes !== 1
        ) {
          return false;
        }
        if (task.current_run_id !== null)
          ctx.stmt("UPDATE task_runs SET claim_expires = ? WHERE id = ?").run(extendedTo, task.current_run_id);
        ctx.appendEvent(
          task.id,
          "claim_extended",
          {
            reason: "pid_alive",
            worker_pid: task.worker_pid,
            claim_lock: task.claim_lock,
            claim_expires_was: task.claim_expires,
            claim_expires_now: extendedTo,
            last_heartbeat_at: task.last_heartbeat_at,
          },
          task.current_run_id,
        );
        return true;
      });
      if (ok) out.extended.push(task.id);
      continue;
    }
    // Requeue, close the run, record the event and book the failure in ONE transaction, so a crash
    // in between can neither lose the failure nor leave a requeued task without its reclaim record.
    const requeued = ctx.tx(() => {
      if (!requeue(ctx, task)) return false;
      const payload = {
        stale_lock: task.claim_lock,
        worker_pid: task.worker_pid,
        claim_expires: task.claim_expires,
        last_heartbeat_at: task.last_heartbeat_at,
        now,
        host_local: ctx.isHostLocal(task.claim_lock),
        heartbeat_stale: stale,
      };
      const runId = ctx.endRun(task.id, {
        status: "reclaimed",
        outcome: "reclaimed",
        error: `stale_lock=${task.claim_lock}`,
        metadata: payload,
      });
      ctx.appendEvent(task.id, "reclaimed", payload, runId);
      recordTaskFailure(ctx, task.id, {
        error: `claim expired (lock ${task.claim_lock})`,
        outcome: "reclaimed",
        failureLimit: opts.failureLimit,
      });
      return true;
    });
    if (!requeued) continue;
    out.reclaimed.push(task.id);
    const t = alive ? claimHolder(ctx, task) : null;
    if (t) out.terminate.push(t);
  }
  return out;
}

/** Normalises a crash message so that the same failure on several tasks is recognised as one. */
function crashFingerprint(error: string): string {
  return error
    .slice(0, 80)
    .replace(/pid \d+/g, "pid N")
    .replace(/\d{10,}/g, "<TS>")
    .toLowerCase();
}

/**
 * Running tasks whose host-local worker is gone (after a grace period from the attempt's start).
 * Exit 0 while still running is a protocol violation (the worker never settled its task) and trips
 * the breaker at once; other exits count as crashes. Three or more crashes with the same message in
 * one sweep are systemic (a broken profile, a missing binary): each of them trips at once.
 */
export function detectCrashedWorkers(
  ctx: BoardContext,
  opts: RecoveryOptions & { graceSeconds?: number; exitStatus?: (pid: number) => ExitStatus | undefined } = {},
): { crashed: string[]; protocol_violations: string[]; auto_blocked: string[] } {
  const now = ctx.now();
  const grace = opts.graceSeconds ?? DEFAULT_CRASH_GRACE_SECONDS;
  const dead: { task: Task; pid: number; exit: ExitStatus | undefined; error: string; violation: boolean }[] = [];
  const candidates = runningTasks(ctx, "AND worker_pid IS NOT NULL");
  const attemptStartedAt = attemptStarts(ctx, candidates);
  for (const task of candidates) {
    if (!ctx.isHostLocal(task.claim_lock) || task.worker_pid === null) continue;
    const pid = task.worker_pid;
    // A reaped child of the caller has certainly exited: its crash is recorded at once. The grace
    // only covers pids we cannot wait on (another process's workers).
    const exit = opts.exitStatus?.(pid);
    const started = attemptStartedAt(task) ?? now;
    if (exit === undefined && now - started < grace) continue;
    if (ctx.isPidAlive(pid)) continue;
    const violation = exit?.code === 0;
    const error = violation
      ? `pid ${pid} exited with code 0 while the task was still running (it never completed or blocked)`
      : exit?.code !== null && exit?.code !== undefined
        ? `pid ${pid} exited with code ${exit.code}`
        : exit?.signal
          ? `pid ${pid} killed by signal ${exit.signal}`
          : `pid ${pid} not alive`;
    dead.push({ task, pid, exit, error, violation });
  }
  // Fingerprints are counted over the whole sweep before anything is written.
  const byPrint = new Map<string, number>();
  for (const d of dead)
    if (!d.violation) byPrint.set(crashFingerprint(d.error), (byPrint.get(crashFingerprint(d.error)) ?? 0) + 1);
  const out = { crashed: [] as string[], protocol_violations: [] as string[], auto_blocked: [] as string[] };
  for (const { task, pid, exit, error, violation } of dead) {
    const systemic = !violation && (byPrint.get(crashFingerprint(error)) ?? 0) >= 3;
    const result = ctx.tx(() => {
      if (!requeue(ctx, task)) return null;
      const runId = ctx.endRun(task.id, {
        status: "crashed",
        outcome: "crashed",
        error,
        metadata: violation ? { protocol_violation: true } : null,
      });
      const payload: Record<string, unknown> = {
        pid,
        claimer: task.claim_lock,
        exit_code: exit?.code ?? null,
        exit_signal: exit?.signal ?? null,
        error,
      };
      if (violation) ctx.appendEvent(task.id, "protocol_violation", { ...payload, protocol_violation: true }, runId);
      else ctx.appendEvent(task.id, "crashed", payload, runId);
      return recordTaskFailure(ctx, task.id, {
        error,
        outcome: violation ? "protocol_violation" : "crashed",
        failureLimit: opts.failureLimit,
        forceTrip: violation || systemic,
        extra: violation ? { protocol_violation: true } : systemic ? { systemic: true } : undefined,
      });
    });
    if (result === null) continue;
    (violation ? out.protocol_violations : out.crashed).push(task.id);
    if (result) out.auto_blocked.push(task.id);
  }
  return out;
}

/**
 * Running tasks whose current attempt has exceeded `max_runtime_seconds`: requeued with a
 * `timed_out` event and counted against the breaker. The pids returned must be terminated by the
 * caller (the dispatcher signals the whole process group).
 */
export function enforceMaxRuntime(
  ctx: BoardContext,
  opts: RecoveryOptions = {},
): { timed_out: string[]; auto_blocked: string[]; terminate: Termination[] } {
  const now = ctx.now();
  const out = { timed_out: [] as string[], auto_blocked: [] as string[], terminate: [] as Termination[] };
  const capped = runningTasks(ctx, "AND max_runtime_seconds IS NOT NULL AND worker_pid IS NOT NULL");
  const attemptStartedAt = attemptStarts(ctx, capped);
  for (const task of capped) {
    if (!ctx.isHostLocal(task.claim_lock) || task.max_runtime_seconds === null) continue;
    const started = attemptStartedAt(task);
    if (started === null) continue;
    const elapsed = now - started;
    if (elapsed <= task.max_runtime_seconds) continue;
    const t = claimHolder(ctx, task);
    const settled = ctx.tx(() => {
      if (!requeue(ctx, task, ", last_heartbeat_at = NULL")) return null;
      const error = `elapsed ${elapsed}s > limit ${task.max_runtime_seconds}s`;
      const runId = ctx.endRun(task.id, { status: "timed_out", outcome: "timed_out", error });
      ctx.appendEvent(
        task.id,
        "timed_out",
        { pid: task.worker_pid, elapsed_seconds: elapsed, limit_seconds: task.max_runtime_seconds },
        runId,
      );
      return recordTaskFailure(ctx, task.id, { error, outcome: "timed_out", failureLimit: opts.failureLimit });
    });
    if (settled === null) continue;
    out.timed_out.push(task.id);
    if (t) out.terminate.push(t);
    if (settled) out.auto_blocked.push(task.id);
  }
  return out;
}

/**
 * Running tasks older than `staleTimeoutSeconds` with no heartbeat in the last hour: requeued with
 * a `stale` event. Not counted as a failure (the worker may simply have been silent). Disabled at 0.
 */
export function detectStaleRunning(
  ctx: BoardContext,
  staleTimeoutSeconds: number,
): { stale: string[]; terminate: Termination[] } {
  const out = { stale: [] as string[], terminate: [] as Termination[] };
  if (!(staleTimeoutSeconds > 0)) return out;
  const now = ctx.now();
  // Only attempts older than the timeout without a recent heartbeat can be stale: the filter runs in
  // SQL so that a board with thousands of healthy running tasks does not load them every tick.
  const running = ctx.tasks(
    `SELECT t.* FROM tasks t LEFT JOIN task_runs r ON r.id = t.current_run_id
     WHERE t.status = 'running' AND COALESCE(r.started_at, t.started_at) < ?
       AND (t.last_heartbeat_at IS NULL OR t.last_heartbeat_at < ?)
     ORDER BY t.id`,
    now - staleTimeoutSeconds,
    now - STALE_HEARTBEAT_GAP_SECONDS,
  );
  const attemptStartedAt = attemptStarts(ctx, running);
  for (const task of running) {
    const started = attemptStartedAt(task);
    if (started === null || now - started <= staleTimeoutSeconds) continue;
    const hbAge = task.last_heartbeat_at === null ? null : now - task.last_heartbeat_at;
    if (hbAge !== null && hbAge <= STALE_HEARTBEAT_GAP_SECONDS) continue;
    const t = claimHolder(ctx, task);
    const settled = ctx.tx(() => {
      if (!requeue(ctx, task)) return false;
      const payload = {
        elapsed_seconds: now - started,
        last_heartbeat_at: task.last_heartbeat_at,
        heartbeat_age_seconds: hbAge,
        timeout_seconds: staleTimeoutSeconds,
        pid: task.worker_pid,
      };
      const runId = ctx.endRun(task.id, {
        status: "stale",
        outcome: "stale",
        error: `no heartbeat for ${hbAge ?? now - started}s`,
        metadata: payload,
      });
      ctx.appendEvent(task.id, "stale", payload, runId);
      return true;
    });
    if (!settled) continue;
    out.stale.push(task.id);
    if (t) out.terminate.push(t);
  }
  return out;
}

/**
 * Operator reclaim: releases a task's claim at once (no TTL wait), closes its run as `reclaimed`
 * with `manual: true`, puts it back to `ready` and gives it a fresh retry budget. The worker's pid
 * is returned for termination.
 */
export function reclaimTask(
  ctx: BoardContext,
  id: string,
  opts: { reason?: string | null } = {},
): { task: Task; terminate: Termination | null } {
  return ctx.tx(() => {
    const task = ctx.getTask(id);
    if (!task) throw notFound(`task ${id} not found`, { task_id: id });
    if (task.status !== "running" && task.claim_lock === null) {
      throw wrongState(`cannot reclaim ${id}: not in a claimable state (not running, or unknown id)`, {
        task_id: id,
        status: task.status,
      });
    }
    const changed = transition(ctx, "reclaim", id, {
      to: "ready",
      set: `${CLEAR_CLAIM}, consecutive_failures = 0, last_failure_error = NULL`,
      where: "claim_lock IS ?",
      whereArgs: [task.claim_lock],
    });
    if (changed !== 1)
      throw wrongState(`cannot reclaim ${id}: not in a claimable state (not running, or unknown id)`, { task_id: id });
    const reason = opts.reason?.trim() || null;
    const error = reason ? `manual_reclaim: ${reason}` : `manual_reclaim lock=${task.claim_lock}`;
    const runId = ctx.endRun(id, { status: "reclaimed", outcome: "reclaimed", error });
    ctx.appendEvent(
      id,
      "reclaimed",
      { manual: true, reason, prev_lock: task.claim_lock, worker_pid: task.worker_pid },
      runId,
    );
    return { task: ctx.requireTask(id), terminate: claimHolder(ctx, task) };
  });
}
