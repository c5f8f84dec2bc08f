import { DEFAULT_CLAIM_TTL_SECONDS } from "./constants.ts";
import type { BoardContext } from "./context.ts";
import { invalid, wrongState } from "./errors.ts";
import { type Fence, requireFenced } from "./fencing.ts";
import type { Task } from "./types.ts";
import { transition, transitionReturning } from "./transition.ts";

export interface ClaimOptions {
  ttl_seconds?: number | null;
  /** Claimer id stored as `claim_lock`; defaults to `<hostname>:<pid>`. */
  claimer?: string | null;
}

function ttl(value: number | null | undefined, fallback: number): number {
  if (value === null || value === undefined) return fallback;
  if (!Number.isFinite(value)) throw invalid("ttl_seconds must be a number");
  return Math.max(1, Math.floor(value));
}

/**
 * Atomically claims a `ready` task: the single place where work starts. Inside one write
 * transaction it re-checks the parents (nothing runs with an unfinished parent, whoever wrote
 * `ready`), closes any dangling run, then compare-and-swaps `ready` → `running` and opens a run.
 * Returns null when the task is not claimable (lost race, wrong state, unfinished parents).
 */
export function claimTask(
  ctx: BoardContext,
  id: string,
  opts: ClaimOptions = {},
  defaultTtl = DEFAULT_CLAIM_TTL_SECONDS,
): Task | null {
  const lease = ttl(opts.ttl_seconds, defaultTtl);
  const claimer = opts.claimer?.trim() || ctx.defaultClaimer;
  return ctx.tx(() => {
    // A narrow read first: the full row is only worth materialising for the claim we win.
    const head = ctx
      .stmt(
        "SELECT status, claim_lock, current_run_id, assignee, current_step_key, max_runtime_seconds FROM tasks WHERE id = ?",
      )
      .get(id) as ClaimHead | undefined;
    if (head?.status !== "ready" || head.claim_lock !== null) return null;
    if (!ctx.parentsSatisfied(id)) {
      if (transition(ctx, "claim_rejected", id, { to: "todo" }) === 1) {
        ctx.appendEvent(id, "claim_rejected", { reason: "parents_not_done" });
      }
      return null;
    }
    if (
      head.current_run_id !== null ||
      ctx.stmt("SELECT 1 FROM task_runs WHERE task_id = ? AND ended_at IS NULL").get(id)
    ) {
      ctx.endRun(id, { status: "reclaimed", outcome: "reclaimed", summary: "invariant recovery on re-claim" });
    }
    const now = ctx.now();
    const expires = now + lease;
    // The write lock is ours since BEGIN IMMEDIATE, so the status read above still holds: the run can
    // be opened first and the compare-and-swap below sets current_run_id in the same UPDATE. Should the
    // swap still miss, the throw rolls the run back with it.
    const runId = Number(
      ctx
        .stmt(
          `INSERT INTO task_runs (task_id, profile, step_key, status, claim_lock, claim_expires, max_runtime_seconds, started_at)
           VALUES (?, ?, ?, 'running', ?, ?, ?, ?)`,
        )
        .run(id, head.assignee, head.current_step_key, claimer, expires, head.max_runtime_seconds, now).lastInsertRowid,
    );
    // A fresh claim starts with no heartbeat and no pid: nothing from the previous attempt carries over.
    const task = transitionReturning(ctx, "claim", id, {
      to: "running",
      set: "claim_lock = ?, claim_expires = ?, started_at = COALESCE(started_at, ?), last_heartbeat_at = NULL, worker_pid = NULL, current_run_id = ?",
      setArgs: [claimer, expires, now, runId],
      where: "claim_lock IS NULL",
    });
    if (task === null)
      throw wrongState(`claim of ${id} lost its compare-and-swap inside the write lock`, { task_id: id });
    ctx.appendEvent(id, "claimed", { lock: claimer, expires, run_id: runId }, runId);
    return task;
  });
}

