import type { BoardContext } from "./context.ts";
import { notFound } from "./errors.ts";
import { type GateView, gatesFor, type VerificationStage } from "./gates.ts";
import { type EvidenceRow, evidenceRows, verificationRow } from "./store/sqlite/gates.ts";
import { getTask } from "./store/sqlite/tasks.ts";

// Reads for people: a card's gates, where its round is, and the evidence of its latest rounds.

export interface EvidenceItem {
  gate: string;
  name: string;
  outcome: string;
  detail: Record<string, unknown> | null;
  body: string | null;
  created_at: number;
}

export interface EvidenceRound {
  round: number;
  items: EvidenceItem[];
}

export interface CardGates {
  gates: GateView | null;
  /** The round under way: its stage and the gates still to pass; null when none is. */
  verification: { round: number; stage: VerificationStage; implementer: string | null; started_at: number } | null;
  rounds: EvidenceRound[];
}

function parseDetail(text: string | null): Record<string, unknown> | null {
  if (text === null) return null;
  try {
    const v = JSON.parse(text) as unknown;
    return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function groupRounds(rows: EvidenceRow[]): EvidenceRound[] {
  const rounds: EvidenceRound[] = [];
  for (const r of rows) {
    let last = rounds.at(-1);
    if (last?.round !== r.round) {
      last = { round: r.round, items: [] };
      rounds.push(last);
    }
    last.items.push({
      gate: r.gate,
      name: r.name,
      outcome: r.outcome,
      detail: parseDetail(r.detail),
      body: r.body,
      created_at: r.created_at,
    });
  }
  return rounds;
}

/** A card's gates, its round under way and the evidence of its latest `rounds` rounds (default 5). */
export async function cardGates(ctx: BoardContext, taskId: string, opts: { rounds?: number } = {}): Promise<CardGates> {
  const task = await getTask(ctx, taskId);
  if (!task) throw notFound(`task ${taskId} not found`, { task_id: taskId });
  const v = await verificationRow(ctx, taskId);
  const live = v !== null && (task.status === "review" || task.status === "running");
  const gates = await gatesFor(ctx, task, live ? v.implementer : task.assignee);
  const rows = await evidenceRows(ctx, taskId, Math.max(1, Math.min(50, Math.floor(opts.rounds ?? 5))));
  return {
    gates,
    verification: live
      ? { round: v.round, stage: v.stage, implementer: v.implementer, started_at: v.started_at }
      : null,
    rounds: groupRounds(rows),
  };
}
