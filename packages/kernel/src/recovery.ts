import {
  DEFAULT_CLAIM_TTL_SECONDS,
  DEFAULT_CRASH_GRACE_SECONDS,
  RATE_LIMIT_EXIT_CODE,
  RESPAWN_JITTER_MAX_SECONDS,
  STALE_HEARTBEAT_GAP_SECONDS,
  TRANSIENT_EXIT_CODE,
  TRANSIENT_STREAK_UNCOUNTED,
  WORKER_OUTPUT_MAX,
} from "./constants.ts";
import type { BoardContext } from "./context.ts";
import { notFound, wrongState } from "./errors.ts";
import { recordComment } from "./activity.ts";
import { recordProtocolViolation, recordTaskFailure, stampFailureError } from "./breaker.ts";
import { exitCodeClass, failureClassOf, isTransientFailureText } from "./failure-class.ts";
import { jitterUnit, transientCooldownSeconds } from "./respawn-guard.ts";
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
import { newestClosedRuns, runById } from "./store/sqlite/run-reads.ts";
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

/** The exit codes a worker uses to name its class (config `kanban.rate_limit_exit_code`, `kanban.transient_exit_code`). */
export interface ExitCodes {
  /** Default {@link RATE_LIMIT_EXIT_CODE} (75, EX_TEMPFAIL). */
  rateLimit?: number;
  /** Default {@link TRANSIENT_EXIT_CODE} (69, EX_UNAVAILABLE). */
  transient?: number;
}

/** The tick's spacing, which sizes the respawn spread after a mass failure (min(60 s, interval × N)). */
export interface SpreadOptions {
  tickIntervalSeconds?: number;
}

/** Assumed tick interval when the caller names none (the dispatcher's default). */
const DEFAULT_TICK_INTERVAL_SECONDS = 60;

/**
 * Each task's share of a respawn spread after `n` of them failed the same way in one sweep: a
 * number of seconds in 0..min(60, interval × n), derived from the task and its run (so a retry of
 * the same run reads the same hold, and the cards land apart). Null when fewer than two failed.
 */