interface ClaimHead {
  status: string;
  claim_lock: string | null;
  current_run_id: number | null;
  assignee: string | null;
  current_step_key: string | null;
  max_runtime_seconds: number | null;
}

/** Extends the lease of a running claim (no event). Fenced on the claimer and, when given, the run. */
export function heartbeatClaim(
  ctx: BoardContext,
  id: string,
  opts: ClaimOptions & Fence = {},
  defaultTtl = DEFAULT_CLAIM_TTL_SECONDS,
): boolean {
  const lease = ttl(opts.ttl_seconds, defaultTtl);
  const lock = opts.claimer ?? opts.claim_lock ?? null;
  // Extending a lease is only for the holder: without its lock or run id anyone could keep
  // someone else's claim alive forever.
  if (lock === null && (opts.expected_run_id === undefined || opts.expected_run_id === null)) {
    throw invalid(`cannot extend the claim on ${id}: pass the claim lock or run id this worker was given`);
  }
  return ctx.tx(() => {
    const task = requireFenced(ctx, id, { expected_run_id: opts.expected_run_id, claim_lock: lock });
    if (task.status !== "running")
      throw wrongState(`cannot heartbeat ${id} (not running)`, { task_id: id, status: task.status });
    const expires = ctx.now() + lease;
    const changed = ctx
      .stmt("UPDATE tasks SET claim_expires = ? WHERE id = ? AND status = 'running' AND claim_lock IS ?")
      .run(expires, id, task.claim_lock).changes;
    if (changed === 1 && task.current_run_id !== null) {
      ctx
        .stmt("UPDATE task_runs SET claim_expires = ? WHERE id = ? AND ended_at IS NULL")
        .run(expires, task.current_run_id);
    }
    return changed === 1;
  });
}

/** Records that the worker is alive (event `heartbeat`, with an optional note). */
export function heartbeatWorker(ctx: BoardContext, id: string, opts: { note?: string | null } & Fence = {}): boolean {
  return ctx.tx(() => {
    const task = requireFenced(ctx, id, opts);
    if (task.status !== "running")
      throw wrongState(`cannot heartbeat ${id} (not running)`, { task_id: id, status: task.status });
    const now = ctx.now();
    ctx.stmt("UPDATE tasks SET last_heartbeat_at = ? WHERE id = ? AND status = 'running'").run(now, id);
    if (task.current_run_id !== null) {
      ctx
        .stmt("UPDATE task_runs SET last_heartbeat_at = ? WHERE id = ? AND ended_at IS NULL")
        .run(now, task.current_run_id);
    }
    const note = opts.note?.trim();
    ctx.appendEvent(id, "heartbeat", note ? { note } : null, task.current_run_id);
    return true;
  });
}

/** Dispatcher bookkeeping after a spawn: records the worker pid on the task and its run (event `spawned`). */
export function recordSpawn(ctx: BoardContext, id: string, pid: number, runId: number): boolean {
  return ctx.tx(() => {
    const changed = ctx
      .stmt("UPDATE tasks SET worker_pid = ? WHERE id = ? AND status = 'running' AND current_run_id = ?")
      .run(pid, id, runId).changes;
    if (changed !== 1) return false;
    ctx.stmt("UPDATE task_runs SET worker_pid = ? WHERE id = ? AND ended_at IS NULL").run(pid, runId);
    ctx.appendEvent(id, "spawned", { pid }, runId);
    return true;
  });
}

/** Persists where a task's workspace was materialised (and its worktree branch). */
export function setWorkspace(ctx: BoardContext, id: string, workspacePath: string, branchName?: string | null): void {
  ctx.tx(() => {
    ctx
      .stmt("UPDATE tasks SET workspace_path = ?, branch_name = COALESCE(?, branch_name) WHERE id = ?")
      .run(workspacePath, branchName ?? null, id);
  });
}
