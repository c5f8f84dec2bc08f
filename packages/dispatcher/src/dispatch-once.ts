import {
  type AutoReviveConfig,
  type Board,
  type ClaimNextResult,
  type ExitCodes,
  type ExitStatus,
  type LaneClaim,
  laneSkipMotion,
  type MotionCode,
  type ReadyLane,
  type Task,
  type Termination,
} from "@kanban/kernel";
import type { TickLockAttempt } from "./coordination/coordination.ts";
import { tryAcquireDispatchLock } from "./pid-lock.ts";
import { type ResolvedWorkspace, WorkspaceError } from "@kanban/workspace";
import { isInfrastructureSpawnError } from "./spawn-failure.ts";
import { hasSpawnableReview, spawnReviews } from "./review-lane.ts";

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
  /** Runs booked `rate_limited` (exit 75) this tick: requeued, nothing counted. */
  rate_limited: string[];
  /** Runs booked `transient` (provider 5xx, network, exit 69) this tick: requeued, nothing counted. */
  transient: string[];
  /** Breaker-blocked cards put back in play by the auto-revive this tick, and those whose revives ran out. */
  auto_revived: string[];
  revive_exhausted: string[];
  promoted: number;
  spawned: { task_id: string; assignee: string; workspace: string; pid: number | null }[];
  skipped_unassigned: string[];
  skipped_nonspawnable: string[];
  /** The assignee of each `skipped_nonspawnable` task: a name that is not a profile on this host. */
  not_a_profile: { task_id: string; assignee: string }[];
  skipped_per_profile_capped: { task_id: string; assignee: string; current: number }[];
  auto_assigned_default: string[];
  /**
   * Ready tasks admission control held back this tick (memory floor, host cap), never claimed; the
   * per-profile cap's holds stay in `skipped_per_profile_capped`.
   */
  held: { task_id: string; assignee: string; code: string; detail: Record<string, unknown> }[];
  /** Ready tasks held back by the respawn guard (spec §2.12) with the reason. */
  respawn_guarded: { task_id: string; reason: string }[];
  /**
   * Every task the lane passed over this tick, as `kanban why` explains it (the kernel's motion:
   * same code, same sentence), in lane order. Made when first read: a tick passes over every ready
   * task it cannot start, thousands on a large board, and writing their sentences was a fifth of a
   * tick with nothing to spawn, for a list only callers that ask for it read.
   */
  readonly motions: { task_id: string; code: MotionCode; line: string }[];
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
  staleTimeoutSeconds?: number;
  crashGraceSeconds?: number;
  defaultAssignee?: string | null;
  /**
   * `kanban.review_dispatch` (default true): after the ready lane, spawn the reviewer (assignee) of
   * each unclaimed `review` task (review-lane.ts); while one waits, the ready lane leaves it a slot.
   */
  reviewDispatch?: boolean;
  /** The labels this dispatcher offers (`--labels`, `kanban.labels`): a task requiring others is skipped (motion no_host_for_labels). */
  labels?: readonly string[];
  /** Take the per-board `<db>.dispatch.lock` for the tick (default true; a dry run locks too: its sweeps write). */
  lock?: boolean;
  /** The exit codes of the rate-limited and transient classes (`kanban.rate_limit_exit_code`, `kanban.transient_exit_code`). */
  exitCodes?: ExitCodes;
  /** `kanban.default_max_runtime_seconds`: the limit of a task and profile that set none (0 or absent: none). */
  defaultMaxRuntimeSeconds?: number;
  /** Each profile's own max runtime, used when its task sets none. */
  profileMaxRuntimeSeconds?: Readonly<Record<string, number>>;
  /** The auto-revive's cooldowns and bound (absent: the kernel's defaults; max 0 turns it off). */
  autoRevive?: Partial<AutoReviveConfig>;
  /** The tick interval, which sizes the respawn spread after a mass failure. */
  tickIntervalSeconds?: number;
}

export interface SpawnContext {
  task: Task;
  assignee: string;
  runId: number;
  claimLock: string;
  workspace: ResolvedWorkspace;
  /** A reviewer run (claimed from `review`): its worker is told so (KANBAN_REVIEW=1). */
  review?: boolean;
}

