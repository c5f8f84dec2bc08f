import { DEFAULT_CLAIM_TTL_SECONDS } from "./constants.ts";
import { recordComment } from "./activity.ts";
import { BudgetHolds } from "./budgets.ts";
import type { BoardContext } from "./context.ts";
import { invalid, notFound, wrongState } from "./errors.ts";
import { checkFence, type Fence } from "./fencing.ts";
import { claimableAtAGlance, claimHead } from "./store/sqlite/claims.ts";
import { parentsSatisfied, unfinishedParents } from "./store/sqlite/dependencies.ts";
import { appendEvent } from "./store/sqlite/events.ts";
import {
  demoteReview,
  returnToImplementer,
  reviewLaneRows,
  sendToReview,
  takeReviewClaim,
} from "./store/sqlite/review.ts";
import { isReviewRun, latestProvenance } from "./store/sqlite/review-reads.ts";
import { endRun, synthesizeRun } from "./store/sqlite/runs.ts";
import { getTask, requireTask } from "./store/sqlite/tasks.ts";
import { storableJson } from "./stored-json.ts";
import { type Termination, workerReleasedByOthers } from "./termination.ts";
import { allowedFrom } from "./transitions.ts";
import { claimWithRun } from "./claim.ts";
import { dropRound, failRoundByPerson } from "./gate-rounds.ts";
import { verificationHoldsReview, verificationRow } from "./store/sqlite/gates.ts";
import type { Task } from "./types.ts";

// The review lane (Hermes B, spec §2.7): an implementer hands its work to a reviewer profile
// (`request_review`: status `review`, the reviewer becomes the assignee); the dispatcher spawns the
// reviewer, whose run is claimed from `review`; the reviewer approves (completes the task) or sends
// it back (`request_changes`: the implementer is the assignee again). A person may take a card out of
// review without a reviewer run (`reopen_review_task`). Provenance lives in the events, as in B.

export interface RequestReviewInput extends Fence {
  /** What the implementer hands over (stored on its closed run and in the event). */
  summary?: string | null;
  metadata?: Record<string, unknown> | null;
  /** The reviewer profile; absent: the reviewer of the latest `changes_requested` (a second round). */
  reviewer?: string | null;
  /** Hand off a task a live worker holds without naming its run (a person's call: the worker is stopped). */
  force?: boolean;
}

export interface ReviewResult {
  task: Task;
  run_id: number | null;
  /** The worker the caller must stop (an unfenced, forced hand-off of a task a live local worker ran). */
  terminate: Termination | null;
}

function trimmed(v: string | null | undefined): string | null {
  const t = v?.trim();
  return t ? t : null;
}

/**
 * `request_review`: a running (or ready) task goes to `review`, assigned to the reviewer. Parents
 * must be done. A live claim needs the worker's fence (its run id or claim lock) or `force`. The
 * run closes with outcome `review_requested` (a never-claimed task gets a synthesized run when it
 * hands over a summary); event `review_requested {summary, implementer, reviewer}`.
 */
