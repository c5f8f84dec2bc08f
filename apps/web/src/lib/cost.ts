// What the drawer's "Cost" section shows (issue 21), from `usage.summary({ by: "task", task_id })`:
// the card's own usage and that of every card below it. Money arrives as whole micro-dollars.

export interface UsageSums {
  key: string | number | null;
  reports: number;
  tokens_in: number;
  tokens_out: number;
  cache_read: number;
  cache_write: number;
  cost_micro_usd: number;
  unpriced: number;
}

export interface CostView {
  /** This card's own reports. */
  own: Omit<UsageSums, "key">;
  /** The card with everything below it. */
  total: Omit<UsageSums, "key">;
  /** How many cards below it reported anything. */
  cardsBelow: number;
}

const ZERO = { reports: 0, tokens_in: 0, tokens_out: 0, cache_read: 0, cache_write: 0, cost_micro_usd: 0, unpriced: 0 };

export function costView(summary: { groups: UsageSums[]; total: Omit<UsageSums, "key"> }, id: string): CostView {
  const mine = summary.groups.find((g) => g.key === id);
  const { key: _key, ...own } = mine ?? { key: id, ...ZERO };
  return { own, total: summary.total, cardsBelow: summary.groups.filter((g) => g.key !== id).length };
}

/** Micro-dollars as dollars: `$0.0125`, `$3.00` (the cents always, further digits only when they count). */
export function dollars(micro: number): string {
  const frac = String(micro % 1_000_000)
    .padStart(6, "0")
    .replace(/0+$/, "")
    .padEnd(2, "0");
  return `$${Math.floor(micro / 1_000_000)}.${frac}`;
}

/** `1234567` → `1.2M`, `89012` → `89k`: token counts at a glance. */
export function tokens(n: number): string {
  if (n >= 1_000_000) return `${(n / 1_000_000).toFixed(1).replace(/\.0$/, "")}M`;
  if (n >= 10_000) return `${Math.round(n / 1000)}k`;
  return String(n);
}