export function respawnJitterSeconds(
  taskId: string,
  runId: number | null,
  n: number,
  intervalSeconds = DEFAULT_TICK_INTERVAL_SECONDS,
): number | null {
  if (n < 2) return null;
  const spread = Math.min(RESPAWN_JITTER_MAX_SECONDS, Math.max(1, intervalSeconds) * n);
  return Math.round(((jitterUnit(`${taskId}:${runId ?? 0}`) + 1) / 2) * spread);
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

/** How a dead worker's exit is booked: a crash, a protocol violation, a rate limit, or a transient failure. */
export type ExitClass = "crashed" | "protocol_violation" | "rate_limited" | "transient";

/**
 * Classifies a worker's exit code (spec §2.10): 0 while still running, 75 (EX_TEMPFAIL, rate
 * limited), 69 (EX_UNAVAILABLE, transient), anything else a crash (which its text may still show
 * to be transient: {@link bookDeadWorker}). Both codes can be moved by config.
 */
export function classifyExit(code: number | null | undefined, codes: ExitCodes = {}): ExitClass {
  const cls = exitCodeClass(code, codes);
  return cls === "protocol_violation" || cls === "rate_limited" || cls === "transient" ? cls : "crashed";
}

/** The error of a dead worker, by its class and exit (`who` names it: "pid 12", "remote pid 12"). */
function deadWorkerError(who: string, kind: ExitClass, exit: ExitStatus | undefined): string {
  if (kind === "protocol_violation")
    return `${who} exited with code 0 while the task was still running (it never completed or blocked)`;
  if (kind === "rate_limited")
    return `${who} exited with code ${exit?.code ?? RATE_LIMIT_EXIT_CODE} (rate limited; retried after a cooldown)`;
  if (kind === "transient")
    return `${who} exited with code ${exit?.code ?? TRANSIENT_EXIT_CODE} (provider or network unavailable; retried after a cooldown)`;
  if (exit?.code !== null && exit?.code !== undefined) return `${who} exited with code ${exit.code}`;
  return exit?.signal ? `${who} killed by signal ${exit.signal}` : `${who} not alive`;
}

/** The end of a worker's output, bounded, for an event (null when there is none). */
export function workerOutputTail(output: string | null | undefined): string | null {
  return output ? output.slice(-WORKER_OUTPUT_MAX) : null;
}

export interface CrashSweepOptions extends RecoveryOptions, SpreadOptions {
  graceSeconds?: number;
  exitCodes?: ExitCodes;
  exitStatus?: (pid: number) => ExitStatus | undefined;
  /**
   * The last of a task's worker output (the dispatcher reads its log): attached to protocol
   * violations, and read for a crash to tell a provider's or the network's failure (transient).
   */
  outputTail?: (taskId: string) => string | null | undefined;
}

/**
 * Running tasks whose host-local worker is gone (after a grace period from the attempt's start).
 * Exit 75 (EX_TEMPFAIL) is a rate limit: requeued, run `rate_limited`, no failure counted (the
 * respawn guard cools it down). Exit 0 while still running is a protocol violation (the worker
 * never settled its task): requeued and counted, tripping only after a violation streak (breaker.ts).
 * Exit 69 (EX_UNAVAILABLE), or a crash whose worker output reads like a provider 5xx or a network
 * failure, is transient: requeued, not counted, cooled down by the respawn guard. Other exits count
 * as crashes; three or more crashes with the same message in one sweep are systemic (a broken
 * profile, a missing binary): each of them trips at once; two or more get a respawn spread
 * (`respawn_jitter`) so they do not all come back into the same wall at the next tick.
 */
export async function detectCrashedWorkers(
  ctx: BoardContext,
  opts: CrashSweepOptions = {},
): Promise<{
  crashed: string[];
  protocol_violations: string[];
  rate_limited: string[];
  transient: string[];
  auto_blocked: string[];
}> {
  const now = ctx.now();
  const grace = opts.graceSeconds ?? DEFAULT_CRASH_GRACE_SECONDS;
  const dead: {
    task: Task;
    pid: number;
    exit: ExitStatus | undefined;
    error: string;
    kind: ExitClass;
    output: string | null;
  }[] = [];
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
    let kind = classifyExit(exit?.code, opts.exitCodes);
    // Read outside any transaction (it may be a file read): a violation's event keeps it, and a
    // crash's output may show the provider or the network failed, not the task.
    const output = kind === "rate_limited" ? null : workerOutputTail(opts.outputTail?.(task.id));
    if (kind === "crashed" && isTransientFailureText(output)) kind = "transient";
    dead.push({ task, pid, exit, error: deadWorkerError(`pid ${pid}`, kind, exit), kind, output });
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
    transient: [] as string[],
    auto_blocked: [] as string[],
  };
  for (const { task, pid, exit, error, kind, output } of dead) {
    const same = kind === "crashed" ? (byPrint.get(crashFingerprint(error)) ?? 0) : 0;
    const systemic = same >= 3;
    const jitter = respawnJitterSeconds(task.id, task.current_run_id, same, opts.tickIntervalSeconds);
    const result = await ctx.tx(async () => {
      if (!(await requeueRunning(ctx, task))) return null;
      return await bookDeadWorker(ctx, task, {
        kind,
        error,
        payload: { pid, claimer: task.claim_lock, exit_code: exit?.code ?? null, exit_signal: exit?.signal ?? null },
        output,
        systemic,
        respawnJitterSeconds: jitter,
      });
    });
    if (result === null) continue;
    const list =
      kind === "protocol_violation"
        ? out.protocol_violations
        : kind === "rate_limited"
          ? out.rate_limited
          : kind === "transient"
            ? out.transient
            : out.crashed;
    list.push(task.id);
    if (result) out.auto_blocked.push(task.id);
  }
  return out;
}

