import { BLOCK_KINDS, type BlockKind } from "@kanban/contract";
import { recordComment } from "./activity.ts";
import type { BoardContext } from "./context.ts";
import { invalid, notFound, wrongState } from "./errors.ts";
import { checkFence, type Fence } from "./fencing.ts";
import { withStaleRunHandling } from "./late-report.ts";
import { parentsSatisfied } from "./store/sqlite/dependencies.ts";
import { appendEvent } from "./store/sqlite/events.ts";
import { endRun, hasOpenRun, synthesizeRun } from "./store/sqlite/runs.ts";
import { isReviewRun, resumesInReview } from "./store/sqlite/review-reads.ts";
import { blockState, getTask, parkTask, requireTask, resumeTask } from "./store/sqlite/tasks.ts";
import { allowedFrom, TRANSITIONS } from "./transitions.ts";
import { type Termination, workerReleasedByOthers } from "./termination.ts";
import type { Task } from "./types.ts";

export interface ParkResult {
  task: Task;
  run_id: number | null;
  /**
   * The worker the caller must stop: set when an unfenced call (a person, a script) parked a task a
   * live worker on this host was running. A fenced call is the worker itself: null.
   */
  terminate: Termination | null;
  /** Set when this call re-sent the block that already settled `expected_run_id` (see late-report.ts). */
  replayed?: true;
}

/**
 * The second block in a row with the same declared kind (no completion between, an unblock does not
 * count) is a loop: the card goes to `triage` for a person to decide, with `block_loop_detected`.
 */
export const BLOCK_RECURRENCE_LIMIT = 2;

/** What block/schedule/unblock accept besides the fence: the reason, and who (if anyone) records it as a comment. */
export interface ParkOptions {
  reason?: string | null;
  /**
   * Block only: the kind of wait (see {@link BLOCK_KINDS}). An untyped block is plain Hermes A: it
   * parks the card in `blocked` and counts nothing.
   */
  kind?: string | null;
  /**
   * When given with a non-blank reason, the reason is also stored as a comment by this author
   * (`BLOCKED: …`, `SCHEDULED: …`, `UNBLOCK: …`), in the verb's own transaction.
   */
  comment_author?: string | null;
}

/** Records `reason` as `PREFIX: reason` by `author` when both are given; runs inside the verb's transaction. */
async function commentReason(ctx: BoardContext, id: string, opts: ParkOptions, prefix: string): Promise<void> {
  const author = opts.comment_author?.trim();
  const reason = opts.reason?.trim();
  if (author && reason) await recordComment(ctx, id, author, `${prefix}: ${reason}`);
}

async function settle(
  ctx: BoardContext,
  id: string,
  opts: ParkOptions & Fence,
  verb: "block" | "schedule",
  to: "blocked" | "scheduled",
): Promise<ParkResult> {
  const fence: Fence = { expected_run_id: opts.expected_run_id, claim_lock: opts.claim_lock };
  const reason = opts.reason?.trim() || null;
  const kind = verb === "block" ? blockKindOf(opts.kind) : null;
  return await ctx.tx(async () => {
    const task = await getTask(ctx, id);
    if (!task) throw notFound(`task ${id} not found`, { task_id: id });
    checkFence(task, fence);
    const from = TRANSITIONS[verb].from;
    if (!allowedFrom(verb, task.status)) {
      throw wrongState(
        `cannot ${to === "blocked" ? "block" : "schedule"} ${id}: status is '${task.status}' (expected ${from.join(" or ")})`,
        {
          task_id: id,
          status: task.status,
        },
      );
    }
    const landing = kind === null ? null : await typedLanding(ctx, task, kind, reason);
    // Hermes B: a block of a reviewer run records it, so that the unblock resumes the card in review.
    const review = verb === "block" && task.status === "running" && (await isReviewRun(ctx, id));
    const parked = await parkTask(ctx, verb, id, {
      from: task.status,
      runId: task.current_run_id,
      to: landing?.status,
      blockKind: landing?.blockKind,
    });
    if (!parked)
      throw wrongState(`cannot ${to === "blocked" ? "block" : "schedule"} ${id}: it changed state concurrently`);
    const outcome = to === "blocked" ? "blocked" : "scheduled";
    let runId = await endRun(ctx, id, { status: outcome, outcome, summary: reason });
    if (runId === null && reason) runId = await synthesizeRun(ctx, task, { status: outcome, outcome, summary: reason });
    const source = review ? { source_status: "review" } : {};
    if (landing) await appendEvent(ctx, id, landing.event, { ...landing.payload, ...source }, runId);
    else await appendEvent(ctx, id, to, { reason, ...source }, runId);
    await commentReason(ctx, id, opts, to === "blocked" ? "BLOCKED" : "SCHEDULED");
    return { task: await requireTask(ctx, id), run_id: runId, terminate: workerReleasedByOthers(ctx, task, fence) };
  });
}

