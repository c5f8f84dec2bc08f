import type { Board, ExitStatus, Task, Termination } from "@kanban/kernel";
import { tryAcquireDispatchLock } from "./pid-lock.ts";
import { type ResolvedWorkspace, WorkspaceError } from "./workspace.ts";

/**
 * One dispatcher tick on one board (spec §3.2, Hermes A order): recover running tasks, promote,
 * then claim and spawn ready tasks in priority order within the budgets.
 */
export interface DispatchResult {
  reclaimed: number;
  crashed: string[];
  timed_out: string[];
  stale: string[];
  auto_blocked: string[];
  promoted: number;
  spawned: { task_id: string; assignee: string; workspace: string; pid: number | null }[];
  skipped_unassigned: string[];
  skipped_nonspawnable: string[];
  /** The assignee of each `skipped_nonspawnable` task: a name that is not a profile on this host. */
  not_a_profile: { task_id: string; assignee: string }[];
  skipped_per_profile_capped: { task_id: string; assignee: string; current: number }[];
  auto_assigned_default: string[];
  /** Ready tasks held back by the respawn guard (spec §2.12) with the reason. */
  respawn_guarded: { task_id: string; reason: string }[];
  /** Another process was ticking this board; nothing was read or written. */
  skipped_locked: boolean;
  /** Why spawning stopped early this tick, when a budget ran out (for the stuck-queue warning). */
  held_back: string[];
}

export interface DispatchOptions {
  dryRun?: boolean;
  maxSpawn?: number | null;
  maxInProgress?: number | null;
  maxInProgressPerProfile?: number | null;
  failureLimit?: number;
  staleTimeoutSeconds?: number;
  crashGraceSeconds?: number;
  defaultAssignee?: string | null;
  /** Take the per-board `<db>.dispatch.lock` for the tick (default true; a dry run locks too: its sweeps write). */
  lock?: boolean;
}

export interface SpawnContext {
  task: Task;
  assignee: string;
  runId: number;
  claimLock: string;
  workspace: ResolvedWorkspace;
}

export interface DispatchDeps {
  /** Whether a profile can be spawned (configured, or a Hermes profile on disk). */
  isSpawnable(profile: string): boolean;
  /** Materialises the workspace of a claimed task; throws with a one-line reason. */
  resolveWorkspace(task: Task): ResolvedWorkspace;
  /** Starts the worker and returns its pid; throws with a one-line reason. */
  spawnWorker(ctx: SpawnContext): Promise<number>;
  /** How one of our reaped children ended. */
  exitStatus?(pid: number): ExitStatus | undefined;
  /** Terminates reported workers (non-blocking). */
  terminate?(targets: Termination[]): void;
  /** Running tasks on every other board of the home (only asked when max_in_progress is set). */
  runningElsewhere?(): number;
  /** Test hook: awaited between claim and spawn. */
  afterClaim?(taskId: string): Promise<void>;
  log?(line: string): void;
}

export function emptyResult(): DispatchResult {
  return {
    reclaimed: 0,
    crashed: [],
    timed_out: [],
    stale: [],
    auto_blocked: [],
    promoted: 0,
    spawned: [],
    skipped_unassigned: [],
    skipped_nonspawnable: [],
    not_a_profile: [],
    skipped_per_profile_capped: [],
    respawn_guarded: [],
    auto_assigned_default: [],
    skipped_locked: false,
    held_back: [],
  };
}

function oneLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split("\n")[0] ?? msg;
}

function readyLane(board: Board): { id: string; assignee: string | null }[] {
  return board.ctx
    .stmt(
      // Priority, then age, then creation order (rowid) among tasks of the same second. The partial
      // index (migration 0002) is in priority/age order; only ties within one second are sorted.
      "SELECT id, assignee FROM tasks INDEXED BY idx_tasks_ready_priority WHERE status = 'ready' AND claim_lock IS NULL ORDER BY priority DESC, created_at ASC, rowid ASC",
    )
    .all() as { id: string; assignee: string | null }[];
}