export interface DispatchDeps {
  /** Whether a profile can be spawned (configured, or a Hermes profile on disk). */
  isSpawnable(profile: string): boolean;
  /** Materialises the workspace of a claimed task (outside any transaction); throws with a one-line reason. */
  resolveWorkspace(task: Task): ResolvedWorkspace | Promise<ResolvedWorkspace>;
  /** Starts the worker and returns its pid; throws with a one-line reason. */
  spawnWorker(ctx: SpawnContext): Promise<number>;
  /** How one of our reaped children ended. */
  exitStatus?(pid: number): ExitStatus | undefined;
  /** The end of a task's worker log, attached to a protocol violation's event. */
  outputTail?(taskId: string): string | null;
  /** Terminates reported workers (non-blocking). */
  terminate?(targets: Termination[]): void;
  /** Running tasks on every other board of the home (only asked when max_in_progress is set). */
  runningElsewhere?(): Promise<number>;
  /**
   * The board's tick lock (the dispatcher's coordination: Hermes' flock beside an SQLite file, an
   * advisory lock on PostgreSQL). Default: the flock on `<db>.dispatch.lock`.
   */
  tickLock?(board: Board): Promise<TickLockAttempt>;
  /**
   * Admission control (admission/admission.ts): `enter` before each claim (the host's lock and
   * counts), `hold` asked by the lane for each task before it is claimed, `leave` after the claim's
   * spawn. Without it every spawnable task is admitted.
   */
  admission?: {
    enter(): Promise<void>;
    hold(assignee: string): { code: string; detail: Record<string, unknown> } | null;
    leave(): void;
  };
  /** Test hook: awaited between claim and spawn. */
  afterClaim?(taskId: string): Promise<void>;
  log?(line: string): void;
}

/** Each tick result's lane skips, with the time and cap they were judged at, for its `motions`. */
const laneSkips = new WeakMap<DispatchResult, { next: ClaimNextResult; now: number; cap: number | null }[]>();

export function emptyResult(): DispatchResult {
  const out: DispatchResult = {
    reclaimed: 0,
    crashed: [],
    timed_out: [],
    stale: [],
    auto_blocked: [],
    rate_limited: [],
    transient: [],
    auto_revived: [],
    revive_exhausted: [],
    promoted: 0,
    spawned: [],
    skipped_unassigned: [],
    skipped_nonspawnable: [],
    not_a_profile: [],
    skipped_per_profile_capped: [],
    held: [],
    respawn_guarded: [],
    get motions() {
      const value = (laneSkips.get(out) ?? []).flatMap(({ next, now, cap }) =>
        next.skipped.map((s) => {
          const m = laneSkipMotion(s, now, { cap });
          return { task_id: s.task_id, code: m.code, line: m.line };
        }),
      );
      // Made once; later reads see the same list.
      Object.defineProperty(out, "motions", { value, enumerable: true });
      return value;
    },
    auto_assigned_default: [],
    skipped_locked: false,
    held_back: [],
  };
  return out;
}

function oneLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split("\n")[0] ?? msg;
}

export async function runningCount(board: Board): Promise<number> {
  return board.runningCount();
}

/** Whether the board has a ready task a worker could be spawned for right now (the stuck-queue signal). */
export async function hasSpawnableReady(
  board: Board,
  deps: Pick<DispatchDeps, "isSpawnable">,
  defaultAssignee: string | null = null,
  labels: readonly string[] = [],
): Promise<boolean> {
  // A simulated walk with no cap: a task the respawn guard holds back is waiting on purpose and must
  // not make the queue look stuck, while one held by a per-profile cap does. A task requiring labels
  // this dispatcher lacks is another host's, never a stuck queue.
  const lane = board.readyLane({ isSpawnable: (p) => deps.isSpawnable(p), defaultAssignee, dryRun: true, labels });
  return (await board.claimNext(lane, {}, 1)).claimed.length > 0;
}

async function recover(board: Board, opts: DispatchOptions, deps: DispatchDeps, out: DispatchResult): Promise<void> {
  // Every failure booked here and the promotion pass judge with the board's own failure limit
  // (the dispatcher opens its boards with `--failure-limit` / config's value, read live).
  const terminate: Termination[] = [];
  const stale = await board.releaseStaleClaims();
  out.reclaimed = stale.reclaimed.length;
  terminate.push(...stale.terminate);
  // A reclaim books a failure too; the kernel does not say whether it tripped, the status does.
  for (const id of stale.reclaimed) if ((await board.getTask(id))?.status === "blocked") out.auto_blocked.push(id);
  const staleRunning = await board.detectStaleRunning(opts.staleTimeoutSeconds ?? 0);
  out.stale = staleRunning.stale;
  terminate.push(...staleRunning.terminate);
  const crashed = await board.detectCrashedWorkers({
    graceSeconds: opts.crashGraceSeconds,
    exitStatus: deps.exitStatus,
    outputTail: deps.outputTail,
    exitCodes: opts.exitCodes,
    tickIntervalSeconds: opts.tickIntervalSeconds,
  });
  out.crashed = [...crashed.crashed, ...crashed.protocol_violations];
  out.rate_limited = crashed.rate_limited;
  out.transient = crashed.transient;
  out.auto_blocked.push(...crashed.auto_blocked);
  const timedOut = await board.enforceMaxRuntime({
    defaultMaxRuntimeSeconds: opts.defaultMaxRuntimeSeconds,
    profileMaxRuntimeSeconds: opts.profileMaxRuntimeSeconds,
    tickIntervalSeconds: opts.tickIntervalSeconds,
  });
  out.timed_out = timedOut.timed_out;
  out.auto_blocked.push(...timedOut.auto_blocked);
  terminate.push(...timedOut.terminate);
  if (terminate.length > 0) deps.terminate?.(terminate);
  // Breaker-blocked cards whose revive cooldown is over go back to ready before the lane is walked.
  const revive = await board.reviveBrokenCards(opts.autoRevive ?? {});
  out.auto_revived = revive.revived;
  out.revive_exhausted = revive.exhausted;
  out.promoted = await board.recomputeReady();
}

