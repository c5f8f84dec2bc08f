import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { codeOf, createTestApi, type TestApi, tokenServer } from "../testing.ts";

// Issue 21, cost through the API: usage on heartbeat/complete/block and usage.report, priced from
// config.json when the worker gives no cost, and usage.summary scoped like every board read.

const CONFIG = {
  prices: { sonnet: { input_per_mtok: 3, output_per_mtok: 15 } },
  profiles: { cheap: { command: ["worker"], prices: { sonnet: { input_per_mtok: 1, output_per_mtok: 1 } } } },
};

describe("usage through the API", () => {
  let t: TestApi;
  beforeEach(() => {
    t = createTestApi({ config: CONFIG });
  });
  afterEach(() => t.cleanup());

  async function running(assignee = "coder", tenant?: string) {
    const { task } = await t.api.tasks.create({ title: "w", assignee, ...(tenant ? { tenant } : {}) });
    const claim = await t.api.tasks.claim({ id: task.id });
    return { id: task.id, run: claim.run_id as number };
  }

  it("heartbeat, usage.report, complete and block carry usage; config prices what has no cost", async () => {
    const a = await running();
    await t.api.tasks.heartbeat({
      id: a.id,
      expected_run_id: a.run,
      usage: { model: "sonnet", tokens_in: 100_000, tokens_out: 10_000 },
    });
    const reported = await t.api.usage.report({
      id: a.id,
      expected_run_id: a.run,
      usage: { model: "sonnet", tokens_in: 5, cost_usd: 0.0125 },
    });
    expect(reported.usage).toMatchObject({ cost_micro_usd: 12_500, cost_source: "worker", via: "report" });
    await t.api.tasks.complete({
      id: a.id,
      expected_run_id: a.run,
      summary: "ok",
      usage: { model: "sonnet", cost_micro_usd: 3 },
    });
    const b = await running("cheap");
    await t.api.tasks.block({
      id: b.id,
      expected_run_id: b.run,
      reason: "stuck",
      usage: { model: "sonnet", tokens_in: 1_000_000 },
    });

    const byTask = await t.api.usage.summary({ by: "task" });
    // a: 100,000 × $3 + 10,000 × $15 per million = $0.45, + $0.0125 + 3 micro-dollars; b: its profile's $1.
    expect(byTask.groups.map((g) => [g.key, g.cost_micro_usd, g.reports])).toEqual([
      [b.id, 1_000_000, 1],
      [a.id, 450_000 + 12_500 + 3, 3],
    ]);
    expect(byTask.total.cost_micro_usd).toBe(1_462_503);
    const byModel = await t.api.usage.summary({ by: "model", task_id: a.id });
    expect(byModel.groups).toEqual([
      expect.objectContaining({ key: "sonnet", tokens_in: 100_005, tokens_out: 10_000, cost_micro_usd: 462_503 }),
    ]);
  });

  it("refuses a cost given twice, a negative count, and an unknown usage key, writing nothing", async () => {
    const a = await running();
    for (const usage of [
      { cost_usd: 1, cost_micro_usd: 1 },
      { tokens_in: -1 },
      { tokens: 5 } as unknown as { tokens_in: number },
    ]) {
      expect(await codeOf(t.api.usage.report({ id: a.id, expected_run_id: a.run, usage }))).toBe("BAD_REQUEST");
    }
    expect(await codeOf(t.api.tasks.complete({ id: a.id, usage: { cost_usd: 1, cost_micro_usd: 1 } }))).toBe(
      "BAD_REQUEST",
    );
    expect((await t.api.tasks.get({ id: a.id })).task.status).toBe("running");
    expect((await t.api.usage.summary({ by: "board" })).total.reports).toBe(0);
  });

  it("a stale fence is a conflict and writes nothing", async () => {
    const a = await running();
    await t.api.tasks.reclaim({ id: a.id });
    expect(await codeOf(t.api.usage.report({ id: a.id, expected_run_id: a.run, usage: { tokens_in: 1 } }))).toBe(
      "CONFLICT",
    );
    expect((await t.api.usage.summary({ by: "board" })).total.reports).toBe(0);
  });

  it("a tenant sees only its own usage and cannot name another tenant's task", async () => {
    const mine = await running("coder", "acme");
    const theirs = await running("coder", "zeta");
    await t.api.usage.report({ id: mine.id, usage: { cost_micro_usd: 5 } });
    await t.api.usage.report({ id: theirs.id, usage: { cost_micro_usd: 7 } });
    const acme = t.caller("acme");
    const summary = await acme.usage.summary({ by: "tenant", tenant: "zeta" });
    expect(summary.groups.map((g) => [g.key, g.cost_micro_usd])).toEqual([["acme", 5]]);
    expect(summary.total.cost_micro_usd).toBe(5);
    expect(await codeOf(acme.usage.summary({ by: "run", task_id: theirs.id }))).toBe("NOT_FOUND");
    expect(await codeOf(acme.usage.report({ id: theirs.id, usage: { tokens_in: 1 } }))).toBe("NOT_FOUND");
    expect((await t.api.usage.summary({ by: "tenant" })).total.cost_micro_usd).toBe(12);
    expect((await t.api.usage.summary({ by: "board", tenant: "zeta" })).total.cost_micro_usd).toBe(7);
  });
});

describe("usage under a worker's run token", () => {
  const s = tokenServer("usage");
  beforeAll(s.start);
  afterAll(s.stop);

  it("reports on its own run only (fenced), and may not read the roll-ups", async () => {
    const { task } = await s.admin.tasks.create.mutate({ title: "w", assignee: "coder" });
    const { task: other } = await s.admin.tasks.create.mutate({ title: "other", assignee: "coder" });
    const claim = await s.admin.tasks.claim.mutate({ id: task.id });
    const run = claim.run_id as number;
    const worker = s.asRun(task.id, run);
    await worker.usage.report.mutate({ id: task.id, expected_run_id: run, usage: { tokens_in: 10, cost_usd: 0.5 } });
    await expect(
      worker.usage.report.mutate({ id: other.id, expected_run_id: run, usage: { tokens_in: 1 } }),
    ).rejects.toMatchObject({ data: { code: "FORBIDDEN" } });
    await expect(worker.usage.report.mutate({ id: task.id, usage: { tokens_in: 1 } })).rejects.toMatchObject({
      data: { kanbanCode: "STALE_RUN" },
    });
    await expect(worker.usage.summary.query({ by: "board" })).rejects.toMatchObject({ data: { code: "FORBIDDEN" } });
    await worker.tasks.complete.mutate({
      id: task.id,
      expected_run_id: run,
      summary: "ok",
      usage: { tokens_out: 20, cost_usd: 0.25 },
    });
    const total = (await s.admin.usage.summary.query({ by: "run" })).groups;
    expect(total).toEqual([
      expect.objectContaining({ key: run, tokens_in: 10, tokens_out: 20, cost_micro_usd: 750_000 }),
    ]);
  });
});
