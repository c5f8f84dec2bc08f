import type { BoardContext } from "./context.ts";
import { wrongState } from "./errors.ts";
import { describeSpec, type GateSpec, type GateView, nextStage } from "./gates.ts";
import { appendEvent } from "./store/sqlite/events.ts";
import {
  endVerification,
  holdForGates,
  insertEvidence,
  passedInRound,
  setVerificationStage,
  startVerification,
  type VerificationRow,
  type VerificationStage,
  verificationRow,
} from "./store/sqlite/gates.ts";
import { closeOpenRuns, synthesizeRun } from "./store/sqlite/runs.ts";
import { requireTask } from "./store/sqlite/tasks.ts";
import type { Task } from "./types.ts";

// The rounds of a gated card (gates.ts): a completion starts one, each gate's verdict moves it on,
// and the last passing gate hands the card back to completeTask to be settled as done.

/** The host a claim lock names (`kh-…:<pid>` for a remote host's worker), or null for this machine's. */
function hostOfLock(lock: string | null): string | null {
  const m = lock === null ? null : /^(kh-[0-9a-f]{16}):/.exec(lock);
  return m ? (m[1] as string) : null;
}

export async function addEvidence(
  ctx: BoardContext,
  taskId: string,
  round: number,
  e: { gate: string; name: string; outcome: string; detail?: Record<string, unknown> | null; body?: string | null },
): Promise<void> {
  await insertEvidence(ctx, {
    task_id: taskId,
    round,
    gate: e.gate,
    name: e.name,
    outcome: e.outcome,
    detail: e.detail ? JSON.stringify(e.detail) : null,
    body: e.body ?? null,
    now: ctx.now(),
  });
}

/** What a completion of a gated card did instead of making it done. */
export interface GateHold {
  task: Task;
  run_id: number | null;
  stage: VerificationStage;
}

/** The gate a completion satisfied as the card's last: written by the caller once its run id is known. */
export interface GateDone {
  done: true;
  /** The round under test, or null when the completion itself is the round (its run id). */
  round: number | null;
  gate: "reviewer" | "approval" | null;
  name: string;
  summary: string | null;
}

export interface GateCompletion {
  /** The card as the completion read it, inside its transaction. */
  task: Task;
  handoff: { summary: string | null; metadata: Record<string, unknown> | null };
  /** Whether the caller is the card's reviewer run (claimed from review). */
  reviewerRun: boolean;
  /** Who approves when the caller is a person (a comment author, the actor), for the evidence. */
  by: string | null;
  fenced: boolean;
}

/**
 * Called by completeTask inside its transaction for a card that has gates. Returns a hold when the
 * card must wait in review (its run closed, the round recorded), or a {@link GateDone} when the gate
 * this call satisfied was the last one (the caller settles the card as usual and records it with
 * {@link recordFinalGate}). Throws when the call cannot satisfy the gate the card waits for.
 */
export async function gateCompletion(
  ctx: BoardContext,
  spec: GateView,
  c: GateCompletion,
): Promise<GateHold | GateDone> {
  const task = c.task;
  const live = await verificationRow(ctx, task.id);
  const inRound = live !== null && (task.status === "review" || (task.status === "running" && c.reviewerRun));
  if (!inRound) {
    // An implementer's completion (or a person's of a card not yet under test): a new round. A
    // reviewer's or a person's approval of a card handed to review by hand counts for its own gate.
    const passed = new Set<string>();
    let gate: "reviewer" | "approval" | null = null;
    if (c.reviewerRun && (spec.spec.reviewer === null || spec.spec.reviewer === task.assignee)) gate = "reviewer";
    if (!c.reviewerRun && task.status === "review" && !c.fenced) gate = "approval";
    if (gate !== null) passed.add(gate);
    const name = gate === "reviewer" ? (task.assignee ?? "reviewer") : (c.by ?? "a person");
    const stage = nextStage(spec.spec, passed);
    if (stage === null) return { done: true, round: null, gate, name, summary: c.handoff.summary };
    const round = await closeRoundRun(ctx, task, c.handoff);
    if (gate !== null) await addEvidence(ctx, task.id, round, { gate, name, outcome: "passed" });
    return await holdRound(ctx, task, { round, stage, spec: spec.spec, implementer: implementerOf(task, c), live });
  }
  // A card under test: this call must satisfy the stage it waits for.
  const v = live as VerificationRow;
  if (v.stage === "commands")
    throw wrongState(`cannot complete ${task.id}: its acceptance commands have not reported yet`, {
      task_id: task.id,
      stage: v.stage,
    });
  if (v.stage === "reviewer" && !c.reviewerRun)
    throw wrongState(
      `cannot complete ${task.id}: it waits for its reviewer '${spec.spec.reviewer ?? task.assignee}'; reopen it to send it back`,
      { task_id: task.id, stage: v.stage },
    );
  if (v.stage === "approval" && (c.reviewerRun || c.fenced))
    throw wrongState(`cannot complete ${task.id}: it waits for a person's approval`, {
      task_id: task.id,
      stage: v.stage,
    });
  const gate = v.stage === "reviewer" ? "reviewer" : "approval";
  const name = gate === "reviewer" ? (task.assignee ?? "reviewer") : (c.by ?? "a person");
  const passed = await passedInRound(ctx, task.id, v.round);
  passed.add(gate);
  if (spec.spec.commands.length > 0) passed.add("command");
  const stage = nextStage(spec.spec, passed);
  if (stage === null) {
    await endVerification(ctx, task.id);
    return { done: true, round: v.round, gate, name, summary: c.handoff.summary };
  }
  await addEvidence(ctx, task.id, v.round, {
    gate,
    name,
    outcome: "passed",
    detail: c.handoff.summary ? { summary: c.handoff.summary.slice(0, 2000) } : null,
  });
  await appendEvent(ctx, task.id, "gate_passed", { round: v.round, gate, stage });
  // The reviewer approved and a person still must: the card waits in review, its implementer's again.
  const runId = await closeOpenRuns(ctx, task.id, {
    status: "review",
    outcome: "completed",
    summary: c.handoff.summary,
    metadata: c.handoff.metadata,
  });
  if (!(await holdForGates(ctx, task.id, { from: task.status, runId: task.current_run_id, assignee: v.implementer })))
    throw wrongState(`cannot complete ${task.id}: it changed state concurrently`, { task_id: task.id });
  await setVerificationStage(ctx, task.id, stage);
  await askApproval(ctx, task.id, stage, v.round, v.implementer);
  return { task: await requireTask(ctx, task.id), run_id: runId, stage };
}

