import { describe, expect, it } from "vitest";
import {
  type BudgetLike,
  budgetName,
  parseAllowanceUsd,
  spentBudgetsOf,
  suggestedAllowanceUsd,
} from "./budget-holds.ts";

const spent = (b: Partial<BudgetLike> & Pick<BudgetLike, "scope" | "key">): BudgetLike => ({
  tenant: null,
  limit_micro_usd: 2_000_000,
  allowance_micro_usd: 0,
  spent_micro_usd: 2_100_000,
  state: "exhausted",
  ...b,
});

describe("spent budgets of a card", () => {
  const card = { id: "t_1", assignee: "coder", tenant: "acme" };

  it("finds the card's own, its profile's, its tenant's and the board's, narrowest first", () => {
    const budgets = [
      spent({ scope: "board", key: "*" }),
      spent({ scope: "tenant", key: "acme" }),
      spent({ scope: "profile", key: "coder" }),
      spent({ scope: "card", key: "t_1" }),
    ];
    expect(spentBudgetsOf(budgets, card).map((b) => b.scope)).toEqual(["card", "profile", "tenant", "board"]);
  });

  it("skips budgets that are not spent, of other cards, profiles and tenants, and another tenant's own", () => {
    const budgets = [
      spent({ scope: "profile", key: "coder", state: "warning" }),
      spent({ scope: "card", key: "t_2" }),
      spent({ scope: "profile", key: "reviewer" }),
      spent({ scope: "tenant", key: "globex" }),
      spent({ scope: "board", key: "*", tenant: "globex" }),
    ];
    expect(spentBudgetsOf(budgets, card)).toEqual([]);
    // The tenant's own board budget covers its card; an unassigned card has no profile budget.
    const own = spent({ scope: "board", key: "*", tenant: "acme" });
    expect(spentBudgetsOf([own, spent({ scope: "profile", key: "coder" })], { ...card, assignee: null })).toEqual([
      own,
    ]);
  });

  it("names budgets the way a person reads them", () => {
    expect(budgetName({ scope: "profile", key: "coder", tenant: null })).toBe("profile coder's budget (today, UTC)");
    expect(budgetName({ scope: "card", key: "t_1", tenant: null })).toBe("this card's budget");
    expect(budgetName({ scope: "board", key: "*", tenant: "acme" })).toBe(
      "the board's budget of tenant acme (today, UTC)",
    );
  });
});

describe("the allowance field", () => {
  it("suggests the overspend plus a quarter of the limit, at least $1, in whole cents", () => {
    expect(
      suggestedAllowanceUsd({ limit_micro_usd: 2_000_000, allowance_micro_usd: 0, spent_micro_usd: 2_100_000 }),
    ).toBe("1.00");
    expect(
      suggestedAllowanceUsd({ limit_micro_usd: 40_000_000, allowance_micro_usd: 0, spent_micro_usd: 43_000_001 }),
    ).toBe("13.01");
    expect(suggestedAllowanceUsd({ limit_micro_usd: 0, allowance_micro_usd: 0, spent_micro_usd: 0 })).toBe("1.00");
  });

  it("takes dollars with up to two decimals and refuses the rest with a reason", () => {
    expect(parseAllowanceUsd(" $2.50 ")).toEqual({ ok: true, usd: "2.50" });
    expect(parseAllowanceUsd("5")).toEqual({ ok: true, usd: "5" });
    for (const bad of ["", "0", "0.00", "-1", "1.234", "1e3", "abc", "1234567"])
      expect(parseAllowanceUsd(bad).ok, bad).toBe(false);
  });
});