export function runningCount(board: Board): number {
  return (board.sqlite.prepare("SELECT COUNT(*) AS n FROM tasks WHERE status = 'running'").get() as { n: number }).n;
}

function runningPerProfile(board: Board): Map<string, number> {
  const rows = board.sqlite
    .prepare("SELECT assignee, COUNT(*) AS n FROM tasks WHERE status = 'running' AND assignee IS NOT NULL GROUP BY assignee")
    .all() as { assignee: string; n: number }[];
  return new Map(rows.map((r) => [r.assignee, r.n]));
}

/** Whether the board has a ready task a worker could be spawned for right now (the stuck-queue signal). */
export function hasSpawnableReady(board: Board, deps: Pick<DispatchDeps, "isSpawnable">, defaultAssignee: string | null = null): boolean {
  const fallback = defaultAssignee !== null && deps.isSpawnable(defaultAssignee);
  // A task the respawn guard holds back is waiting on purpose: it must not make the queue look stuck.
  return readyLane(board).some((r) => (r.assignee ? deps.isSpawnable(r.assignee) : fallback) && board.respawnGuard(r.id) === null);
}

function recover(board: Board, opts: DispatchOptions, deps: DispatchDeps, out: DispatchResult): void {
  const failureLimit = opts.failureLimit;
  const terminate: Termination[] = [];
  const stale = board.releaseStaleClaims({ failureLimit });
  out.reclaimed = stale.reclaimed.length;
  terminate.push(...stale.terminate);
  // A reclaim books a failure too; the kernel does not say whether it tripped, the status does.
  for (const id of stale.reclaimed) if (board.getTask(id)?.status === "blocked") out.auto_blocked.push(id);
  const staleRunning = board.detectStaleRunning(opts.staleTimeoutSeconds ?? 0);
  out.stale = staleRunning.stale;
  terminate.push(...staleRunning.terminate);
  const crashed = board.detectCrashedWorkers({ failureLimit, graceSeconds: opts.crashGraceSeconds, exitStatus: deps.exitStatus });
  out.crashed = [...crashed.crashed, ...crashed.protocol_violations];
  out.auto_blocked.push(...crashed.auto_blocked);
  const timedOut = board.enforceMaxRuntime({ failureLimit });
  out.timed_out = timedOut.timed_out;
  out.auto_blocked.push(...timedOut.auto_blocked);
  terminate.push(...timedOut.terminate);
  if (terminate.length > 0) deps.terminate?.(terminate);
  out.promoted = board.recomputeReady(failureLimit);
}

/**
 * Runs one tick on `board`. Spawn failures (missing program, bad workspace) feed the task's circuit
 * breaker; a tripped task ends up blocked with `gave_up` and is listed in `auto_blocked`.
 */
export async function dispatchOnce(board: Board, opts: DispatchOptions, deps: DispatchDeps): Promise<DispatchResult> {
  const out = emptyResult();
  const dryRun = opts.dryRun === true;
  const lock = opts.lock !== false ? tryAcquireDispatchLock(`${board.path}.dispatch.lock`) : null;
  if (lock !== null && !lock.ok) {
    out.skipped_locked = true;
    out.held_back.push("skipped_locked");
    return out;
  }
  try {
    // As in Hermes, a dry run still recovers (stale claims, stale running, crashed workers, max
    // runtime) and promotes: only claiming and spawning are simulated.
    recover(board, opts, deps, out);
    await spawnReady(board, opts, deps, out, dryRun);
    return out;
  } finally {
    if (lock?.ok) lock.lock.release();
  }
}