/** A card that now waits for a person says so with its own event (the notifier marks it "needs you"). */
export async function askApproval(
  ctx: BoardContext,
  taskId: string,
  stage: VerificationStage,
  round: number,
  implementer: string | null,
): Promise<void> {
  if (stage === "approval") await appendEvent(ctx, taskId, "approval_requested", { round, implementer }, round);
}

/** Records the last gate a completion passed, in the completion's transaction, once its run id is known. */
export async function recordFinalGate(
  ctx: BoardContext,
  taskId: string,
  done: GateDone,
  runId: number | null,
): Promise<void> {
  const round = done.round ?? runId;
  if (done.gate === null || round === null) return;
  await addEvidence(ctx, taskId, round, {
    gate: done.gate,
    name: done.name,
    outcome: "passed",
    detail: done.summary ? { summary: done.summary.slice(0, 2000) } : null,
  });
  await appendEvent(ctx, taskId, "gate_passed", { round, gate: done.gate, stage: "done" }, runId);
}

function implementerOf(task: Task, c: GateCompletion): string | null {
  return c.reviewerRun ? null : task.assignee;
}

/** Closes the completing run as the round's (a never-claimed card gets a synthesized one); its id is the round. */
async function closeRoundRun(ctx: BoardContext, task: Task, handoff: GateCompletion["handoff"]): Promise<number> {
  const close = {
    status: "review",
    outcome: "completed" as const,
    summary: handoff.summary,
    metadata: handoff.metadata,
  };
  const runId = await closeOpenRuns(ctx, task.id, close);
  return runId ?? (await synthesizeRun(ctx, task, close));
}

async function holdRound(
  ctx: BoardContext,
  task: Task,
  r: {
    round: number;
    stage: VerificationStage;
    spec: GateSpec;
    implementer: string | null;
    live: VerificationRow | null;
  },
): Promise<GateHold> {
  const assignee = r.stage === "reviewer" ? r.spec.reviewer : null;
  if (!(await holdForGates(ctx, task.id, { from: task.status, runId: task.current_run_id, assignee })))
    throw wrongState(`cannot complete ${task.id}: it changed state concurrently`, { task_id: task.id });
  const implementer = r.implementer ?? r.live?.implementer ?? null;
  await startVerification(ctx, {
    task_id: task.id,
    round: r.round,
    implementer,
    stage: r.stage,
    host_id: hostOfLock(task.claim_lock),
    now: ctx.now(),
  });
  await appendEvent(
    ctx,
    task.id,
    "verification_started",
    { round: r.round, stage: r.stage, gates: describeSpec(r.spec), implementer },
    r.round,
  );
  await askApproval(ctx, task.id, r.stage, r.round, implementer);
  return { task: await requireTask(ctx, task.id), run_id: r.round, stage: r.stage };
}

/**
 * A card leaves its round without passing (a reviewer's request for changes, a person's reopen): the
 * gate it waited on is recorded as failed with the reason, and the round ends.
 */
export async function failRoundByPerson(
  ctx: BoardContext,
  taskId: string,
  gate: "reviewer" | "approval",
  w: { name: string; reason: string | null },
): Promise<void> {
  const v = await verificationRow(ctx, taskId);
  if (v === null) return;
  await addEvidence(ctx, taskId, v.round, {
    gate,
    name: w.name,
    outcome: "failed",
    detail: w.reason ? { reason: w.reason.slice(0, 2000) } : null,
  });
  await endVerification(ctx, taskId);
}

/** Forgets a card's round without evidence (it was handed to review by hand, or moved by a person). */
export async function dropRound(ctx: BoardContext, taskId: string): Promise<void> {
  await endVerification(ctx, taskId);
}
