import {
  DEFAULT_CLAIM_TTL_SECONDS,
  DEFAULT_CRASH_GRACE_SECONDS,
  RATE_LIMIT_EXIT_CODE,
  STALE_HEARTBEAT_GAP_SECONDS,
  WORKER_OUTPUT_MAX,
} from "./constants.ts";
import type { BoardContext } from "./context.ts";
import { notFound, wrongState } from "./errors.ts";
import { recordProtocolViolation, recordTaskFailure, stampFailureError } from "./breaker.ts";
import { appendEvent } from "./store/sqlite/events.ts";
import {
  expiredClaims,
  extendExpiredLease,
  releaseClaim,
  requeueRunning,
  runningWithRuntimeCap,
  runningWithWorker,
  staleCandidates,
} from "./store/sqlite/recovery.ts";
import { runById } from "./store/sqlite/run-reads.ts";
import { endRun, runStartTimes, setRunLease } from "./store/sqlite/runs.ts";
import { getTask, requireTask } from "./store/sqlite/tasks.ts";
import { claimHolder, type Termination } from "./termination.ts";
import type { Task } from "./types.ts";

/** How a worker process ended, as its parent (the dispatcher) observed when reaping it. */
export interface ExitStatus {
  code: number | null;
  signal: string | null;
}

export interface RecoveryOptions {
  claimTtlSeconds?: number;
}

/**
 * When each task's current attempt started (its open run's start, else the task's first start), for
 * a whole sweep in one query.
 */
