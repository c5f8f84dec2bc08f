import type { Task } from "../../types.ts";
import type { SqlContext } from "./session.ts";
import { CLEAR_CLAIM } from "./sql-fragments.ts";
import { swapStatus } from "./tasks.ts";

// Completion gates (`kanban_gates`, `kanban_verifications`, `kanban_evidence`; migration 0008/0009).
// The rules of what a gate means are in ../../gates.ts; this file only reads and writes the rows.

export type GateScope = "card" | "profile" | "board";
export type VerificationStage = "commands" | "reviewer" | "approval";

export interface GateRow {
  scope: GateScope;
  scope_key: string;
  spec: string;
  updated_at: number;
}

export interface VerificationRow {
  task_id: string;
  round: number;
  implementer: string | null;
  stage: VerificationStage;
  runner: string | null;
  runner_expires: number | null;
  host_id: string | null;
  started_at: number;
}

export interface EvidenceRow {
  id: number;
  task_id: string;
  round: number;
  gate: string;
  name: string;
  outcome: string;
  detail: string | null;
  body: string | null;
  created_at: number;
}

function num(v: unknown): number {
  return typeof v === "number" ? v : Number(v);
}

function numOrNull(v: unknown): number | null {
  return v === null || v === undefined ? null : num(v);
}

function gateFromRaw(r: Record<string, unknown>): GateRow {
  return { ...(r as unknown as GateRow), updated_at: num(r.updated_at) };
}

function verificationFromRaw(r: Record<string, unknown>): VerificationRow {
  return {
    ...(r as unknown as VerificationRow),
    round: num(r.round),
    runner_expires: numOrNull(r.runner_expires),
    started_at: num(r.started_at),
  };
}

function evidenceFromRaw(r: Record<string, unknown>): EvidenceRow {
  return { ...(r as unknown as EvidenceRow), id: num(r.id), round: num(r.round), created_at: num(r.created_at) };
}

const GATE_COLUMNS = "scope, scope_key, spec, updated_at";

/** Every gate row in a stable order (scope, key). */
export async function gateRows(ctx: SqlContext): Promise<GateRow[]> {
  const rows = (await ctx.all(`SELECT ${GATE_COLUMNS} FROM kanban_gates ORDER BY scope, scope_key`)) as Record<
    string,
    unknown
  >[];
  return rows.map(gateFromRaw);
}

/**
 * The rows that may apply to a card, in one read: its own, the board's, and the profile rows of its
 * assignee and of the implementer of its round under test (a reviewer is the assignee then).
 */
export async function gateCandidates(ctx: SqlContext, taskId: string, assignee: string | null): Promise<GateRow[]> {
  const rows = (await ctx.all(
    `SELECT ${GATE_COLUMNS} FROM kanban_gates
     WHERE (scope = 'card' AND scope_key = ?) OR (scope = 'board' AND scope_key = '*')
        OR (scope = 'profile' AND (scope_key = ? OR scope_key = (SELECT implementer FROM kanban_verifications WHERE task_id = ?)))`,
    taskId,
    assignee ?? "",
    taskId,
  )) as Record<string, unknown>[];
  return rows.map(gateFromRaw);
}

export async function upsertGate(
  ctx: SqlContext,
  g: { scope: GateScope; scope_key: string; spec: string; now: number },
): Promise<void> {
  await ctx.run(
    `INSERT INTO kanban_gates (scope, scope_key, spec, updated_at) VALUES (:scope, :scope_key, :spec, :now)
     ON CONFLICT (scope, scope_key) DO UPDATE SET spec = excluded.spec, updated_at = excluded.updated_at`,
    g,
  );
}

export async function deleteGate(ctx: SqlContext, scope: GateScope, key: string): Promise<boolean> {
  return (await ctx.run("DELETE FROM kanban_gates WHERE scope = ? AND scope_key = ?", scope, key)).changes > 0;
}

const VERIFICATION_COLUMNS = "task_id, round, implementer, stage, runner, runner_expires, host_id, started_at";

export async function verificationRow(ctx: SqlContext, taskId: string): Promise<VerificationRow | null> {
  const r = (await ctx.get(`SELECT ${VERIFICATION_COLUMNS} FROM kanban_verifications WHERE task_id = ?`, taskId)) as
    | Record<string, unknown>
    | undefined;
  return r ? verificationFromRaw(r) : null;
}

/** Starts a card's round (replacing any earlier one): unclaimed, at `stage`. */
export async function startVerification(
  ctx: SqlContext,
  v: {
    task_id: string;
    round: number;
    implementer: string | null;
    stage: VerificationStage;
    host_id: string | null;
    now: number;
  },
): Promise<void> {
  await ctx.run(
    `INSERT INTO kanban_verifications (task_id, round, implementer, stage, runner, runner_expires, host_id, started_at)
     VALUES (:task_id, :round, :implementer, :stage, NULL, NULL, :host_id, :now)
     ON CONFLICT (task_id) DO UPDATE SET round = excluded.round, implementer = excluded.implementer, stage = excluded.stage,
       runner = NULL, runner_expires = NULL, host_id = excluded.host_id, started_at = excluded.started_at`,
    v,
  );
}

export async function setVerificationStage(ctx: SqlContext, taskId: string, stage: VerificationStage): Promise<void> {
  await ctx.run(
    "UPDATE kanban_verifications SET stage = ?, runner = NULL, runner_expires = NULL WHERE task_id = ?",
    stage,
    taskId,
  );
}

