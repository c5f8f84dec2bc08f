import { TASK_ID_REFERENCE_RE } from "./constants.ts";
import type { BoardContext } from "./context.ts";
import { HallucinatedCardsError, invalid, notFound, wrongState } from "./errors.ts";
import { checkFence, type Fence } from "./fencing.ts";
import { recomputeChildren } from "./graph.ts";
import { isChildOf, unfinishedParents } from "./store/sqlite/dependencies.ts";
import { appendEvent } from "./store/sqlite/events.ts";
import {
  closeOpenRuns,
  latestCompletedRunId,
  setRunHandoff,
  supersedeDangling,
  synthesizeRun,
} from "./store/sqlite/runs.ts";
import {
  completeInOneStatement,
  completeRunningAlone,
  completeRunningInOneStatement,
  type WorkerCompletion,
  type WorkerCompletionInput,
} from "./store/pg/folded-writes.ts";
import {
  COMPLETE_HEAD_SQL,
  type CompleteHeadRow,
  completeHead,
  creatorInScope,
  existsInScope,
  getTask,
  requireTask,
  setResult,
  settleDone,
} from "./store/sqlite/tasks.ts";
import { withStaleRunHandling } from "./late-report.ts";
import { storableJson } from "./stored-json.ts";
import { tenantScope } from "./tenant-scope.ts";
import { type Termination, workerReleasedByOthers } from "./termination.ts";
import type { Task } from "./types.ts";
import { allowedFrom } from "./transitions.ts";
import { taskRowTx } from "./store/pg/shared-writers.ts";
import { type GateDone, gateCompletion, recordFinalGate } from "./gate-rounds.ts";
import { gatesOfCompletion, type VerificationStage } from "./gates.ts";
import { isReviewRun as isReviewerRun } from "./store/sqlite/review-reads.ts";

export interface CompleteInput extends Fence {
  result?: string | null;
  summary?: string | null;
  metadata?: Record<string, unknown> | null;
  /** Ids of cards the worker claims to have created; each must exist and be attributable to it. */
  created_cards?: string[] | null;
  /** Who approves, when a person completes a card waiting for approval (kept in its evidence). */
  approved_by?: string | null;
}

function firstLine(text: string | null | undefined, max: number): string | null {
  if (!text) return null;
  const line =
    text
      .split("\n")
      .find((l) => l.trim() !== "")
      ?.trim() ?? "";
  return line === "" ? null : line.slice(0, max);
}

function normaliseCards(cards: string[] | null | undefined): string[] {
  const out: string[] = [];
  for (const c of cards ?? []) {
    const id = String(c).trim();
    if (id !== "" && !out.includes(id)) out.push(id);
  }
  return out;
}

/**
 * Splits claimed cards into verified (exist and were created by the completing task's assignee or
 * by the task itself, or are linked as its children) and phantom (everything else).
 */
export async function verifyCreatedCards(
  ctx: BoardContext,
  task: Task,
  cards: string[],
): Promise<{ verified: string[]; phantom: string[] }> {
  // Another tenant's card counts as missing, so the verdict tells a tenant nothing about it.
  const scope = tenantScope(task.tenant);
  const verified: string[] = [];
  const phantom: string[] = [];
  for (const id of cards) {
    const card = await creatorInScope(ctx, id, scope);
    const ok =
      card !== null &&
      ((task.assignee !== null && card.created_by === task.assignee) ||
        card.created_by === task.id ||
        (await isChildOf(ctx, task.id, id)));
    (ok ? verified : phantom).push(id);
  }
  return { verified, phantom };
}

export interface CompleteResult {
  task: Task;
  run_id: number | null;
  /**
   * The worker the caller must stop: set when an unfenced call (a person, a script) completed a
   * task a live worker on this host was running. A fenced call is the worker itself: null.
   */
  terminate: Termination | null;
  /**
   * Set when this call was a re-send of the completion that already settled `expected_run_id` (a
   * remote worker's outbox): the task as it is now, nothing written (late-report.ts).
   */
  replayed?: true;
  /**
   * Set when the card has completion gates still to pass (gates.ts): it waits in review at this stage
   * instead of being done.
   */
  gated?: VerificationStage;
}

/**
 * Completes a task with a structured handoff. The `created_cards` gate runs first: any phantom id
 * records `completion_blocked_hallucination` and throws {@link HallucinatedCardsError}, leaving the
 * task exactly as it was. On success the active run closes as `completed` (or a zero-length run is
 * synthesised for a never-claimed task), the breaker resets, children may promote, and the summary
 * and result are scanned for task ids that do not exist (an advisory event, never a refusal).
 * A fenced call whose run is no longer current is replayed or recorded as a late report (late-report.ts).
 */
