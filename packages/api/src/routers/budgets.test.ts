import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { codeOf, createTestApi, type TestApi } from "../testing.ts";

// Issue 21, budgets through the API: set, list and allow in dollars, tenant-scoped; a report that
// spends the budget pauses the card, and allow resumes it.

describe("budgets through the API", () => {
  let t: TestApi;
  beforeEach(() => {
    t = createTestApi();
  });
  afterEach(() => t.cleanup());

  async function running(assignee: string, tenant?: string) {
    const { task } = await t.api.tasks.create({ title: "w", assignee, ...(tenant ? { tenant } : {}) });
    const claim = await t.api.tasks.claim({ id: task.id });
    return { id: task.id, run: claim.run_id as number };
  }

  it("a spent profile budget pauses its card; allow resumes it and says which cards it resumed", async () => {
    const set = await t.api.budgets.set({ scope: "profile", key: "coder", limit_usd: "1.50", warn_percent: 50 });
    expect(set.budget).toMatchObject({ scope: "profile", key: "coder", limit_micro_usd: 1_500_000, warn_percent: 50 });
    const card = await running("coder");
    await t.api.tasks.heartbeat({ id: card.id, expected_run_id: card.run, usage: { cost_usd: 1.5 } });
    const paused = await t.api.tasks.get({ id: card.id });
    expect(paused.task.status).toBe("blocked");
    const [listed] = (await t.api.budgets.list()).budgets;
    expect(listed).toMatchObject({ state: "exhausted", spent_micro_usd: 1_500_000, remaining_micro_usd: 0 });

    const allowed = await t.api.budgets.allow({ scope: "profile", key: "coder", amount_usd: 2 });
    expect(allowed.resumed).toEqual([card.id]);
    expect(allowed.budget).toMatchObject({ allowance_micro_usd: 2_000_000, state: "ok" });
    expect((await t.api.tasks.get({ id: card.id })).task.status).toBe("ready");
  });

  it("a tenant sets and sees only its own budgets; bad input is BAD_REQUEST, an unset budget NOT_FOUND", async () => {
    const acme = t.caller("acme");
    await acme.budgets.set({ scope: "tenant", key: "acme", limit_usd: 3 });
    await t.api.budgets.set({ scope: "board", limit_usd: 100 });
    expect((await acme.budgets.list()).budgets.map((b) => [b.scope, b.key, b.tenant])).toEqual([
      ["tenant", "acme", "acme"],
    ]);
    expect((await t.caller("zeta").budgets.list()).budgets).toEqual([]);
    expect((await t.api.budgets.list()).budgets).toHaveLength(2);
    expect(await codeOf(acme.budgets.set({ scope: "tenant", key: "zeta", limit_usd: 1 }))).toBe("BAD_REQUEST");
    expect(await codeOf(acme.budgets.allow({ scope: "board", amount_usd: 1 }))).toBe("NOT_FOUND");
    expect(await codeOf(t.api.budgets.set({ scope: "week" as "board", limit_usd: 1 }))).toBe("BAD_REQUEST");
    expect(await codeOf(t.api.budgets.set({ scope: "board", limit_usd: "1.0000001" }))).toBe("BAD_REQUEST");
  });
});