/**
 * Closes the run of a requeued task whose worker is gone and books the exit by its class (the local
 * sweep and a remote host's report share it): the run, its event, and the failure accounting. A
 * crash whose error or output reads like a provider's or the network's failure is booked
 * transient. Every run closed here carries its `failure_class` in its metadata and its event.
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
    /** The worker's last output, for a protocol violation's event and comment, and to tell a transient crash. */
    output: string | null;
    systemic?: boolean;
    /** This run failed with others in one sweep: held this long after its end (respawn_jitter). */
    respawnJitterSeconds?: number | null;
  },
): Promise<boolean> {
  const kind =
    d.kind === "crashed" && (isTransientFailureText(d.error) || isTransientFailureText(d.output))
      ? "transient"
      : d.kind;
  if (kind === "rate_limited") {
    const runId = await endRun(ctx, task.id, {
      status: "rate_limited",
      outcome: "rate_limited",
      error: d.error,
      metadata: { rate_limited: true, failure_class: "rate_limited" },
    });
    await appendEvent(
      ctx,
      task.id,
      "rate_limited",
      { ...d.payload, error: d.error, failure_class: "rate_limited" },
      runId,
    );
    await stampFailureError(ctx, task.id, d.error);
    return false;
  }
  if (kind === "transient") return await bookTransient(ctx, task, d);
  const violation = kind === "protocol_violation";
  const jitter = !violation && d.respawnJitterSeconds ? d.respawnJitterSeconds : null;
  const cls = violation ? "protocol_violation" : "crashed";
  const runId = await endRun(ctx, task.id, {
    status: "crashed",
    outcome: "crashed",
    error: d.error,
    metadata: {
      failure_class: cls,
      ...(violation ? { protocol_violation: true } : {}),
      ...(jitter !== null ? { respawn_jitter_seconds: jitter } : {}),
    },
  });
  const hold = jitterHold(jitter, ctx.now());
  const payload = { ...d.payload, error: d.error, failure_class: cls, ...hold };
  if (violation) {
    const output = d.output === null ? {} : { worker_output: d.output };
    await appendEvent(ctx, task.id, "protocol_violation", { ...payload, protocol_violation: true, ...output }, runId);
    const tripped = await recordProtocolViolation(ctx, task.id, d.error);
    await recordComment(ctx, task.id, "dispatcher", violationComment(d.error, d.output, tripped));
    return tripped;
  }
  await appendEvent(ctx, task.id, "crashed", payload, runId);
  return await recordTaskFailure(ctx, task.id, {
    error: d.error,
    outcome: "crashed",
    forceTrip: d.systemic === true,
    extra: d.systemic === true ? { systemic: true } : undefined,
  });
}

/** A respawn_jitter hold as event payloads state it (empty when there is none). */
function jitterHold(seconds: number | null, now: number): Record<string, unknown> {
  return seconds === null ? {} : { respawn_hold: { reason: "respawn_jitter", seconds, until: now + seconds } };
}

/** Transient runs read back to measure a streak (older ones do not lengthen a 15-minute cap). */
const TRANSIENT_STREAK_READ = 16;

/**
 * A transient failure (a provider 5xx, a network failure, exit 69): the run closes `crashed` (a
 * Hermes outcome) with `failure_class: "transient"`, nothing is counted (only the error stamped, as
 * for a rate limit), and the respawn guard holds the task for a cooldown that doubles with each
 * transient run in a row (stored on the run as `transient_streak`, so the guard reads one run).
 * Past {@link TRANSIENT_STREAK_UNCOUNTED} in a row each one is counted after all: a card whose own
 * work keeps printing a network error (its test suite, say) would otherwise retry every 15 minutes
 * for ever; counted, it trips the breaker, and the auto-revive still gives a real outage its time.
 */
async function bookTransient(
  ctx: BoardContext,
  task: Task,
  d: { error: string; payload: Record<string, unknown>; output: string | null },
): Promise<boolean> {
  let streak = 1;
  for (const run of await newestClosedRuns(ctx, task.id, TRANSIENT_STREAK_READ)) {
    if (run.outcome === "rate_limited") continue;
    if (failureClassOf(run) !== "transient") break;
    streak++;
  }
  const cooldown = transientCooldownSeconds(task.id, streak);
  const counted = streak > TRANSIENT_STREAK_UNCOUNTED;
  const facts = {
    failure_class: "transient",
    transient: true,
    transient_streak: streak,
    cooldown_seconds: cooldown,
    ...(counted ? { counted: true } : {}),
  };
  const runId = await endRun(ctx, task.id, { status: "crashed", outcome: "crashed", error: d.error, metadata: facts });
  const output = d.output === null ? {} : { worker_output: d.output };
  const hold = { respawn_hold: { reason: "transient_cooldown", seconds: cooldown, until: ctx.now() + cooldown } };
  await appendEvent(ctx, task.id, "crashed", { ...d.payload, error: d.error, ...facts, ...output, ...hold }, runId);
  if (counted) {
    const error = `${d.error} (${streak} transient failures in a row: counted)`;
    return await recordTaskFailure(ctx, task.id, {
      error,
      outcome: "transient",
      extra: { failure_class: "transient" },
    });
  }
  await stampFailureError(ctx, task.id, d.error);
  return false;
}

