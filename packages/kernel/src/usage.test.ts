import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { scopeBoard } from "./scoped-board.ts";
import { caught } from "./testing/helpers.ts";
import { createTestBoard, type TestBoard } from "./testing/index.ts";
import { dropFreeTestSchemas, settleTestSchemas } from "./testing/test-store.ts";
import { costFromPrice, formatMicroUsd, type PriceTable, priceFor, usdToMicro } from "./usage.ts";

// Issue 21, cost: workers report usage with heartbeat, complete, block or on its own, fenced to
// their run; the price table prices what the worker did not; roll-ups are exact to the micro-dollar.

let board: TestBoard;
beforeEach(() => {
  board = createTestBoard({}, { recycle: true });
});
afterEach(async () => {
  board.cleanup();
  await settleTestSchemas();
});
afterAll(async () => await dropFreeTestSchemas());

const PRICES: PriceTable = {
  // $3 in, $15 out, $0.30 cache reads, $3.75 cache writes per million tokens.
  models: {
    sonnet: { input_per_mtok: 3, output_per_mtok: 15, cache_read_per_mtok: 0.3, cache_write_per_mtok: 3.75 },
    "*": { input_per_mtok: 1, output_per_mtok: 2 },
  },
  profiles: { reviewer: { sonnet: { input_per_mtok: 1.5, output_per_mtok: 7.5 } } },
};

async function running(assignee = "coder", tenant?: string): Promise<{ id: string; run: number }> {
  const task = await board.createTask({ title: "work", assignee, ...(tenant ? { tenant } : {}) });
  const claimed = await board.claimTask(task.id);
  if (!claimed || claimed.current_run_id === null) throw new Error("claim failed");
  return { id: task.id, run: claimed.current_run_id };
}

describe("pricing (pure)", () => {
  it("prices tokens exactly in micro-dollars, rounding half up once per report", () => {
    const sonnet = PRICES.models?.sonnet as NonNullable<ReturnType<typeof priceFor>>;
    // 1,000,000 in at $3 + 200,000 out at $15 + 500,000 cache reads at $0.30 + 10,000 writes at $3.75.
    expect(
      costFromPrice({ tokens_in: 1_000_000, tokens_out: 200_000, cache_read: 500_000, cache_write: 10_000 }, sonnet),
    ).toBe(3_000_000 + 3_000_000 + 150_000 + 37_500);
    // One cache read costs 0.3 micro-dollars: rounds to 0; five cost 1.5: rounds to 2.
    expect(costFromPrice({ tokens_in: 0, tokens_out: 0, cache_read: 1, cache_write: 0 }, sonnet)).toBe(0);
    expect(costFromPrice({ tokens_in: 0, tokens_out: 0, cache_read: 5, cache_write: 0 }, sonnet)).toBe(2);
  });

  it("a profile's own price wins, then the model's, then '*'", () => {
    expect(priceFor(PRICES, "reviewer", "sonnet")?.input_per_mtok).toBe(1.5);
    expect(priceFor(PRICES, "coder", "sonnet")?.input_per_mtok).toBe(3);
    expect(priceFor(PRICES, "coder", "unknown-model")?.input_per_mtok).toBe(1);
    expect(priceFor(PRICES, "coder", null)?.input_per_mtok).toBe(1);
    expect(priceFor({ models: { sonnet: { input_per_mtok: 3, output_per_mtok: 15 } } }, "coder", "haiku")).toBeNull();
    expect(priceFor(null, "coder", "sonnet")).toBeNull();
  });

  it("reads dollars exactly and shows micro-dollars as dollars", () => {
    expect(usdToMicro("0.0125")).toBe(12_500);
    expect(usdToMicro("12")).toBe(12_000_000);
    expect(usdToMicro("0.000001")).toBe(1);
    expect(usdToMicro(0.1 + 0.2)).toBe(300_000);
    expect(() => usdToMicro("0.0000001")).toThrow(/six decimals/);
    expect(() => usdToMicro("-1")).toThrow();
    expect(formatMicroUsd(12_500)).toBe("$0.0125");
    expect(formatMicroUsd(3_000_000)).toBe("$3.00");
    expect(formatMicroUsd(1_500_000)).toBe("$1.50");
    expect(formatMicroUsd(1)).toBe("$0.000001");
  });
});

