import type { BoardContext } from "./context.ts";
import { invalid } from "./errors.ts";
import { type FlowOptions, flowWindow } from "./flow.ts";
import { catchUpFlowLedger } from "./flow-ledger.ts";
import { cardsBlockedFor } from "./store/sqlite/flow-ledger.ts";

/** The most cards one answer lists. */
export const FLOW_BLOCKED_MAX = 1_000;

export interface FlowBlockedCard {
  id: string;
  title: string;
  assignee: string | null;
  status: string;
  /** When its first block of this reason in the window began (unix seconds). */
  blocked_at: number;
}

/**
 * The cards behind one row of flow's "blocked by reason": each card with a blocked episode of
 * `reason` that began in the window, once, in the order they were first blocked, read from the
 * flow ledger's episodes (the same rows the row's count comes from). Archived cards count, as they
 * do in flow; a deleted card has no episodes left. At most `limit` cards; `more` says there are others.
 */
export async function flowBlockedCards(
  ctx: BoardContext,
  opts: FlowOptions & { reason: string; limit?: number },
): Promise<{ cards: FlowBlockedCard[]; more: boolean }> {
  const { since, until } = flowWindow(ctx.now(), opts);
  const limit = opts.limit ?? FLOW_BLOCKED_MAX;
  if (!Number.isInteger(limit) || limit < 1 || limit > FLOW_BLOCKED_MAX)
    throw invalid(`limit must be a whole number from 1 to ${FLOW_BLOCKED_MAX}`);
  await catchUpFlowLedger(ctx);
  const rows = await cardsBlockedFor(ctx, opts.reason, since, until, opts.tenant ?? null, limit + 1);
  return { cards: rows.slice(0, limit), more: rows.length > limit };
}