/**
 * Runs one tick on `board`. Spawn failures (a bad workspace, a profile whose worker fails to start)
 * feed the task's circuit breaker; a tripped task ends up blocked with `gave_up` and is listed in
 * `auto_blocked`. A refusal of the host's (program missing here, fork or disk failure) is booked
 * `infrastructure`: never counted, cooled down by the respawn guard.
 */
export async function dispatchOnce(board: Board, opts: DispatchOptions, deps: DispatchDeps): Promise<DispatchResult> {
  const out = emptyResult();
  const dryRun = opts.dryRun === true;
  const lock =
    opts.lock === false
      ? null
      : deps.tickLock
        ? await deps.tickLock(board)
        : tryAcquireDispatchLock(`${board.path}.dispatch.lock`);
  if (lock !== null && !lock.ok) {
    out.skipped_locked = true;
    out.held_back.push("skipped_locked");
    return out;
  }
  try {
    // As in Hermes, a dry run still recovers (stale claims, stale running, crashed workers, max
    // runtime) and promotes: only claiming and spawning are simulated.
    await recover(board, opts, deps, out);
    await spawnReady(board, opts, deps, out, dryRun);
    return out;
  } finally {
    if (lock?.ok) await lock.lock.release();
  }
}

async function spawnReady(
  board: Board,
  opts: DispatchOptions,
  deps: DispatchDeps,
  out: DispatchResult,
  dryRun: boolean,
): Promise<void> {
  const running = await runningCount(board);
  let budget = Number.POSITIVE_INFINITY;
  if (opts.maxSpawn !== null && opts.maxSpawn !== undefined) {
    budget = opts.maxSpawn - running;
    if (budget <= 0) {
      out.held_back.push(`max_spawn=${opts.maxSpawn}`);
      return;
    }
  }
  if (opts.maxInProgress !== null && opts.maxInProgress !== undefined) {
    const total = running + ((await deps.runningElsewhere?.()) ?? 0);
    const room = opts.maxInProgress - total;
    if (room <= 0) {
      out.held_back.push(`max_in_progress=${opts.maxInProgress}`);
      return;
    }
    budget = Math.min(budget, room);
  }
  // Hermes B: while a review waits for a spawnable reviewer, the ready lane leaves it one slot.
  const reviewWaiting = opts.reviewDispatch !== false && (await hasSpawnableReview(board, deps));
  const reserved = reviewWaiting && Number.isFinite(budget) ? 1 : 0;
  budget -= reserved;
  // Which task goes next (order, default assignee, spawnable profiles, per-profile caps, the respawn
  // guard) is the kernel's decision; here each claim is turned into a worker before the next is taken.
  const lane = board.readyLane({
    isSpawnable: (p) => deps.isSpawnable(p),
    defaultAssignee: opts.defaultAssignee ?? null,
    maxPerProfile: opts.maxInProgressPerProfile ?? null,
    dryRun,
    labels: opts.labels ?? [],
    ...(deps.admission ? { hold: (assignee: string) => deps.admission?.hold(assignee) ?? null } : {}),
  });
  for (;;) {
    if (budget <= 0) break; // only when the one slot left is the review lane's
    // Admission decides with the host's count under its lock, held until the claim's worker is counted.
    await deps.admission?.enter();
    let next: ClaimNextResult;
    try {
      next = await board.claimNext(lane, {}, 1);
      record(next, out);
      recordMotions(next, out, board.now(), opts.maxInProgressPerProfile ?? null);
      const claim = next.claimed[0];
      if (claim !== undefined) {
        if (await start(board, claim, lane, deps, out)) budget--;
      }
    } finally {
      deps.admission?.leave();
    }
    if (!next.more) break;
    if (budget <= 0) {
      out.held_back.push("budget_exhausted");
      break;
    }
  }
  if (reviewWaiting) await spawnReviews(board, deps, out, dryRun, budget + reserved);
}