describe("reporting", () => {
  it("heartbeat, a standalone report and complete each write one row on the run, priced or not", async () => {
    const { id, run } = await running();
    await board.heartbeat(id, {
      expected_run_id: run,
      usage: { model: "sonnet", tokens_in: 1_000_000, tokens_out: 100_000 },
      prices: PRICES,
    });
    board.clock.advance(60);
    await board.reportUsage(id, { model: "sonnet", tokens_in: 10, cost_micro_usd: 777 }, { expected_run_id: run });
    // A model the table does not price (no '*' here): the tokens count, the cost stays unknown.
    await board.reportUsage(id, { model: "mystery", tokens_out: 5 }, { expected_run_id: run, prices: {} });
    await board.completeTask(id, {
      expected_run_id: run,
      summary: "done",
      usage: { model: "sonnet", tokens_out: 1_000, cache_read: 2_000 },
      prices: PRICES,
    });
    const rows = await board.usageOfTask(id);
    expect(rows.map((r) => [r.via, r.run_id, r.profile, r.model, r.cost_micro_usd, r.cost_source])).toEqual([
      ["heartbeat", run, "coder", "sonnet", 3_000_000 + 1_500_000, "price_table"],
      ["report", run, "coder", "sonnet", 777, "worker"],
      ["report", run, "coder", "mystery", null, null],
      ["complete", run, "coder", "sonnet", 15_000 + 600, "price_table"],
    ]);
    const total = (await board.usageSummary({ by: "board" })).total;
    expect(total).toEqual({
      reports: 4,
      tokens_in: 1_000_010,
      tokens_out: 101_005,
      cache_read: 2_000,
      cache_write: 0,
      cost_micro_usd: 4_516_377,
      unpriced: 1,
    });
  });

  it("a report naming no model ran on the card's model override, else on its profile's configured model", async () => {
    const prices: PriceTable = { ...PRICES, profileModels: { coder: "sonnet" } };
    const pinned = await board.createTask({ title: "pinned", assignee: "coder", model_override: "opus" });
    await board.claimTask(pinned.id);
    const plain = await running();
    await board.reportUsage(pinned.id, { tokens_in: 1_000_000 }, { prices });
    await board.reportUsage(plain.id, { tokens_in: 1_000_000 }, { prices });
    await board.reportUsage(plain.id, { tokens_in: 1_000_000 }, { prices: PRICES });
    const rows = [...(await board.usageOfTask(pinned.id)), ...(await board.usageOfTask(plain.id))];
    // opus has no price of its own: the '*' entry ($1/M) prices it; the profile's sonnet is $3/M.
    expect(rows.map((r) => [r.model, r.cost_micro_usd])).toEqual([
      ["opus", 1_000_000],
      ["sonnet", 3_000_000],
      [null, 1_000_000],
    ]);
  });

  it("block carries usage on the run it parked; an empty usage object writes nothing", async () => {
    const { id, run } = await running();
    await board.heartbeat(id, { expected_run_id: run, usage: {} });
    expect(await board.reportUsage(id, { tokens_in: 0 }, { expected_run_id: run })).toBeNull();
    await board.blockTask(id, {
      expected_run_id: run,
      reason: "need input",
      usage: { tokens_in: 42, cost_micro_usd: 9 },
    });
    expect((await board.usageOfTask(id)).map((r) => [r.via, r.run_id, r.tokens_in, r.cost_micro_usd])).toEqual([
      ["block", run, 42, 9],
    ]);
  });

  it("is fenced: a reclaimed worker's report is STALE_RUN and writes nothing; no active run is WRONG_STATE", async () => {
    const { id, run } = await running();
    await board.reclaimTask(id, { reason: "test" });
    const again = await board.claimTask(id);
    expect(again?.current_run_id).not.toBe(run);
    expect((await caught(() => board.reportUsage(id, { tokens_in: 5 }, { expected_run_id: run }))).code).toBe(
      "STALE_RUN",
    );
    expect((await caught(() => board.heartbeat(id, { expected_run_id: run, usage: { tokens_in: 5 } }))).code).toBe(
      "STALE_RUN",
    );
    expect(await board.usageOfTask(id)).toEqual([]);
    const idle = await board.createTask({ title: "idle", assignee: "coder" });
    expect((await caught(() => board.reportUsage(idle.id, { tokens_in: 5 }))).code).toBe("WRONG_STATE");
  });

  it("a heartbeat refused by its fence writes no usage (one transaction)", async () => {
    const { id, run } = await running();
    await board.reclaimTask(id, { reason: "test" });
    await board.claimTask(id);
    await caught(() => board.heartbeat(id, { expected_run_id: run, usage: { tokens_in: 5, cost_micro_usd: 1 } }));
    expect(await board.usageOfTask(id)).toEqual([]);
  });

  it("bad usage is refused before the completion settles anything", async () => {
    const { id, run } = await running();
    const err = await caught(() =>
      board.completeTask(id, { expected_run_id: run, summary: "x", usage: { tokens_in: -1 } }),
    );
    expect(err.code).toBe("INVALID_INPUT");
    expect((await board.requireTask(id)).status).toBe("running");
    expect((await caught(() => board.reportUsage(id, { tokens_in: 1.5 }))).code).toBe("INVALID_INPUT");
    expect((await caught(() => board.reportUsage(id, { cost_micro_usd: 1e13 }))).code).toBe("INVALID_INPUT");
  });

  it("a re-sent completion (replayed) does not count its usage twice", async () => {
    const { id, run } = await running();
    const usage = { tokens_in: 100, cost_micro_usd: 1_000 };
    await board.completeTask(id, { expected_run_id: run, summary: "ok", usage });
    const again = await board.completeTask(id, { expected_run_id: run, summary: "ok", usage });
    expect(again.replayed).toBe(true);
    expect((await board.usageSummary({ by: "board" })).total.cost_micro_usd).toBe(1_000);
  });
});

