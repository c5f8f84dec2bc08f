import { BudgetHolds } from "./budgets.ts";
import { DEFAULT_CLAIM_TTL_SECONDS } from "./constants.ts";
import type { BoardContext } from "./context.ts";
import { invalid, wrongState } from "./errors.ts";
import { type Fence, requireFenced } from "./fencing.ts";
import { isHostLock } from "./hosts.ts";
import { formatMicroUsd } from "./money.ts";
import type { Awaitable } from "./store/port.ts";
import {
  type ClaimGlance,
  type ClaimHead,
  claimableAtAGlance,
  claimGlance,
  claimHead,
  extendLease,
  recordHeartbeat,
  recordWorkerPid,
  rejectClaim,
  takeClaim,
} from "./store/sqlite/claims.ts";
import { appendEvent } from "./store/sqlite/events.ts";
import { hostRow } from "./store/sqlite/hosts.ts";
import { endRun, openRun, setRunHeartbeat, setRunLease, setRunWorkerPid } from "./store/sqlite/runs.ts";
import { setWorkspacePath } from "./store/sqlite/tasks.ts";
import {
  claimFirstReadyAlone,
  claimFolds,
  claimInOneStatement,
  claimReadyByIdAlone,
  type FirstReadyOutcome,
} from "./store/pg/folded-writes.ts";
import { taskRowTx } from "./store/pg/shared-writers.ts";
import type { Task } from "./types.ts";

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
export async function claimTask(
  ctx: BoardContext,
  id: string,
  opts: ClaimOptions = {},
  defaultTtl = DEFAULT_CLAIM_TTL_SECONDS,
  /** Set by a claim walk (claim-next.ts), which lets any throw end its whole transaction: no savepoint. */
  inWalk = false,
  /** The head a claim walk read as it locked the row inside this transaction (PostgreSQL); read here otherwise. */
  known?: ClaimHead,
): Promise<Task | null> {
  const lease = ttl(opts.ttl_seconds, defaultTtl);
  const claimer = opts.claimer?.trim() || ctx.defaultClaimer;
  // A claim already lost is answered without the write lock: a task seen not ready (or claimed) by
  // a committed read could only have been refused inside the lock as well, and refusing writes
  // nothing. Contended claimers (dispatchers racing over one lane) mostly lose, and on PostgreSQL
  // each locked attempt costs three round trips under the board's single writer lock.
  if (!ctx.inTransaction) {
    const alone = !inWalk && ctx.writesAlone;
    const seen = alone ? await claimGlance(ctx, id) : await claimableAtAGlance(ctx, id);
    if (seen?.status !== "ready" || seen.claim_lock !== null) return null;
    // PostgreSQL, no budget on the board, a task with an assignee and no run ever (both seen at a
    // glance): the claim as one message (claimReadyByIdAlone). Lost there is lost; a row it found but
    // did not claim (an unfinished parent, an open incident) goes the full way below.
    const glance = seen as Partial<ClaimGlance>;
    if (alone && Number(glance.plain) === 1 && Number(glance.budgeted) === 0) {
      const now = ctx.now();
      const sent = await claimReadyByIdAlone(ctx, { id, claimer, expires: now + lease, now });
      if (sent?.claimed) return sent.claimed.task;
      if (sent !== null && sent.picked === null) return null;
    }
  }
  // PostgreSQL: a shared writer holding the task's row, alongside other claims and completions
  // (store/pg/shared-writers.ts); inside a claim walk it is part of the walk's transaction.
  return await taskRowTx(
    ctx,
    id,
    async () => {
      // A narrow read first: the full row is only worth materialising for the claim we win.
      const head = known !== undefined && inWalk && ctx.inTransaction ? known : await claimHead(ctx, id);
      if (head?.status !== "ready" || head.claim_lock !== null) return null;
      if (Number(head.parents_unfinished) === 1) {
        if (await rejectClaim(ctx, id)) await appendEvent(ctx, id, "claim_rejected", { reason: "parents_not_done" });
        return null;
      }
      // A walk judged the budgets for the whole lane already; a claim by id (a person, a script, an
      // agent naming the card) must not start work a spent budget holds either.
      if (!inWalk) await refuseBudgetHeld(ctx, id, head);
      return await claimWithRun(ctx, id, head, { claimer, lease, take: takeClaim, what: "claim" });
    },
    { joinOpen: inWalk },
  );
}

/**
 * A claim walk's one claim as one message (PostgreSQL): the first of `ids` (lane rows the walk judged
 * it may start, in lane order) still free is locked and, when it needs nothing decided on the way,
 * claimed with this lease (store/pg/folded-writes.ts claimFirstReadyAlone). Null where it was not
 * sent; a row `picked` but not `claimed` was let go with nothing written, for the walk's full way.
 */