export async function endVerification(ctx: SqlContext, taskId: string): Promise<void> {
  await ctx.run("DELETE FROM kanban_verifications WHERE task_id = ?", taskId);
}

/** Takes a round's commands for one runner: free, or its lease ran out. */
export async function claimCommands(
  ctx: SqlContext,
  c: { task_id: string; round: number; lock: string; expires: number; now: number },
): Promise<boolean> {
  return (
    (
      await ctx.run(
        `UPDATE kanban_verifications SET runner = :lock, runner_expires = :expires
         WHERE task_id = :task_id AND round = :round AND stage = 'commands' AND (runner IS NULL OR runner_expires < :now)`,
        c,
      )
    ).changes === 1
  );
}

/** Cards in review whose commands wait for a runner (on `host_id` when given; null: this machine), oldest first. */
export async function commandRoundRows(
  ctx: SqlContext,
  w: { host_id: string | null | undefined; now: number; limit: number },
): Promise<{ task: Task; verification: VerificationRow }[]> {
  const host = w.host_id === undefined ? "" : " AND v.host_id IS ?";
  const args: unknown[] = [w.now, ...(w.host_id === undefined ? [] : [w.host_id]), w.limit];
  const rows = (await ctx.all(
    `SELECT ${VERIFICATION_COLUMNS} FROM kanban_verifications v
     WHERE v.stage = 'commands' AND (v.runner IS NULL OR v.runner_expires < ?)${host}
       AND EXISTS (SELECT 1 FROM tasks t WHERE t.id = v.task_id AND t.status = 'review')
     ORDER BY v.started_at, v.task_id LIMIT ?`,
    ...args,
  )) as Record<string, unknown>[];
  const out: { task: Task; verification: VerificationRow }[] = [];
  for (const r of rows) {
    const task = await ctx.task("SELECT * FROM tasks WHERE id = ?", r.task_id);
    if (task) out.push({ task, verification: verificationFromRaw(r) });
  }
  return out;
}

/** The stage each of `ids` waits at (cards with no round are absent), in one read for a whole board. */
export async function verificationStages(
  ctx: SqlContext,
  ids: readonly string[],
): Promise<Map<string, VerificationStage>> {
  const rows = (await ctx.all(
    "SELECT task_id, stage FROM kanban_verifications WHERE task_id IN (SELECT value FROM json_each(?))",
    JSON.stringify(ids),
  )) as { task_id: string; stage: VerificationStage }[];
  return new Map(rows.map((r) => [r.task_id, r.stage]));
}

/** Whether a verification keeps the review lane off the card (its commands or a person's approval are awaited). */
export async function verificationHoldsReview(ctx: SqlContext, taskId: string): Promise<boolean> {
  return (
    (await ctx.get(
      "SELECT 1 FROM kanban_verifications WHERE task_id = ? AND stage IN ('commands', 'approval')",
      taskId,
    )) !== undefined
  );
}

/** `verify`: the task read as `from` (on run `runId`) waits in review for its gates; its claim released. */
export async function holdForGates(
  ctx: SqlContext,
  id: string,
  w: { from: string; runId: number | null; assignee: string | null },
): Promise<boolean> {
  return (
    (await swapStatus(ctx, "verify", id, {
      to: "review",
      from: w.from,
      set: `${CLEAR_CLAIM}, current_run_id = NULL, assignee = COALESCE(?, assignee)`,
      setArgs: [w.assignee],
      where: "current_run_id IS ?",
      whereArgs: [w.runId],
    })) === 1
  );
}

/** Hands a card already waiting in review to its next gate's owner (the reviewer, or back to the implementer). */
export async function reassignInReview(ctx: SqlContext, id: string, assignee: string | null): Promise<void> {
  await ctx.run("UPDATE tasks SET assignee = COALESCE(?, assignee) WHERE id = ? AND status = 'review'", assignee, id);
}

export async function insertEvidence(
  ctx: SqlContext,
  e: {
    task_id: string;
    round: number;
    gate: string;
    name: string;
    outcome: string;
    detail: string | null;
    body: string | null;
    now: number;
  },
): Promise<void> {
  await ctx.run(
    `INSERT INTO kanban_evidence (task_id, round, gate, name, outcome, detail, body, created_at)
     VALUES (:task_id, :round, :gate, :name, :outcome, :detail, :body, :now)`,
    e,
  );
}

/** The gates that passed in a round (`gate` kinds). */
export async function passedInRound(ctx: SqlContext, taskId: string, round: number): Promise<Set<string>> {
  const rows = (await ctx.all(
    "SELECT DISTINCT gate FROM kanban_evidence WHERE task_id = ? AND round = ? AND outcome = 'passed'",
    taskId,
    round,
  )) as { gate: string }[];
  return new Set(rows.map((r) => r.gate));
}

/** A card's evidence, newest round first, in the order it was recorded within a round; at most `rounds` rounds. */
export async function evidenceRows(ctx: SqlContext, taskId: string, rounds: number): Promise<EvidenceRow[]> {
  const rows = (await ctx.all(
    `SELECT id, task_id, round, gate, name, outcome, detail, body, created_at FROM kanban_evidence
     WHERE task_id = ? AND round IN (SELECT DISTINCT round FROM kanban_evidence WHERE task_id = ? ORDER BY round DESC LIMIT ?)
     ORDER BY round DESC, id ASC`,
    taskId,
    taskId,
    rounds,
  )) as Record<string, unknown>[];
  return rows.map(evidenceFromRaw);
}