describe("roll-ups", () => {
  it("per run, task (with its children), profile, model, tenant, board and day: exact sums", async () => {
    const day0 = board.clock.seconds - (board.clock.seconds % 86_400) + 3_600;
    board.clock.set(day0);
    const parent = await running("planner", "acme");
    const child = await board.createTask({ title: "child", assignee: "coder", tenant: "acme" });
    await board.linkTasks(parent.id, child.id);
    const grandchild = await board.createTask({ title: "grandchild", assignee: "coder", tenant: "acme" });
    await board.linkTasks(child.id, grandchild.id);
    const other = await running("coder", "globex");

    await board.reportUsage(parent.id, { model: "opus", tokens_in: 100, cost_micro_usd: 10_000 });
    await board.completeTask(parent.id, { summary: "planned", usage: { model: "opus", cost_micro_usd: 5_000 } });
    const c = await board.claimTask(child.id);
    await board.reportUsage(child.id, { model: "sonnet", tokens_in: 1_000, tokens_out: 100 }, { prices: PRICES });
    board.clock.advance(86_400);
    await board.completeTask(child.id, {
      expected_run_id: c?.current_run_id,
      usage: { model: "sonnet", cost_micro_usd: 1 },
    });
    const g = await board.claimTask(grandchild.id);
    await board.reportUsage(grandchild.id, { model: "sonnet", cost_micro_usd: 250 });
    await board.reportUsage(other.id, { model: "sonnet", cost_micro_usd: 1_000_000 });

    // The child's report priced from the table: 1,000 × $3 + 100 × $15 per million = 4,500 micro-dollars.
    const byTask = await board.usageSummary({ by: "task" });
    expect(byTask.groups.map((g) => [g.key, g.cost_micro_usd, g.reports])).toEqual([
      [other.id, 1_000_000, 1],
      [parent.id, 15_000, 2],
      [child.id, 4_501, 2],
      [grandchild.id, 250, 1],
    ]);
    expect(byTask.total.cost_micro_usd).toBe(1_019_751);

    // The parent's total takes in its child and grandchild; the child's only its own subtree.
    const tree = await board.usageSummary({ by: "task", task_id: parent.id });
    expect(tree.total.cost_micro_usd).toBe(15_000 + 4_501 + 250);
    expect((await board.usageSummary({ by: "board", task_id: child.id })).total.cost_micro_usd).toBe(4_751);

    const byRun = await board.usageSummary({ by: "run", task_id: child.id });
    expect(byRun.groups.map((r) => [r.key, r.cost_micro_usd])).toEqual([
      [c?.current_run_id, 4_501],
      [g?.current_run_id, 250],
    ]);

    const byProfile = await board.usageSummary({ by: "profile" });
    expect(byProfile.groups.map((g) => [g.key, g.cost_micro_usd])).toEqual([
      ["coder", 1_004_751],
      ["planner", 15_000],
    ]);
    const byModel = await board.usageSummary({ by: "model" });
    expect(byModel.groups.map((g) => [g.key, g.cost_micro_usd, g.tokens_in])).toEqual([
      ["sonnet", 1_004_751, 1_000],
      ["opus", 15_000, 100],
    ]);
    const byTenant = await board.usageSummary({ by: "tenant" });
    expect(byTenant.groups.map((g) => [g.key, g.cost_micro_usd])).toEqual([
      ["globex", 1_000_000],
      ["acme", 19_751],
    ]);
    const byDay = await board.usageSummary({ by: "day" });
    const first = new Date(day0 * 1000).toISOString().slice(0, 10);
    const second = new Date((day0 + 86_400) * 1000).toISOString().slice(0, 10);
    expect(byDay.groups.map((g) => [g.key, g.cost_micro_usd])).toEqual([
      [first, 19_500],
      [second, 1_000_251],
    ]);
    expect((await board.usageSummary({ by: "board", since: day0 + 86_400 })).total.cost_micro_usd).toBe(1_000_251);
    expect((await board.usageSummary({ by: "board", tenant: "acme" })).total.cost_micro_usd).toBe(19_751);
  });

  it("a tenant's scope sums only its own reports and cannot name another tenant's task", async () => {
    const mine = await running("coder", "acme");
    const theirs = await running("coder", "globex");
    await board.reportUsage(mine.id, { cost_micro_usd: 10 });
    await board.reportUsage(theirs.id, { cost_micro_usd: 99 });
    const acme = scopeBoard(board, { tenant: "acme" });
    const summary = await acme.usageSummary({ by: "tenant", tenant: "globex" });
    expect(summary.groups.map((g) => [g.key, g.cost_micro_usd])).toEqual([["acme", 10]]);
    expect((await caught(() => acme.usageSummary({ by: "run", task_id: theirs.id }))).code).toBe("NOT_FOUND");
    expect((await caught(() => acme.reportUsage(theirs.id, { tokens_in: 1 }))).code).toBe("NOT_FOUND");
    expect((await caught(() => acme.usageOfTask(theirs.id))).code).toBe("NOT_FOUND");
    expect((await scopeBoard(board, { tenant: null }).usageSummary({ by: "board" })).total.cost_micro_usd).toBe(109);
  });

  it("an empty board sums to zero with no groups", async () => {
    const s = await board.usageSummary({ by: "board" });
    expect(s.groups).toEqual([]);
    expect(s.total).toMatchObject({ reports: 0, cost_micro_usd: 0 });
    expect((await caught(() => board.usageSummary({ by: "task", task_id: "t_missing" }))).code).toBe("NOT_FOUND");
  });
});