/** The declared kind, checked; null for an untyped block. */
function blockKindOf(kind: string | null | undefined): BlockKind | null {
  const k = kind?.trim();
  if (!k) return null;
  if (!(BLOCK_KINDS as readonly string[]).includes(k))
    throw invalid(`kind must be one of ${BLOCK_KINDS.join(", ")} (got '${k}')`, { kind: k });
  return k as BlockKind;
}

interface TypedLanding {
  status: "blocked" | "todo" | "triage";
  event: "blocked" | "dependency_wait" | "block_loop_detected";
  payload: Record<string, unknown>;
  blockKind: { kind: string; recurrences: number };
}

/**
 * Where a typed block lands (Hermes B). `dependency` with an unfinished parent: `todo`, event
 * `dependency_wait`, no streak counted (the parent's completion promotes it). Every other kind (and
 * `dependency` with no unfinished parent, which is then a question for a person: `needs_input`)
 * counts a streak of that kind; at {@link BLOCK_RECURRENCE_LIMIT} the card goes to `triage` with
 * `block_loop_detected`, below it to `blocked`.
 */
async function typedLanding(
  ctx: BoardContext,
  task: Task,
  kind: BlockKind,
  reason: string | null,
): Promise<TypedLanding> {
  // A budget's pause (budgets.ts) is the board's decision, not the worker's: it counts no streak, so
  // a card paused day after day never lands in triage as a loop.
  if (kind === "budget")
    return { status: "blocked", event: "blocked", payload: { reason, kind }, blockKind: { kind, recurrences: 0 } };
  const prev = await blockState(ctx, task.id);
  if (kind === "dependency" && !(await parentsSatisfied(ctx, task.id))) {
    return {
      status: "todo",
      event: "dependency_wait",
      payload: { reason, kind },
      blockKind: { kind, recurrences: prev.block_recurrences },
    };
  }
  const effective: BlockKind = kind === "dependency" ? "needs_input" : kind;
  const recurrences = prev.block_kind === effective ? prev.block_recurrences + 1 : 1;
  const blockKind = { kind: effective, recurrences };
  if (recurrences >= BLOCK_RECURRENCE_LIMIT) {
    return {
      status: "triage",
      event: "block_loop_detected",
      payload: { reason, kind: effective, recurrences, limit: BLOCK_RECURRENCE_LIMIT, source_status: task.status },
      blockKind,
    };
  }
  return { status: "blocked", event: "blocked", payload: { reason, kind: effective, recurrences }, blockKind };
}

/**
 * A worker (or person) parks a running/ready task for human input. This block is "sticky": only an
 * explicit unblock moves it on (recompute never does). A fenced block whose run is no longer current
 * is replayed or recorded as a late report (late-report.ts).
 */
export async function blockTask(ctx: BoardContext, id: string, opts: ParkOptions & Fence = {}): Promise<ParkResult> {
  return await withStaleRunHandling(
    ctx,
    id,
    opts.expected_run_id,
    { verb: "block", summary: null, reason: opts.reason?.trim() || null },
    async () => await settle(ctx, id, opts, "block", "blocked"),
    (task, runId) => ({ task, run_id: runId, terminate: null, replayed: true }),
  );
}

/** Parks a task until something external happens; leaves only through unblock. */
export async function scheduleTask(ctx: BoardContext, id: string, opts: ParkOptions & Fence = {}) {
  return await settle(ctx, id, opts, "schedule", "scheduled");
}

/**
 * Moves a blocked/scheduled task back into the flow: `ready` when its parents are done, else
 * `todo`. Gives it a fresh retry budget.
 */
export async function unblockTask(ctx: BoardContext, id: string, opts: ParkOptions = {}): Promise<Task> {
  return await ctx.tx(async () => {
    const task = await getTask(ctx, id);
    if (!task) throw notFound(`task ${id} not found`, { task_id: id });
    if (!allowedFrom("unblock", task.status)) {
      throw wrongState(`cannot unblock ${id}: status is '${task.status}' (not blocked or scheduled)`, {
        task_id: id,
        status: task.status,
      });
    }
    if (task.current_run_id !== null || (await hasOpenRun(ctx, id))) {
      await endRun(ctx, id, { status: "reclaimed", outcome: "reclaimed", summary: "invariant recovery on unblock" });
    }
    // Hermes B: a card that left review (its reviewer run blocked, or the breaker tripped it there) resumes in review.
    const resume = (await resumesInReview(ctx, id)) ? "review" : "ready";
    const next = (await parentsSatisfied(ctx, id)) ? resume : "todo";
    if (!(await resumeTask(ctx, id, { from: task.status, to: next })))
      throw wrongState(`cannot unblock ${id}: it changed state concurrently`);
    await appendEvent(ctx, id, "unblocked", next === "ready" ? null : { status: next, resume_status: resume });
    await commentReason(ctx, id, opts, "UNBLOCK");
    return await requireTask(ctx, id);
  });
}