export async function claimFirstReady(
  ctx: BoardContext,
  ids: readonly string[],
  opts: ClaimOptions,
  defaultTtl: number,
  commentsFrom: number,
): Promise<FirstReadyOutcome | null> {
  const lease = ttl(opts.ttl_seconds, defaultTtl);
  const claimer = opts.claimer?.trim() || ctx.defaultClaimer;
  const now = ctx.now();
  return await claimFirstReadyAlone(ctx, { ids, claimer, expires: now + lease, now, commentsFrom });
}

/** Refuses (WRONG_STATE, naming the budget and how to allow more) a claim a spent budget holds. */
async function refuseBudgetHeld(ctx: BoardContext, id: string, head: Pick<ClaimHead, "assignee" | "tenant">) {
  const holds = await BudgetHolds.read(ctx);
  if (holds.empty) return;
  const hold = await holds.holding(ctx, { id, assignee: head.assignee, tenant: head.tenant });
  if (hold === null) return;
  const what = hold.scope === "board" ? "the board's" : `${hold.scope} ${hold.key}'s`;
  throw wrongState(
    `cannot claim ${id}: ${what} budget is spent (${formatMicroUsd(hold.spent_micro_usd)} of ${formatMicroUsd(hold.limit_micro_usd)}); allow more first: kanban budget allow ${hold.scope}${hold.scope === "board" ? "" : ` ${hold.key}`} <usd>`,
    { task_id: id, reason: "budget", budget: hold },
  );
}

/** The compare-and-swap that moves a claimable task to running with its new run (ready: takeClaim). */
export type TakeClaim = (
  ctx: BoardContext,
  id: string,
  c: { claimer: string; expires: number; now: number; runId: number },
) => Awaitable<Task | null>;

/**
 * The claim itself, once the write lock is held and `head` says the task may be taken: closes a run a
 * lost worker left open, opens the new run, swaps the task to running (`take`: from ready, or from
 * review for a reviewer) and records `claimed`, with `extra` in its payload. A claim from ready and a
 * reviewer's claim from review differ only in the swap and that payload.
 */
export async function claimWithRun(
  ctx: BoardContext,
  id: string,
  head: ClaimHead,
  c: { claimer: string; lease: number; take: TakeClaim; what: string; extra?: Record<string, unknown> },
): Promise<Task> {
  if (head.current_run_id !== null || Number(head.open_run) === 1) {
    await endRun(ctx, id, { status: "reclaimed", outcome: "reclaimed", summary: "invariant recovery on re-claim" });
  }
  const now = ctx.now();
  const expires = now + c.lease;
  // PostgreSQL: the run, the swap and the event in one round trip (store/pg/folded-writes.ts).
  if (c.take === takeClaim && claimFolds(ctx, c.extra)) {
    const folded = await claimInOneStatement(ctx, {
      taskId: id,
      claimer: c.claimer,
      expires,
      now,
      profile: head.assignee,
      stepKey: head.current_step_key,
      maxRuntimeSeconds: head.max_runtime_seconds,
      extra: c.extra,
    });
    if (folded === null)
      throw wrongState(`${c.what} of ${id} lost its compare-and-swap inside the write lock`, { task_id: id });
    return folded.task;
  }
  // The write lock is ours since BEGIN IMMEDIATE, so the status read above still holds: the run can
  // be opened first and the compare-and-swap below sets current_run_id in the same UPDATE. Should the
  // swap still miss, the throw rolls the run back with it.
  const runId = await openRun(ctx, {
    taskId: id,
    profile: head.assignee,
    stepKey: head.current_step_key,
    claimLock: c.claimer,
    claimExpires: expires,
    maxRuntimeSeconds: head.max_runtime_seconds,
    startedAt: now,
  });
  // A fresh claim starts with no heartbeat and no pid: nothing from the previous attempt carries over.
  const task = await c.take(ctx, id, { claimer: c.claimer, expires, now, runId });
  if (task === null)
    throw wrongState(`${c.what} of ${id} lost its compare-and-swap inside the write lock`, { task_id: id });
  await appendEvent(ctx, id, "claimed", { lock: c.claimer, expires, run_id: runId, ...c.extra }, runId);
  return task;
}

