import type { BoardContext } from "../../context.ts";
import type { HostFacts } from "../../motion/types.ts";
import type { Task } from "../../types.ts";
import { boardAttention } from "./board-attention.ts";
import {
  type AttentionRow,
  addMotion,
  attentionRows,
  type BoardCard,
  type BoardFilter,
  CARD_SUMMARY_CHARS,
  COLUMN_NAMES,
  cardDto,
  columnTotals,
  type DiagnosticsJudging,
  decorate,
  filterLists,
  whereClause,
} from "./board-reads.ts";

// A board view's change after a burst of events (issue 19): the touched cards as board.get renders
// them, the ones the view no longer shows, and the board-wide figures a view carries (column counts,
// the attention strip, the filter lists). Its cost follows the cards that changed, not the board:
// a handful of indexed reads plus the diagnostics run the attention strip needs.

/** A changed card and the column it belongs in now. */
export interface DeltaCard {
  column: string;
  card: BoardCard;
}

export interface BoardDelta {
  /** The touched cards the view shows (with their linked neighbours, whose counts may have moved). */
  cards: DeltaCard[];
  /**
   * Touched ids the view does not show: deleted, archived while archived cards are hidden, or no
   * longer matching the filters. Only ids the caller named, so nothing about other tenants leaks.
   */
  removed: string[];
  /** Every column's count under the filters, as board.get's `total`s (0 for an empty column). */
  totals: Record<string, number>;
  tenants: string[];
  assignees: string[];
  attention: AttentionRow[];
  attention_total: number;
  now: number;
}

export interface BoardDeltaOptions extends DiagnosticsJudging {
  /** The host's facts for the cards' `motion` (absent: cards carry no motion). */
  motionFacts?: HostFacts;
  scopeTenant: string | null;
}

/** At most this many touched ids are read as a delta; a larger burst is better answered by a reload. */
export const MAX_DELTA_IDS = 500;

/**
 * The delta of a view (`filter`, as board.get takes it) after events touched `ids`. The caller
 * scopes `filter.tenant` for a tenant, as the board view does.
 */
export async function boardDelta(
  ctx: BoardContext,
  filter: BoardFilter,
  ids: readonly string[],
  opts: BoardDeltaOptions,
): Promise<BoardDelta> {
  const now = ctx.now();
  const touched = [...new Set(ids)].slice(0, MAX_DELTA_IDS);
  // A link, an unlink, a completion or a delete changes the counts and progress of the other end.
  const neighbours = (await ctx.all(
    `SELECT parent_id, child_id FROM task_links
      WHERE parent_id IN (SELECT value FROM json_each(?)) OR child_id IN (SELECT value FROM json_each(?))`,
    JSON.stringify(touched),
    JSON.stringify(touched),
  )) as { parent_id: string; child_id: string }[];
  const wanted = new Set(touched);
  for (const l of neighbours) {
    wanted.add(l.parent_id);
    wanted.add(l.child_id);
  }
  const { sql: where, args } = whereClause(filter);
  const rows = await ctx.tasks(
    `SELECT t.*, substr(t.body, 1, 280) AS body FROM tasks t
      ${where ? `${where} AND` : "WHERE"} t.id IN (SELECT value FROM json_each(?))`,
    ...args,
    JSON.stringify([...wanted]),
  );
  const shown = new Set(rows.map((t: Task) => t.id));
  // The touched cards and their link neighbours are judged now; the rest of the board's attention
  // list is the scope's kept judgement (board-attention.ts).
  const flagged = await boardAttention(ctx, [...wanted], {
    failureLimit: opts.failureLimit,
    knownProfiles: opts.knownProfiles,
    tenant: opts.scopeTenant,
    onRun: opts.onDiagnosticsRun,
  });
  const cards = await decorate(ctx, rows.map(cardDto), {
    now,
    summaryChars: CARD_SUMMARY_CHARS,
    diagnostics: new Map(flagged.map((d) => [d.task_id, d.diagnostics])),
    scopeTenant: opts.scopeTenant,
  });
  await addMotion(ctx, cards, opts.motionFacts, opts.scopeTenant);
  const { totals } = await columnTotals(ctx, filter);
  const names: string[] = [...COLUMN_NAMES, ...(filter.include_archived ? ["archived"] : [])];
  const known = new Set(names);
  const { tenants, assignees } = await filterLists(ctx, opts.scopeTenant);
  return {
    // A status a newer Hermes wrote shows in todo, as on the board.
    cards: cards.map((card) => ({ column: known.has(card.status) ? card.status : "todo", card })),
    removed: touched.filter((id) => !shown.has(id)),
    totals: Object.fromEntries(names.map((n) => [n, totals.get(n) ?? 0])),
    tenants,
    assignees,
    attention: attentionRows(flagged),
    attention_total: flagged.length,
    now,
  };
}