export async function requestReview(
  ctx: BoardContext,
  id: string,
  input: RequestReviewInput = {},
): Promise<ReviewResult> {
  if (input.metadata !== undefined && input.metadata !== null) {
    if (typeof input.metadata !== "object" || Array.isArray(input.metadata))
      throw invalid("metadata must be a JSON object");
    storableJson(input.metadata, "metadata");
  }
  const fence: Fence = { expected_run_id: input.expected_run_id, claim_lock: input.claim_lock };
  const fenced =
    (fence.expected_run_id !== undefined && fence.expected_run_id !== null) ||
    (fence.claim_lock !== undefined && fence.claim_lock !== null);
  const summary = trimmed(input.summary);
  return await ctx.tx(async () => {
    const task = await getTask(ctx, id);
    if (!task) throw notFound(`task ${id} not found`, { task_id: id });
    checkFence(task, fence);
    if (!allowedFrom("request_review", task.status)) {
      throw wrongState(`cannot request review of ${id}: status is '${task.status}' (expected running or ready)`, {
        task_id: id,
        status: task.status,
      });
    }
    if (task.claim_lock !== null && !fenced && input.force !== true) {
      throw wrongState(
        `cannot request review of ${id}: a worker holds it; pass its run id (the worker's own call) or force`,
        { task_id: id, status: task.status },
      );
    }
    const open = await unfinishedParents(ctx, id);
    if (open.length > 0) {
      throw wrongState(
        `cannot request review of ${id}: parent(s) not done — ${open.map((p) => `${p.id} (${p.status})`).join(", ")}`,
        { task_id: id },
      );
    }
    let reviewer = trimmed(input.reviewer);
    if (reviewer === null) {
      const previous = await latestProvenance(ctx, id, "changes_requested");
      reviewer = previous?.reviewer ?? null;
      if (reviewer === null) {
        throw invalid(
          previous === null
            ? `cannot request review of ${id}: name a reviewer (no earlier review round to take one from)`
            : `cannot request review of ${id}: the last changes_requested names no reviewer; name one`,
          { task_id: id },
        );
      }
    }
    const implementer = task.assignee;
    // A hand-off by hand starts over: any earlier round of the card's gates is forgotten.
    await dropRound(ctx, id);
    if (!(await sendToReview(ctx, id, { from: task.status, runId: task.current_run_id, reviewer })))
      throw wrongState(`cannot request review of ${id}: it changed state concurrently`, { task_id: id });
    const close = {
      status: "review",
      outcome: "review_requested" as const,
      summary,
      metadata: input.metadata ?? null,
    };
    let runId = await endRun(ctx, id, close);
    if (runId === null && (summary !== null || input.metadata)) runId = await synthesizeRun(ctx, task, close);
    await appendEvent(ctx, id, "review_requested", { summary, implementer, reviewer }, runId);
    return { task: await requireTask(ctx, id), run_id: runId, terminate: workerReleasedByOthers(ctx, task, fence) };
  });
}

/**
 * `request_changes`: the reviewer run on the task sends it back to the implementer named by the
 * latest `review_requested` (ready when its parents are done, else todo). The run closes with outcome
 * `changes_requested` (its status is the landing status, as in B); event
 * `changes_requested {reason, implementer, reviewer, status}`. The failure streak is kept.
 */
export async function requestChanges(
  ctx: BoardContext,
  id: string,
  input: { reason: string; comment_author?: string | null } & Fence,
): Promise<ReviewResult> {
  const reason = trimmed(input.reason);
  if (reason === null) throw invalid("a reason is required: say what the implementer should change");
  const fence: Fence = { expected_run_id: input.expected_run_id, claim_lock: input.claim_lock };
  return await ctx.tx(async () => {
    const task = await getTask(ctx, id);
    if (!task) throw notFound(`task ${id} not found`, { task_id: id });
    checkFence(task, fence);
    if (!allowedFrom("request_changes", task.status) || !(await isReviewRun(ctx, id))) {
      throw wrongState(
        `cannot request changes on ${id}: no reviewer run holds it (status '${task.status}'); a person takes a card out of review with reopen`,
        { task_id: id, status: task.status },
      );
    }
    // A gated card's round names its implementer; a card handed over by hand, its review_requested.
    const round = await verificationRow(ctx, id);
    const implementer =
      round?.implementer ?? (await latestProvenance(ctx, id, "review_requested"))?.implementer ?? null;
    const reviewer = task.assignee;
    const to = (await parentsSatisfied(ctx, id)) ? "ready" : "todo";
    if (
      !(await returnToImplementer(ctx, "request_changes", id, {
        from: task.status,
        to,
        implementer,
        runId: task.current_run_id,
      }))
    )
      throw wrongState(`cannot request changes on ${id}: it changed state concurrently`, { task_id: id });
    const runId = await endRun(ctx, id, { status: to, outcome: "changes_requested", summary: reason });
    await failRoundByPerson(ctx, id, "reviewer", { name: reviewer ?? "reviewer", reason });
    await appendEvent(ctx, id, "changes_requested", { reason, implementer, reviewer, status: to }, runId);
    const author = trimmed(input.comment_author);
    if (author !== null) await recordComment(ctx, id, author, `CHANGES REQUESTED: ${reason}`);
    return { task: await requireTask(ctx, id), run_id: runId, terminate: workerReleasedByOthers(ctx, task, fence) };
  });
}

/**
 * `reopen_review_task`: a person takes a card out of `review` (no reviewer run): ready or todo by the
 * parent gate, the implementer restored; event `review_reopened {status, implementer}`. A reason given
 * with an author is kept as a `CHANGES REQUESTED:` comment.
 */
