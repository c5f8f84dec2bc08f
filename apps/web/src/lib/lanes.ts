export type ColumnItem<T> =
  | { kind: "lane"; key: string; label: string; count: number }
  | { kind: "card"; key: string; card: T };

const UNASSIGNED = "(unassigned)";

/**
 * A column's rows. With lanes on, the cards are grouped by assignee under a header each (named
 * lanes alphabetically, unassigned last), keeping their order within a lane.
 */
export function columnItems<T extends { id: string; assignee: string | null }>(
  cards: readonly T[],
  lanes: boolean,
): ColumnItem<T>[] {
  if (!lanes) return cards.map((card) => ({ kind: "card", key: card.id, card }));
  const groups = new Map<string, T[]>();
  for (const card of cards) {
    const who = card.assignee?.trim() ? card.assignee : UNASSIGNED;
    const list = groups.get(who);
    if (list) list.push(card);
    else groups.set(who, [card]);
  }
  const names = [...groups.keys()].sort((a, b) =>
    a === UNASSIGNED ? 1 : b === UNASSIGNED ? -1 : a < b ? -1 : a > b ? 1 : 0,
  );
  const out: ColumnItem<T>[] = [];
  for (const name of names) {
    const list = groups.get(name) ?? [];
    out.push({ kind: "lane", key: `lane:${name}`, label: name, count: list.length });
    for (const card of list) out.push({ kind: "card", key: card.id, card });
  }
  return out;
}