async function attemptStarts(ctx: BoardContext, tasks: Task[]): Promise<(task: Task) => number | null> {
  const runIds = tasks.map((t) => t.current_run_id).filter((id): id is number => id !== null);
  const starts = await runStartTimes(ctx, runIds);
  return (task) => (task.current_run_id === null ? undefined : starts.get(task.current_run_id)) ?? task.started_at;
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
export async function releaseStaleClaims(
  ctx: BoardContext,
  opts: RecoveryOptions = {},
): Promise<{ reclaimed: string[]; extended: string[]; terminate: Termination[] }> {
  const now = ctx.now();
  const out = { reclaimed: [] as string[], extended: [] as string[], terminate: [] as Termination[] };
  for (const task of await expiredClaims(ctx, now)) {
    const alive = task.worker_pid !== null && ctx.isHostLocal(task.claim_lock) && ctx.isPidAlive(task.worker_pid);
    const stale = heartbeatStale(task, now);
    if (alive && !stale) {
      const extendedTo = now + (opts.claimTtlSeconds ?? DEFAULT_CLAIM_TTL_SECONDS);
      const ok = await ctx.tx(async () => {
        if (!(await extendExpiredLease(ctx, task, extendedTo))) return false;
        if (task.current_run_id !== null) await setRunLease(ctx, task.current_run_id, extendedTo);
        await appendEvent(
          ctx,
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
    const requeued = await ctx.tx(async () => {
      if (!(await requeueRunning(ctx, task))) return false;
      const payload = {
        stale_lock: task.claim_lock,
        worker_pid: task.worker_pid,
        claim_expires: task.claim_expires,
        last_heartbeat_at: task.last_heartbeat_at,
        now,
        host_local: ctx.isHostLocal(task.claim_lock),
        heartbeat_stale: stale,
      };
      const runId = await endRun(ctx, task.id, {
        status: "reclaimed",
        outcome: "reclaimed",
        error: `stale_lock=${task.claim_lock}`,
        metadata: payload,
      });
      await appendEvent(ctx, task.id, "reclaimed", payload, runId);
      await recordTaskFailure(ctx, task.id, {
        error: `claim expired (lock ${task.claim_lock})`,
        outcome: "reclaimed",
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

/** How a dead worker's exit is booked: a crash, a protocol violation, or a rate limit. */
type ExitClass = "crashed" | "protocol_violation" | "rate_limited";

/** Classifies a worker's exit code (spec §2.10): 0 while still running, 75 (EX_TEMPFAIL), anything else. */
export function classifyExit(code: number | null | undefined): ExitClass {
  if (code === 0) return "protocol_violation";
  if (code === RATE_LIMIT_EXIT_CODE) return "rate_limited";
  return "crashed";
}

/** The end of a worker's output, bounded, for an event (null when there is none). */
export function workerOutputTail(output: string | null | undefined): string | null {
  return output ? output.slice(-WORKER_OUTPUT_MAX) : null;
}

export interface CrashSweepOptions extends RecoveryOptions {
  graceSeconds?: number;
  exitStatus?: (pid: number) => ExitStatus | undefined;
  /** The last of a task's worker output (the dispatcher reads its log), attached to protocol violations. */
  outputTail?: (taskId: string) => string | null | undefined;
}

/**
 * Running tasks whose host-local worker is gone (after a grace period from the attempt's start).
 * Exit 75 (EX_TEMPFAIL) is a rate limit: requeued, run `rate_limited`, no failure counted (the
 * respawn guard cools it down). Exit 0 while still running is a protocol violation (the worker
 * never settled its task): requeued and counted, tripping only after a violation streak (breaker.ts).
 * Other exits count as crashes; three or more crashes with the same message in one sweep are
 * systemic (a broken profile, a missing binary): each of them trips at once.
 */
export async function detectCrashedWorkers(
  ctx: BoardContext,
  opts: CrashSweepOptions = {},
): Promise<{ crashed: string[]; protocol_violations: string[]; rate_limited: string[]; auto_blocked: string[] }> {
  const now = ctx.now();
  const grace = opts.graceSeconds ?? DEFAULT_CRASH_GRACE_SECONDS;
  const dead: { task: Task; pid: number; exit: ExitStatus | undefined; error: string; kind: ExitClass }[] = [];
  const candidates = await runningWithWorker(ctx);
  const attemptStartedAt = await attemptStarts(ctx, candidates);
  for (const task of candidates) {
    if (!ctx.isHostLocal(task.claim_lock) || task.worker_pid === null) continue;
    const pid = task.worker_pid;
    // A reaped child of the caller has certainly exited: its crash is recorded at once. The grace
    // only covers pids we cannot wait on (another process's workers).
    const exit = opts.exitStatus?.(pid);
    const started = (await attemptStartedAt(task)) ?? now;
    if (exit === undefined && now - started < grace) continue;
    if (ctx.isPidAlive(pid)) continue;
    const kind = classifyExit(exit?.code);
    const error =
      kind === "protocol_violation"
        ? `pid ${pid} exited with code 0 while the task was still running (it never completed or blocked)`
        : kind === "rate_limited"
          ? `pid ${pid} exited with code ${RATE_LIMIT_EXIT_CODE} (rate limited; retried after a cooldown)`
          : exit?.code !== null && exit?.code !== undefined
            ? `pid ${pid} exited with code ${exit.code}`
            : exit?.signal
              ? `pid ${pid} killed by signal ${exit.signal}`
              : `pid ${pid} not alive`;
    dead.push({ task, pid, exit, error, kind });
  }
  // Fingerprints are counted over the whole sweep before anything is written; only crashes count
  // (a burst of rate limits or violations is not a broken profile).
  const byPrint = new Map<string, number>();
  for (const d of dead)
    if (d.kind === "crashed") byPrint.set(crashFingerprint(d.error), (byPrint.get(crashFingerprint(d.error)) ?? 0) + 1);
  const out = {
    crashed: [] as string[],
    protocol_violations: [] as string[],
    rate_limited: [] as string[],
    auto_blocked: [] as string[],
  };
  for (const { task, pid, exit, error, kind } of dead) {
    const systemic = kind === "crashed" && (byPrint.get(crashFingerprint(error)) ?? 0) >= 3;
    // Read outside the transaction: it may be a file read.
    const output = kind === "protocol_violation" ? workerOutputTail(opts.outputTail?.(task.id)) : null;
    const result = await ctx.tx(async () => {
      if (!(await requeueRunning(ctx, task))) return null;
      return await bookDeadWorker(ctx, task, {
        kind,
        error,
        payload: { pid, claimer: task.claim_lock, exit_code: exit?.code ?? null, exit_signal: exit?.signal ?? null },
        output,
        systemic,
      });
    });
    if (result === null) continue;
    const list =
      kind === "protocol_violation"
        ? out.protocol_violations
        : kind === "rate_limited"
          ? out.rate_limited
          : out.crashed;
    list.push(task.id);
    if (result) out.auto_blocked.push(task.id);
  }
  return out;
}

/**
 * Closes the run of a requeued task whose worker is gone and books the exit by its class (the local
 * sweep and a remote host's report share it): the run, its event, and the failure accounting.
 * Returns whether the breaker tripped.
 */
export async function bookDeadWorker(
  ctx: BoardContext,
  task: Task,
  d: {
    kind: ExitClass;
    error: string;
    /** The event's facts: pid, claimer, exit code/signal (and for a remote host, `remote` and its output tail). */
    payload: Record<string, unknown>;
    /** The worker's last output, for a protocol violation's event. */
    output: string | null;
    systemic?: boolean;
  },
): Promise<boolean> {
  if (d.kind === "rate_limited") {
    const runId = await endRun(ctx, task.id, {
      status: "rate_limited",
      outcome: "rate_limited",
      error: d.error,
      metadata: { rate_limited: true },
    });
    await appendEvent(ctx, task.id, "rate_limited", { ...d.payload, error: d.error }, runId);
    await stampFailureError(ctx, task.id, d.error);
    return false;
  }
  const violation = d.kind === "protocol_violation";
  const runId = await endRun(ctx, task.id, {
    status: "crashed",
    outcome: "crashed",
    error: d.error,
    metadata: violation ? { protocol_violation: true } : null,
  });
  const payload = { ...d.payload, error: d.error };
  if (violation) {
    const output = d.output === null ? {} : { worker_output: d.output };
    await appendEvent(ctx, task.id, "protocol_violation", { ...payload, protocol_violation: true, ...output }, runId);
    return await recordProtocolViolation(ctx, task.id, d.error);
  }
  await appendEvent(ctx, task.id, "crashed", payload, runId);
  return await recordTaskFailure(ctx, task.id, {
    error: d.error,
    outcome: "crashed",
    forceTrip: d.systemic === true,
    extra: d.systemic === true ? { systemic: true } : undefined,
  });
}

/**
 * Running tasks whose current attempt has exceeded `max_runtime_seconds`: requeued with a
 * `timed_out` event and counted against the breaker. The pids returned must be terminated by the
 * caller (the dispatcher signals the whole process group).
 */
export async function enforceMaxRuntime(ctx: BoardContext): Promise<{
  timed_out: string[];
  auto_blocked: string[];
  terminate: Termination[];
}> {
  const now = ctx.now();
  const out = { timed_out: [] as string[], auto_blocked: [] as string[], terminate: [] as Termination[] };
  const capped = await runningWithRuntimeCap(ctx);
  const attemptStartedAt = await attemptStarts(ctx, capped);
  for (const task of capped) {
    if (!ctx.isHostLocal(task.claim_lock) || task.max_runtime_seconds === null) continue;
    const started = await attemptStartedAt(task);
    if (started === null) continue;
    const elapsed = now - started;
    if (elapsed <= task.max_runtime_seconds) continue;
    const t = claimHolder(ctx, task);
    const settled = await ctx.tx(async () => {
      if (!(await requeueRunning(ctx, task, { clearHeartbeat: true }))) return null;
      const error = `elapsed ${elapsed}s > limit ${task.max_runtime_seconds}s`;
      const runId = await endRun(ctx, task.id, { status: "timed_out", outcome: "timed_out", error });
      await appendEvent(
        ctx,
        task.id,
        "timed_out",
        { pid: task.worker_pid, elapsed_seconds: elapsed, limit_seconds: task.max_runtime_seconds },
        runId,
      );
      return await recordTaskFailure(ctx, task.id, { error, outcome: "timed_out" });
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
export async function detectStaleRunning(
  ctx: BoardContext,
  staleTimeoutSeconds: number,
): Promise<{ stale: string[]; terminate: Termination[] }> {
  const out = { stale: [] as string[], terminate: [] as Termination[] };
  if (!(staleTimeoutSeconds > 0)) return out;
  const now = ctx.now();
  // Only attempts older than the timeout without a recent heartbeat can be stale (filtered in SQL).
  const running = await staleCandidates(ctx, now - staleTimeoutSeconds, now - STALE_HEARTBEAT_GAP_SECONDS);
  const attemptStartedAt = await attemptStarts(ctx, running);
  for (const task of running) {
    const started = await attemptStartedAt(task);
    if (started === null || now - started <= staleTimeoutSeconds) continue;
    const hbAge = task.last_heartbeat_at === null ? null : now - task.last_heartbeat_at;
    if (hbAge !== null && hbAge <= STALE_HEARTBEAT_GAP_SECONDS) continue;
    const t = claimHolder(ctx, task);
    const settled = await ctx.tx(async () => {
      if (!(await requeueRunning(ctx, task))) return false;
      const payload = {
        elapsed_seconds: now - started,
        last_heartbeat_at: task.last_heartbeat_at,
        heartbeat_age_seconds: hbAge,
        timeout_seconds: staleTimeoutSeconds,
        pid: task.worker_pid,
      };
      const runId = await endRun(ctx, task.id, {
        status: "stale",
        outcome: "stale",
        error: `no heartbeat for ${hbAge ?? now - started}s`,
        metadata: payload,
      });
      await appendEvent(ctx, task.id, "stale", payload, runId);
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
export async function reclaimTask(
  ctx: BoardContext,
  id: string,
  opts: { reason?: string | null } = {},
): Promise<{ task: Task; terminate: Termination | null }> {
  return await ctx.tx(async () => {
    const task = await getTask(ctx, id);
    if (!task) throw notFound(`task ${id} not found`, { task_id: id });
    if (task.status !== "running" && task.claim_lock === null) {
      throw wrongState(`cannot reclaim ${id}: not in a claimable state (not running, or unknown id)`, {
        task_id: id,
        status: task.status,
      });
    }
    if (!(await releaseClaim(ctx, id, task.claim_lock)))
      throw wrongState(`cannot reclaim ${id}: not in a claimable state (not running, or unknown id)`, { task_id: id });
    const reason = opts.reason?.trim() || null;
    const error = reason ? `manual_reclaim: ${reason}` : `manual_reclaim lock=${task.claim_lock}`;
    const runId = await endRun(ctx, id, { status: "reclaimed", outcome: "reclaimed", error });
    await appendEvent(
      ctx,
      id,
      "reclaimed",
      { manual: true, reason, prev_lock: task.claim_lock, worker_pid: task.worker_pid },
      runId,
    );
    return { task: await requireTask(ctx, id), terminate: claimHolder(ctx, task) };
  });
}

/**
 * Ends one named run by reclaiming its task (`runs.terminate`), fenced on that run: the task is
 * reclaimed only while this run is its current one, checked in the same transaction as the
 * reclaim, so a run that ended (or whose task moved on to a newer attempt) never reclaims the
 * newer attempt. NOT_FOUND for an unknown run; WRONG_STATE when the run already ended or is not
 * its task's current run.
 */
export async function terminateRun(
  ctx: BoardContext,
  runId: number,
  opts: { reason?: string | null } = {},
): Promise<{ task: Task; run_id: number; terminate: Termination | null }> {
  return await ctx.tx(async () => {
    const run = await runById(ctx, runId);
    if (!run) throw notFound(`run ${runId} not found`, { run_id: runId });
    if (run.ended_at !== null)
      throw wrongState(`run ${runId} already ended (${run.outcome ?? run.status})`, { run_id: runId });
    const task = await getTask(ctx, run.task_id);
    if (task?.current_run_id !== runId) {
      throw wrongState(`run ${runId} is not the current run of task ${run.task_id}; nothing was reclaimed`, {
        run_id: runId,
        task_id: run.task_id,
        current_run_id: task?.current_run_id ?? null,
      });
    }
    const reclaimed = await reclaimTask(ctx, run.task_id, { reason: opts.reason?.trim() || `run ${runId} terminated` });
    return { ...reclaimed, run_id: runId };
  });
}