/** The comment a protocol violation leaves on the card: what happened, what the worker said last, what comes next. */
function violationComment(error: string, output: string | null, tripped: boolean): string {
  const next = tripped
    ? "The card is now blocked: its workers keep exiting without completing or blocking it. Read the output, fix the profile or the task, then unblock it."
    : "The card was requeued and will be tried again; if its workers keep exiting this way it will be blocked.";
  const said = output
    ? `\n\nThe worker's last output:\n\n${output.slice(-WORKER_OUTPUT_MAX)}`
    : "\n\nThe worker left no output.";
  return `Protocol violation: ${error}.${said}\n\n${next}`;
}

export interface MaxRuntimeOptions extends SpreadOptions {
  /**
   * The limit of a task that sets no `max_runtime_seconds` (config `kanban.default_max_runtime_seconds`,
   * default 4 h in the dispatcher); 0 or absent: such tasks run as long as they like.
   */
  defaultMaxRuntimeSeconds?: number;
  /** A profile's own limit (config `profiles.<name>.max_runtime_seconds`), used when its task sets none. */
  profileMaxRuntimeSeconds?: Readonly<Record<string, number>>;
}

/**
 * Running tasks whose current attempt has exceeded `max_runtime_seconds` (or, when the task sets
 * none, the default limit): requeued with a `timed_out` event and counted against the breaker.
 * Two or more timeouts in one sweep each get a respawn spread (`respawn_jitter`), so they do not
 * all respawn into the same wall at the next tick. The pids returned must be terminated by the
 * caller (the dispatcher signals the whole process group).
 */
export async function enforceMaxRuntime(
  ctx: BoardContext,
  opts: MaxRuntimeOptions = {},
): Promise<{
  timed_out: string[];
  auto_blocked: string[];
  terminate: Termination[];
}> {
  const now = ctx.now();
  const out = { timed_out: [] as string[], auto_blocked: [] as string[], terminate: [] as Termination[] };
  const fallback =
    opts.defaultMaxRuntimeSeconds !== undefined && opts.defaultMaxRuntimeSeconds > 0
      ? opts.defaultMaxRuntimeSeconds
      : null;
  const profiles = opts.profileMaxRuntimeSeconds ?? {};
  const anyFallback = fallback !== null || Object.keys(profiles).length > 0;
  const capped = anyFallback ? await runningWithWorker(ctx) : await runningWithRuntimeCap(ctx);
  const attemptStartedAt = await attemptStarts(ctx, capped);
  const over: { task: Task; elapsed: number; limit: number; source: "task" | "profile" | "default" }[] = [];
  for (const task of capped) {
    const profile =
      task.assignee !== null && Object.hasOwn(profiles, task.assignee) ? profiles[task.assignee] : undefined;
    const limit = task.max_runtime_seconds ?? profile ?? fallback;
    if (!ctx.isHostLocal(task.claim_lock) || limit === null) continue;
    const started = await attemptStartedAt(task);
    if (started === null) continue;
    const elapsed = now - started;
    if (elapsed <= limit) continue;
    const source = task.max_runtime_seconds !== null ? "task" : profile !== undefined ? "profile" : "default";
    over.push({ task, elapsed, limit, source });
  }
  for (const { task, elapsed, limit, source } of over) {
    const t = claimHolder(ctx, task);
    const jitter = respawnJitterSeconds(task.id, task.current_run_id, over.length, opts.tickIntervalSeconds);
    const settled = await ctx.tx(async () => {
      if (!(await requeueRunning(ctx, task, { clearHeartbeat: true }))) return null;
      const error = `elapsed ${elapsed}s > limit ${limit}s${source === "task" ? "" : ` (${source} max runtime)`}`;
      const runId = await endRun(ctx, task.id, {
        status: "timed_out",
        outcome: "timed_out",
        error,
        metadata: { failure_class: "timed_out", ...(jitter !== null ? { respawn_jitter_seconds: jitter } : {}) },
      });
      await appendEvent(
        ctx,
        task.id,
        "timed_out",
        {
          pid: task.worker_pid,
          elapsed_seconds: elapsed,
          limit_seconds: limit,
          limit_source: source,
          failure_class: "timed_out",
          ...jitterHold(jitter, now),
        },
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