export async function reopenReview(
  ctx: BoardContext,
  id: string,
  opts: { reason?: string | null; comment_author?: string | null } = {},
): Promise<Task> {
  return await ctx.tx(async () => {
    const task = await getTask(ctx, id);
    if (!task) throw notFound(`task ${id} not found`, { task_id: id });
    if (!allowedFrom("reopen_review", task.status)) {
      throw wrongState(`cannot reopen review of ${id}: status is '${task.status}' (not in review)`, {
        task_id: id,
        status: task.status,
      });
    }
    // A gated card's round names its implementer; a card handed over by hand, its review_requested.
    const round = await verificationRow(ctx, id);
    const implementer =
      round?.implementer ?? (await latestProvenance(ctx, id, "review_requested"))?.implementer ?? null;
    const to = (await parentsSatisfied(ctx, id)) ? "ready" : "todo";
    if (
      !(await returnToImplementer(ctx, "reopen_review", id, {
        from: task.status,
        to,
        implementer,
        runId: task.current_run_id,
      }))
    )
      throw wrongState(`cannot reopen review of ${id}: it changed state concurrently`, { task_id: id });
    if (round !== null)
      await failRoundByPerson(ctx, id, round.stage === "reviewer" ? "reviewer" : "approval", {
        name: trimmed(opts.comment_author) ?? "a person",
        reason: trimmed(opts.reason),
      });
    await appendEvent(ctx, id, "review_reopened", implementer === null ? { status: to } : { status: to, implementer });
    const author = trimmed(opts.comment_author);
    const reason = trimmed(opts.reason);
    if (author !== null && reason !== null) await recordComment(ctx, id, author, `CHANGES REQUESTED: ${reason}`);
    return await requireTask(ctx, id);
  });
}

/**
 * `claim_review_task`: the reviewer's claim of a `review` task (compare-and-swap review → running),
 * a new run for the reviewer; event `claimed` with `source_status: "review"`. A parent reopened since
 * the hand-off demotes the card to `todo` instead (`dependency_wait`, source `review`, so it resumes
 * in review once the parent is done). Null when not claimable, or while a spent budget holds the card.
 */
export async function claimReviewTask(
  ctx: BoardContext,
  id: string,
  opts: { ttl_seconds?: number | null; claimer?: string | null } = {},
  defaultTtl = DEFAULT_CLAIM_TTL_SECONDS,
): Promise<Task | null> {
  const lease =
    opts.ttl_seconds === null || opts.ttl_seconds === undefined
      ? defaultTtl
      : Math.max(1, Math.floor(Number(opts.ttl_seconds)));
  if (!Number.isFinite(lease)) throw invalid("ttl_seconds must be a number");
  const claimer = opts.claimer?.trim() || ctx.defaultClaimer;
  if (!ctx.inTransaction) {
    const seen = await claimableAtAGlance(ctx, id);
    if (seen?.status !== "review" || seen.claim_lock !== null) return null;
  }
  return await ctx.tx(async () => {
    const head = await claimHead(ctx, id);
    if (head?.status !== "review" || head.claim_lock !== null) return null;
    // A gated card waiting for its acceptance commands or a person is not a reviewer's to take.
    if (await verificationHoldsReview(ctx, id)) return null;
    if (Number(head.parents_unfinished) === 1) {
      if (await demoteReview(ctx, id))
        await appendEvent(ctx, id, "dependency_wait", { reason: "parent_reopened", source_status: "review" });
      return null;
    }
    // A reviewer's run spends like any other: a spent budget of the card's scope (the reviewer's
    // profile, its tenant, the card or the board) holds its review as it holds ready work.
    const holds = await BudgetHolds.read(ctx);
    if (!holds.empty) {
      const card = await getTask(ctx, id);
      if (card && (await holds.holding(ctx, { id, assignee: card.assignee, tenant: card.tenant })) !== null)
        return null;
    }
    return await claimWithRun(ctx, id, head, {
      claimer,
      lease,
      take: takeReviewClaim,
      what: "review claim",
      extra: { source_status: "review" },
    });
  });
}

/** The review lane's unclaimed rows in dispatch order (priority, then age). */
export async function reviewLane(ctx: BoardContext, limit = 100): Promise<Task[]> {
  return await reviewLaneRows(ctx, Math.max(0, Math.floor(limit)));
}

/** Whether the task's current run is a reviewer run (claimed from review). */
export async function isReviewerRun(ctx: BoardContext, id: string): Promise<boolean> {
  return await isReviewRun(ctx, id);
}
