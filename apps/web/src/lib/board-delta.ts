import type { BoardData, BoardDelta, Card } from "./types.ts";

// Applying a `board.changes` delta to the board the page holds (issue 19): the changed cards are
// replaced or moved, removed ones dropped, and the view's counts, attention rows and filter lists
// taken from the delta. The board is never read again for a change it can apply.

const PAGED = new Set(["done", "archived"]);

/** The server's card order within a column (board-reads.ts compareCards), so a moved card lands where a reload would put it. */
export function compareInColumn(column: string): (a: Card, b: Card) => number {
  if (PAGED.has(column)) {
    return (a, b) =>
      (b.completed_at ?? b.created_at) - (a.completed_at ?? a.created_at) || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
  }
  return (a, b) => b.priority - a.priority || a.created_at - b.created_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/**
 * The board after `delta`, as of event `cursor`. A card lands in its column in the server's order;
 * in a column the page holds only part of (it has a `next_cursor`), a card that sorts after the
 * last one held is left for the column's next page, exactly where a reload would leave it.
 */
export function applyBoardDelta(board: BoardData, delta: BoardDelta, cursor: number): BoardData {
  const gone = new Set<string>(delta.removed);
  for (const { card } of delta.cards) gone.add(card.id);
  const incoming = new Map<string, Card[]>();
  for (const { column, card } of delta.cards) {
    const list = incoming.get(column);
    if (list) list.push(card as Card);
    else incoming.set(column, [card as Card]);
  }
  const columns = board.columns.map((col) => {
    const kept = col.tasks.filter((c) => !gone.has(c.id));
    const arriving = incoming.get(col.name) ?? [];
    const order = compareInColumn(col.name);
    const last = col.next_cursor !== null ? col.tasks[col.tasks.length - 1] : undefined;
    const admitted = last === undefined ? arriving : arriving.filter((c) => order(c, last as Card) <= 0);
    const tasks = admitted.length === 0 ? kept : [...kept, ...admitted].sort(order);
    return { ...col, tasks, total: delta.totals[col.name] ?? col.total };
  });
  return {
    ...board,
    columns,
    // Null: the same as in the stream's previous message, which the board already holds.
    tenants: delta.tenants ?? board.tenants,
    assignees: delta.assignees ?? board.assignees,
    attention: delta.attention ?? board.attention,
    attention_total: delta.attention_total,
    latest_event_id: Math.max(board.latest_event_id, cursor),
    now: delta.now,
  };
}

/**
 * A further page of a column (`board.column`) after `delta`: changed cards are replaced where they
 * are (one that left the column keeps its new status, and the column no longer shows it), removed
 * ones dropped. Pages never gain cards: where a new card falls, the board's first page has it.
 */
export function applyDeltaToPage<P extends { tasks: Card[] }>(page: P, delta: BoardDelta): P {
  const removed = new Set(delta.removed);
  const changed = new Map(delta.cards.map(({ card }) => [card.id, card as Card]));
  if (!page.tasks.some((c) => removed.has(c.id) || changed.has(c.id))) return page;
  return {
    ...page,
    tasks: page.tasks.filter((c) => !removed.has(c.id)).map((c) => changed.get(c.id) ?? c),
  };
}