export async function completeTask(ctx: BoardContext, id: string, input: CompleteInput = {}): Promise<CompleteResult> {
  return await withStaleRunHandling(
    ctx,
    id,
    input.expected_run_id,
    { verb: "complete", summary: input.summary ?? input.result ?? null, reason: null },
    async () => await completeCurrent(ctx, id, input),
    (task, runId) => ({ task, run_id: runId, terminate: null, replayed: true }),
  );
}

/** {@link completeTask} of the task's current attempt (a stale fence throws STALE_RUN). */
async function completeCurrent(ctx: BoardContext, id: string, input: CompleteInput): Promise<CompleteResult> {
  if (
    input.metadata !== undefined &&
    input.metadata !== null &&
    (typeof input.metadata !== "object" || Array.isArray(input.metadata))
  ) {
    throw invalid("metadata must be a JSON object");
  }
  // Refused before anything is written (the gate's audit event included): a value this deep or long
  // could be stored but would break every later read of the run.
  if (input.metadata) storableJson(input.metadata, "metadata");
  const cards = normaliseCards(input.created_cards);
  let verified: string[] = [];
  if (cards.length > 0) {
    const task = await getTask(ctx, id);
    if (!task) throw notFound(`task ${id} not found`, { task_id: id });
    checkFence(task, input);
    const check = await verifyCreatedCards(ctx, task, cards);
    if (check.phantom.length > 0) {
      await ctx.tx(
        async () =>
          await appendEvent(
            ctx,
            id,
            "completion_blocked_hallucination",
            {
              phantom_cards: check.phantom,
              verified_cards: check.verified,
              summary_preview: firstLine(input.summary ?? input.result, 200),
            },
            task.current_run_id,
          ),
      );
      throw new HallucinatedCardsError(check.phantom, id);
    }
    verified = check.verified;
  }

  // Whether the task had children when it settled (read with its head): only then may some be promoted.
  let hasChildren = true;
  // PostgreSQL: a worker completing its own running attempt, the fleet's hot path, is one statement
  // when nothing needs deciding between its writes (store/pg/folded-writes.ts), sent with BEGIN and
  // COMMIT as one message where the session can; where it does not apply it writes nothing.
  const fenced = cards.length === 0 ? await completeFencedAlone(ctx, id, input) : null;
  if (fenced !== null && fenced !== "missed")
    return await afterSettled(ctx, id, input, verified, fenced.settled, fenced.hasChildren);
  // PostgreSQL: a shared writer holding the task's row, alongside claims (store/pg/shared-writers.ts).
  const settled = await taskRowTx(
    ctx,
    id,
    async (locked) => {
      // On PostgreSQL the row lock's statement read the head already.
      const task = locked !== null ? (locked.row as CompleteHeadRow | undefined) : await completeHead(ctx, id);
      if (!task) throw notFound(`task ${id} not found`, { task_id: id });
      hasChildren = Number(task.has_children) === 1;
      checkFence(task, input);
      if (!allowedFrom("complete", task.status)) {
        throw wrongState(
          `cannot complete ${id}: status is '${task.status}' (only running, ready, blocked or review tasks complete)`,
          {
            task_id: id,
            status: task.status,
          },
        );
      }
      const open = Number(task.parents_open) === 1 ? await unfinishedParents(ctx, id) : [];
      if (open.length > 0) {
        throw wrongState(
          `cannot complete ${id}: parent(s) not done — ${open.map((p) => `${p.id} (${p.status})`).join(", ")}`,
          { task_id: id },
        );
      }
      const now = ctx.now();
      // Hermes B: completing a card in review is its approval; with no evidence of its own it says so.
      const handoff = task.status === "review" ? reviewApproval(input) : input;
      const result = handoff.result ?? null;
      // Completion gates (gates.ts): a gated card waits in review until they pass. A board with no gate
      // rows at all (the head's flag) pays no read for them.
      let finalGate: GateDone | null = null;
      const gates = Number(task.board_has_gates) === 1 ? await gatesOfCompletion(ctx, task) : null;
      if (gates !== null) {
        const full = await requireTask(ctx, id);
        const fenced =
          (input.expected_run_id !== undefined && input.expected_run_id !== null) ||
          (input.claim_lock !== undefined && input.claim_lock !== null);
        const step = await gateCompletion(ctx, gates, {
          task: full,
          handoff: { summary: handoff.summary ?? result, metadata: handoff.metadata ?? null },
          reviewerRun: full.status === "running" && (await isReviewerRun(ctx, id)),
          by: input.approved_by?.trim() || null,
          fenced,
        });
        if (!("done" in step)) {
          if (result !== null) await setResult(ctx, id, result);
          return {
            task: result !== null ? await requireTask(ctx, id) : step.task,
            run_id: step.run_id,
            terminate: workerReleasedByOthers(ctx, task, input),
            gated: step.stage,
          };
        }
        finalGate = step;
      }
      // One UPDATE settles the task and detaches its run; RETURNING hands back the settled row, so the
      // caller gets the task without a second read.
      const settle = { from: task.status, runId: task.current_run_id, result, completedAt: now };
      const summary = handoff.summary ?? result;
      const close = { status: "done", outcome: "completed" as const, summary, metadata: handoff.metadata ?? null };
      const payload: Record<string, unknown> = { result_len: result?.length ?? 0, summary: firstLine(summary, 400) };
      if (verified.length > 0) payload.verified_cards = verified;
      if (finalGate !== null) payload.gates = "passed";
      const terminate = workerReleasedByOthers(ctx, task, input);
      // PostgreSQL: the swap, the run's close and the event in one round trip when nothing has to come
      // between them (store/pg/folded-writes.ts); otherwise it finishes below as the separate writes do.
      let runId: number | null;
      let settledTask: Task | null;
      if (ctx.dialect === "postgres" && finalGate === null) {
        const folded = await completeInOneStatement(ctx, id, settle, close, payload);
        if (folded === null) throw wrongState(`cannot complete ${id}: it changed state concurrently`, { task_id: id });
        if (folded.evented) return { task: folded.task, run_id: folded.closedRunIds[0] ?? null, terminate };
        settledTask = folded.task;
        runId = await supersedeDangling(ctx, folded.closedRunIds);
      } else {
        settledTask = await settleDone(ctx, id, settle);
        if (settledTask === null)
          throw wrongState(`cannot complete ${id}: it changed state concurrently`, { task_id: id });
        runId = await closeOpenRuns(ctx, id, close);
      }
      if (
        runId === null &&
        (handoff.summary || result || (handoff.metadata && Object.keys(handoff.metadata).length > 0))
      ) {
        runId = await synthesizeRun(ctx, task, close);
      }
      if (finalGate !== null) await recordFinalGate(ctx, id, finalGate, runId);
      await appendEvent(ctx, id, "completed", payload, runId);
      // Taken from the row as it was before the swap: the worker whose claim this completion released.
      return { task: settledTask, run_id: runId, terminate };
    },
    {
      lockRead: COMPLETE_HEAD_SQL,
      // The same statement as the first of the transaction, where it could not be sent alone; when it
      // does not apply it writes nothing, and the completion goes on the full way in the same transaction.
      first:
        cards.length === 0 && fenced === null
          ? async () => {
              const one = await completeFencedInOneStatement(ctx, id, input);
              if (one !== null) hasChildren = one.hasChildren;
              return one?.settled ?? null;
            }
          : undefined,
    },
  );

  return await afterSettled(ctx, id, input, verified, settled, settled.gated === undefined && hasChildren);
}

