import { describe, expect, it } from "vitest";
import { costView, dollars, tokens } from "./cost.ts";

const sums = (key: string, cost: number, extra: Partial<{ unpriced: number; tokens_in: number }> = {}) => ({
  key,
  reports: 1,
  tokens_in: extra.tokens_in ?? 0,
  tokens_out: 0,
  cache_read: 0,
  cache_write: 0,
  cost_micro_usd: cost,
  unpriced: extra.unpriced ?? 0,
});

describe("the drawer's cost", () => {
  it("splits the card's own usage from the cards below it", () => {
    const total = { ...sums("", 5_012_500), reports: 3 };
    const { key: _k, ...t } = total;
    const view = costView({ groups: [sums("t_child", 12_500), sums("t_me", 5_000_000)], total: t }, "t_me");
    expect(view.own.cost_micro_usd).toBe(5_000_000);
    expect(view.total.cost_micro_usd).toBe(5_012_500);
    expect(view.cardsBelow).toBe(1);
  });

  it("a card with no reports of its own costs nothing of its own", () => {
    const { key: _k, ...t } = sums("", 7);
    const view = costView({ groups: [sums("t_child", 7)], total: t }, "t_me");
    expect(view.own).toMatchObject({ reports: 0, cost_micro_usd: 0 });
    expect(view.cardsBelow).toBe(1);
  });

  it("formats dollars exactly and tokens at a glance", () => {
    expect(dollars(5_351_381)).toBe("$5.351381");
    expect(dollars(3_000_000)).toBe("$3.00");
    expect(dollars(12_500)).toBe("$0.0125");
    expect(dollars(0)).toBe("$0.00");
    expect(tokens(1_234_567)).toBe("1.2M");
    expect(tokens(2_000_000)).toBe("2M");
    expect(tokens(89_012)).toBe("89k");
    expect(tokens(950)).toBe("950");
  });
});
