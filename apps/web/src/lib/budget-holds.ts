// Which spent budgets hold a card (issue 21's "allow N more" on the board): the same scopes the
// kernel checks before it spawns (budgets.ts): the card's own, its profile's, its tenant's and the
// board's. A tenant's budget counts only that tenant's cards; the operator's (tenant null) all of them.

export type BudgetScope = "card" | "board" | "profile" | "tenant";

export interface BudgetLike {
  scope: BudgetScope;
  key: string;
  tenant: string | null;
  limit_micro_usd: number;
  allowance_micro_usd: number;
  spent_micro_usd: number;
  state: "ok" | "warning" | "exhausted";
}

export interface CardLike {
  id: string;
  assignee: string | null;
  tenant: string | null;
}

function covers(b: BudgetLike, card: CardLike): boolean {
  if (b.tenant !== null && b.tenant !== card.tenant) return false;
  switch (b.scope) {
    case "card":
      return b.key === card.id;
    case "profile":
      return card.assignee !== null && b.key === card.assignee;
    case "tenant":
      return card.tenant !== null && b.key === card.tenant;
    case "board":
      return true;
  }
}

const ORDER: Record<BudgetScope, number> = { card: 0, profile: 1, tenant: 2, board: 3 };

/** The spent budgets that cover the card, narrowest first (a card's own before the board's). */
export function spentBudgetsOf<B extends BudgetLike>(budgets: B[], card: CardLike): B[] {
  return budgets
    .filter((b) => b.state === "exhausted" && covers(b, card))
    .sort((a, b) => ORDER[a.scope] - ORDER[b.scope] || a.key.localeCompare(b.key));
}

/** A budget named for a person: `profile coder (today)`, `this card`, `the board (today)`. */
export function budgetName(b: Pick<BudgetLike, "scope" | "key" | "tenant">): string {
  const whose = b.tenant ? ` of tenant ${b.tenant}` : "";
  if (b.scope === "card") return `this card's budget${whose}`;
  const what = b.scope === "board" ? "the board's budget" : `${b.scope} ${b.key}'s budget`;
  return `${what}${whose} (today, UTC)`;
}

/**
 * What "allow more" offers first: enough to cover what was spent past the limit plus a quarter of
 * the limit, in whole cents, at least $1 (a limit of $0 still gets a usable step).
 */
export function suggestedAllowanceUsd(
  b: Pick<BudgetLike, "limit_micro_usd" | "allowance_micro_usd" | "spent_micro_usd">,
): string {
  const over = Math.max(0, b.spent_micro_usd - b.limit_micro_usd - b.allowance_micro_usd);
  const micro = Math.max(1_000_000, over + Math.ceil(b.limit_micro_usd / 4));
  return (Math.ceil(micro / 10_000) / 100).toFixed(2);
}

/** The amount field, read as dollars: a positive number with at most two decimals, or a reason. */
export function parseAllowanceUsd(text: string): { ok: true; usd: string } | { ok: false; error: string } {
  const t = text.trim().replace(/^\$/, "");
  if (!/^\d{1,6}(\.\d{1,2})?$/.test(t)) return { ok: false, error: "an amount in dollars, like 5 or 2.50" };
  if (Number(t) <= 0) return { ok: false, error: "more than $0" };
  return { ok: true, usd: t };
}