/** Extends the lease of a running claim (no event). Fenced on the claimer and, when given, the run. */
export async function heartbeatClaim(
  ctx: BoardContext,
  id: string,
  opts: ClaimOptions & Fence = {},
  defaultTtl = DEFAULT_CLAIM_TTL_SECONDS,
): Promise<boolean> {
  const lease = ttl(opts.ttl_seconds, defaultTtl);
  const lock = opts.claimer ?? opts.claim_lock ?? null;
  // Extending a lease is only for the holder: without its lock or run id anyone could keep
  // someone else's claim alive forever.
  if (lock === null && (opts.expected_run_id === undefined || opts.expected_run_id === null)) {
    throw invalid(`cannot extend the claim on ${id}: pass the claim lock or run id this worker was given`);
  }
  return await ctx.tx(async () => {
    const task = await requireFenced(ctx, id, { expected_run_id: opts.expected_run_id, claim_lock: lock });
    if (task.status !== "running")
      throw wrongState(`cannot heartbeat ${id} (not running)`, { task_id: id, status: task.status });
    const now = ctx.now();
    let expires = now + lease;
    const hostDeadline = await hostLeaseDeadline(ctx, task.claim_lock);
    if (hostDeadline !== null) {
      // A remote run's lease is its host's: the worker's own heartbeat (through the API, with its run
      // token) proves the worker alive, not the host that must stop it, so it never carries the claim
      // past the host's last heartbeat plus the host's lease. It never shortens the claim either.
      expires = Math.min(expires, hostDeadline);
      if (task.claim_expires !== null && expires <= task.claim_expires) return true;
    }
    const extended = await extendLease(ctx, id, task.claim_lock, expires);
    if (extended && task.current_run_id !== null) await setRunLease(ctx, task.current_run_id, expires);
    return extended;
  });
}

/**
 * When the lease of a remote host's claim (`<host_id>:<pid>`) runs out if the host stays silent:
 * its last heartbeat plus its lease. Null for any other claim (a local `<hostname>:<pid>` lock has no
 * host row), whose lease the board's claim TTL governs as before.
 */
async function hostLeaseDeadline(ctx: BoardContext, lock: string | null): Promise<number | null> {
  const colon = lock?.indexOf(":") ?? -1;
  if (lock === null || colon < 1) return null;
  const host = await hostRow(ctx, lock.slice(0, colon));
  if (host === null || !isHostLock(host.id, lock)) return null;
  return Number(host.last_seen_at) + Number(host.lease_seconds);
}

/** Records that the worker is alive (event `heartbeat`, with an optional note). */
export async function heartbeatWorker(
  ctx: BoardContext,
  id: string,
  opts: { note?: string | null } & Fence = {},
): Promise<boolean> {
  return await ctx.tx(async () => {
    const task = await requireFenced(ctx, id, opts);
    if (task.status !== "running")
      throw wrongState(`cannot heartbeat ${id} (not running)`, { task_id: id, status: task.status });
    const now = ctx.now();
    await recordHeartbeat(ctx, id, now);
    if (task.current_run_id !== null) await setRunHeartbeat(ctx, task.current_run_id, now);
    const note = opts.note?.trim();
    await appendEvent(ctx, id, "heartbeat", note ? { note } : null, task.current_run_id);
    return true;
  });
}

/**
 * A worker's heartbeat as one write: extends its lease (like {@link heartbeatClaim}, fenced on its
 * lock or run) and records that it is alive (like {@link heartbeatWorker}, event `heartbeat`), both
 * or neither. CONFLICT when the task is not running under that fence.
 */
export async function heartbeat(
  ctx: BoardContext,
  id: string,
  opts: { note?: string | null; ttl_seconds?: number | null } & Fence = {},
  defaultTtl = DEFAULT_CLAIM_TTL_SECONDS,
): Promise<true> {
  const fence: Fence = { expected_run_id: opts.expected_run_id, claim_lock: opts.claim_lock };
  return await ctx.tx(async () => {
    if (!(await heartbeatClaim(ctx, id, { ...fence, ttl_seconds: opts.ttl_seconds }, defaultTtl)))
      throw wrongState(`cannot heartbeat ${id} (not running?)`, { task_id: id });
    await heartbeatWorker(ctx, id, { ...fence, note: opts.note });
    return true as const;
  });
}

/** Dispatcher bookkeeping after a spawn: records the worker pid on the task and its run (event `spawned`). */
export async function recordSpawn(ctx: BoardContext, id: string, pid: number, runId: number): Promise<boolean> {
  return await ctx.tx(async () => {
    if (!(await recordWorkerPid(ctx, id, pid, runId))) return false;
    await setRunWorkerPid(ctx, runId, pid);
    await appendEvent(ctx, id, "spawned", { pid }, runId);
    return true;
  });
}

/** Persists where a task's workspace was materialised (and its worktree branch). */
export async function setWorkspace(
  ctx: BoardContext,
  id: string,
  workspacePath: string,
  branchName?: string | null,
): Promise<void> {
  await ctx.tx(async () => await setWorkspacePath(ctx, id, workspacePath, branchName ?? null));
}