async function spawnReady(board: Board, opts: DispatchOptions, deps: DispatchDeps, out: DispatchResult, dryRun: boolean): Promise<void> {
  const failureLimit = opts.failureLimit;
  const running = runningCount(board);
  let budget = Number.POSITIVE_INFINITY;
  if (opts.maxSpawn !== null && opts.maxSpawn !== undefined) {
    budget = opts.maxSpawn - running;
    if (budget <= 0) {
      out.held_back.push(`max_spawn=${opts.maxSpawn}`);
      return;
    }
  }
  if (opts.maxInProgress !== null && opts.maxInProgress !== undefined) {
    const total = running + (deps.runningElsewhere?.() ?? 0);
    const room = opts.maxInProgress - total;
    if (room <= 0) {
      out.held_back.push(`max_in_progress=${opts.maxInProgress}`);
      return;
    }
    budget = Math.min(budget, room);
  }
  const cap = opts.maxInProgressPerProfile ?? null;
  const perProfile = cap !== null ? runningPerProfile(board) : new Map<string, number>();
  const fallback = opts.defaultAssignee && deps.isSpawnable(opts.defaultAssignee) ? opts.defaultAssignee : null;
  for (const row of readyLane(board)) {
    if (budget <= 0) {
      out.held_back.push("budget_exhausted");
      break;
    }
    let assignee = row.assignee;
    let defaulted = false;
    if (!assignee) {
      if (fallback === null) {
        out.skipped_unassigned.push(row.id);
        continue;
      }
      assignee = fallback;
      defaulted = true;
    }
    if (!deps.isSpawnable(assignee)) {
      out.skipped_nonspawnable.push(row.id);
      out.not_a_profile.push({ task_id: row.id, assignee });
      continue;
    }
    const current = perProfile.get(assignee) ?? 0;
    if (cap !== null && current >= cap) {
      out.skipped_per_profile_capped.push({ task_id: row.id, assignee, current });
      continue;
    }
    const guard = board.respawnGuard(row.id);
    if (guard !== null) {
      out.respawn_guarded.push({ task_id: row.id, reason: guard });
      if (!dryRun) board.recordRespawnGuarded(row.id, guard);
      continue;
    }
    if (defaulted) {
      if (!dryRun && !board.assignTask(row.id, assignee, { source: "kanban.default_assignee" })) continue;
      out.auto_assigned_default.push(row.id);
    }
    if (dryRun) {
      out.spawned.push({ task_id: row.id, assignee, workspace: "", pid: null });
      perProfile.set(assignee, current + 1);
      budget--;
      continue;
    }
    const task = board.claimTask(row.id);
    if (task === null || task.current_run_id === null || task.claim_lock === null) continue; // lost a race: not ours
    const runId = task.current_run_id;
    await deps.afterClaim?.(task.id);
    let workspace: ResolvedWorkspace;
    try {
      workspace = deps.resolveWorkspace(task);
      board.setWorkspace(task.id, workspace.path, workspace.branch);
    } catch (err) {
      // A path the task may never use (outside the allowed roots) blocks it at once: retrying cannot help.
      failSpawn(board, task.id, `workspace: ${oneLine(err)}`, failureLimit, out, deps, err instanceof WorkspaceError && err.permanent);
      continue;
    }
    let pid: number;
    try {
      pid = await deps.spawnWorker({ task: { ...task, workspace_path: workspace.path }, assignee, runId, claimLock: task.claim_lock, workspace });
    } catch (err) {
      failSpawn(board, task.id, oneLine(err), failureLimit, out, deps);
      continue;
    }
    if (!board.recordSpawn(task.id, pid, runId)) {
      // The attempt ended while we spawned (archived, reclaimed, or the worker already settled it).
      const now = board.getTask(task.id);
      if (now?.status === "running" || now?.status === "ready") deps.terminate?.([{ pid, lock: task.claim_lock }]);
    }
    out.spawned.push({ task_id: task.id, assignee, workspace: workspace.path, pid });
    perProfile.set(assignee, current + 1);
    budget--;
  }
}

function failSpawn(
  board: Board,
  id: string,
  error: string,
  failureLimit: number | undefined,
  out: DispatchResult,
  deps: DispatchDeps,
  permanent = false,
): void {
  deps.log?.(`spawn of ${id} failed: ${error}`);
  const tripped = board.recordTaskFailure(id, {
    error,
    outcome: "spawn_failed",
    releaseClaim: true,
    failureLimit,
    ...(permanent ? { forceTrip: true, extra: { permanent: true } } : {}),
  });
  if (tripped) out.auto_blocked.push(id);
}