/**
 * What follows a completion's commit: the advisory scan of its prose for cards that do not exist,
 * then (when the task had children and no gate held it) the children's promotion.
 */
async function afterSettled(
  ctx: BoardContext,
  id: string,
  input: CompleteInput,
  verified: string[],
  settled: CompleteResult,
  promoteChildren: boolean,
): Promise<CompleteResult> {
  // Advisory prose scan, after the commit: a reference to a card that does not exist is worth a badge.
  // A tenant's task sees only its tenant's cards: another tenant's id counts as missing, so the
  // phantom list reads the same whether or not that id exists elsewhere on the board.
  const prose = `${input.summary ?? ""} ${input.result ?? ""}`;
  const refs = [...new Set(prose.match(TASK_ID_REFERENCE_RE) ?? [])].filter(
    (ref) => ref !== id && !verified.includes(ref),
  );
  const scope = tenantScope(settled.task.tenant);
  const phantomRefs: string[] = [];
  for (const ref of refs) if (!(await existsInScope(ctx, ref, scope))) phantomRefs.push(ref);
  if (phantomRefs.length > 0) {
    await ctx.tx(
      async () =>
        await appendEvent(
          ctx,
          id,
          "suspected_hallucinated_references",
          { phantom_refs: phantomRefs, source: "completion_summary" },
          settled.run_id,
        ),
    );
  }
  if (promoteChildren) await recomputeChildren(ctx, id);
  return settled;
}