/** Files the walk's decisions under the result's lists. */
function record(next: ClaimNextResult, out: DispatchResult): void {
  for (const s of next.skipped) {
    if (s.reason === "unassigned") out.skipped_unassigned.push(s.task_id);
    else if (s.reason === "not_a_profile") {
      out.skipped_nonspawnable.push(s.task_id);
      out.not_a_profile.push({ task_id: s.task_id, assignee: s.assignee });
    } else if (s.reason === "per_profile_cap")
      out.skipped_per_profile_capped.push({ task_id: s.task_id, assignee: s.assignee, current: s.current });
    else if (s.reason === "held")
      out.held.push({ task_id: s.task_id, assignee: s.assignee, code: s.hold.code, detail: s.hold.detail });
    else if (s.reason === "respawn_guard") out.respawn_guarded.push({ task_id: s.task_id, reason: s.guard });
    // reason "labels" (a task requiring labels this dispatcher does not offer): reported as its motion only.
  }
  for (const code of new Set(next.skipped.flatMap((s) => (s.reason === "held" ? [s.hold.code] : []))))
    if (!out.held_back.includes(code)) out.held_back.push(code);
  out.auto_assigned_default.push(...next.assigned_default);
}

/** Keeps the lane's skips for the result's `motions`, the motion the kernel gives the same tasks (one set of rules: motion/holds.ts). */
function recordMotions(next: ClaimNextResult, out: DispatchResult, now: number, cap: number | null): void {
  const batches = laneSkips.get(out);
  if (batches === undefined) laneSkips.set(out, [{ next, now, cap }]);
  else batches.push({ next, now, cap });
}

/**
 * Turns one claim into a running worker: workspace, spawn, pid on record. Returns whether it counts
 * against the budget (a spawn that failed gave its claim back and does not).
 */
export async function start(
  board: Board,
  claim: LaneClaim,
  lane: Pick<ReadyLane, "release">,
  deps: DispatchDeps,
  out: DispatchResult,
  review = false,
): Promise<boolean> {
  const { task, assignee } = claim;
  if (task === null) {
    // A dry run: the claim was only simulated.
    out.spawned.push({ task_id: claim.task_id, assignee, workspace: "", pid: null });
    return true;
  }
  if (task.current_run_id === null || task.claim_lock === null) {
    lane.release(task.id); // not ours after all
    return false;
  }
  const runId = task.current_run_id;
  await deps.afterClaim?.(task.id);
  let workspace: ResolvedWorkspace;
  try {
    workspace = await deps.resolveWorkspace(task);
    await board.setWorkspace(task.id, workspace.path, workspace.branch);
  } catch (err) {
    // A path the task may never use (outside the allowed roots) blocks it at once: retrying cannot help.
    await failSpawn(board, task.id, `workspace: ${oneLine(err)}`, out, deps, spawnFailureClass(err));
    lane.release(task.id);
    return false;
  }
  let pid: number;
  try {
    pid = await deps.spawnWorker({
      task: { ...task, workspace_path: workspace.path },
      assignee,
      runId,
      claimLock: task.claim_lock,
      workspace,
      ...(review ? { review: true } : {}),
    });
  } catch (err) {
    await failSpawn(board, task.id, oneLine(err), out, deps, spawnFailureClass(err));
    lane.release(task.id);
    return false;
  }
  if (!(await board.recordSpawn(task.id, pid, runId))) {
    // The attempt ended while we spawned (archived, reclaimed, or the worker already settled it).
    const now = await board.getTask(task.id);
    if (now?.status === "running" || now?.status === "ready") deps.terminate?.([{ pid, lock: task.claim_lock }]);
  }
  out.spawned.push({ task_id: task.id, assignee, workspace: workspace.path, pid });
  return true;
}

/**
 * How a spawn failure is booked: `permanent` (retrying cannot help: blocked at once), `infrastructure`
 * (the host refused: not counted, cooled down by the respawn guard), or `counted` (the breaker's).
 */
type SpawnFailureClass = "permanent" | "infrastructure" | "counted";

function spawnFailureClass(err: unknown): SpawnFailureClass {
  if (err instanceof WorkspaceError && err.permanent) return "permanent";
  return isInfrastructureSpawnError(err) ? "infrastructure" : "counted";
}

async function failSpawn(
  board: Board,
  id: string,
  error: string,
  out: DispatchResult,
  deps: DispatchDeps,
  cls: SpawnFailureClass,
): Promise<void> {
  deps.log?.(`spawn of ${id} failed${cls === "infrastructure" ? " (infrastructure)" : ""}: ${error}`);
  const tripped = await board.recordTaskFailure(id, {
    error,
    outcome: "spawn_failed",
    releaseClaim: true,
    ...(cls === "permanent" ? { forceTrip: true, extra: { permanent: true } } : {}),
    ...(cls === "infrastructure" ? { infrastructure: true } : {}),
  });
  if (tripped) out.auto_blocked.push(id);
}