/**
 * A call fenced to its run as the worker's own completion of its running attempt, with the handoff
 * the full path would record for it (store/pg/folded-writes.ts); null when not fenced.
 */
function fencedCompletion(ctx: BoardContext, id: string, input: CompleteInput): WorkerCompletionInput | null {
  const runId = input.expected_run_id;
  if (typeof runId !== "number") return null;
  const result = input.result ?? null;
  const summary = input.summary ?? result;
  return {
    id,
    fence: { runId, claimLock: input.claim_lock ?? null },
    settle: { result, completedAt: ctx.now() },
    close: { status: "done", outcome: "completed", summary, metadata: input.metadata ?? null },
    payload: { result_len: result?.length ?? 0, summary: firstLine(summary, 400) },
  };
}

/** What a settled fenced completion answers: the caller is the worker itself, so there is no worker to stop. */
function fencedResult(done: WorkerCompletion): { settled: CompleteResult; hasChildren: boolean } {
  return { settled: { task: done.task, run_id: done.runId, terminate: null }, hasChildren: done.hasChildren };
}

/**
 * {@link completeRunningAlone} for a call fenced to its run. Null where it was not sent alone (SQLite,
 * not fenced, inside a transaction); "missed" where the statement did not apply and wrote nothing.
 */
async function completeFencedAlone(
  ctx: BoardContext,
  id: string,
  input: CompleteInput,
): Promise<{ settled: CompleteResult; hasChildren: boolean } | "missed" | null> {
  const c = fencedCompletion(ctx, id, input);
  const done = c === null ? null : await completeRunningAlone(ctx, c);
  return done === null || done === "missed" ? done : fencedResult(done);
}

/**
 * {@link completeRunningInOneStatement} for a call fenced to its run, as the first statement of the
 * completion's transaction. Null on SQLite, and where the task is not in that case (the full path
 * then decides, and throws what a miss deserves).
 */
async function completeFencedInOneStatement(
  ctx: BoardContext,
  id: string,
  input: CompleteInput,
): Promise<{ settled: CompleteResult; hasChildren: boolean } | null> {
  const c = fencedCompletion(ctx, id, input);
  const done = c === null ? null : await completeRunningInOneStatement(ctx, c);
  return done === null ? null : fencedResult(done);
}

/** The summary and metadata of a review approval that brought no evidence (spec §2.6, Hermes B). */
export const REVIEW_APPROVAL_SUMMARY = "Review approved without additional evidence.";

function reviewApproval(input: CompleteInput): CompleteInput {
  const hasMetadata = input.metadata !== undefined && input.metadata !== null && Object.keys(input.metadata).length > 0;
  if (input.summary || input.result || hasMetadata) return input;
  return { ...input, summary: REVIEW_APPROVAL_SUMMARY, metadata: { source_status: "review", approval: "manual" } };
}

/** Rewrites the handoff of a done task (result, summary, metadata); event `edited`. */
export async function editCompletedResult(
  ctx: BoardContext,
  id: string,
  input: { result: string; summary?: string | null; metadata?: Record<string, unknown> | null },
): Promise<Task> {
  return await ctx.tx(async () => {
    const task = await getTask(ctx, id);
    if (!task) throw notFound(`task ${id} not found`, { task_id: id });
    if (task.status !== "done")
      throw wrongState(`cannot edit ${id}: only done tasks have a result to edit (status is '${task.status}')`);
    await setResult(ctx, id, input.result);
    const summary = input.summary ?? input.result;
    let runId = await latestCompletedRunId(ctx, id);
    if (runId !== null) {
      await setRunHandoff(ctx, runId, summary, input.metadata);
    } else {
      runId = await synthesizeRun(ctx, task, {
        status: "done",
        outcome: "completed",
        summary,
        metadata: input.metadata ?? null,
      });
    }
    const fields = ["result", "summary", ...(input.metadata ? ["metadata"] : [])];
    await appendEvent(
      ctx,
      id,
      "edited",
      { fields, result_len: input.result.length, summary: firstLine(summary, 400) },
      runId,
    );
    return await requireTask(ctx, id);
  });
}
