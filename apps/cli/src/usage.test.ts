import path from "node:path";
import { fileURLToPath } from "node:url";
import { type RunningServer, silentLogger, startServer } from "@kanban/api";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  apiClient,
  cli,
  cliJson,
  createdId,
  KANBAN_BIN,
  runBinary,
  type TempHome,
  tempHome,
} from "./testing/harness.ts";

/**
 * Cost (issue 21) from the command line: the usage flags of heartbeat, complete and block,
 * `kanban usage report`, and the `kanban usage` roll-ups, in local mode and against a real
 * `kanban serve`; then a fake worker, spawned by the real dispatcher, that reports through the
 * real binary, and roll-ups exact to the cent.
 */

const PRICES = {
  // Dollars per million tokens.
  sonnet: { input_per_mtok: 3, output_per_mtok: 15, cache_read_per_mtok: 0.3, cache_write_per_mtok: 3.75 },
};

interface Summary {
  by: string;
  groups: {
    key: string | number | null;
    reports: number;
    tokens_in: number;
    cost_micro_usd: number;
    unpriced: number;
  }[];
  total: { reports: number; tokens_in: number; tokens_out: number; cost_micro_usd: number; unpriced: number };
}

let h: TempHome;
let server: RunningServer;

beforeEach(async () => {
  h = tempHome({ prices: PRICES });
  server = await startServer({ host: "127.0.0.1", port: 0, location: { home: h.home }, logger: silentLogger });
});

afterEach(async () => {
  await server.close();
  h.cleanup();
});

describe.each(["local", "remote"] as const)("%s mode", (mode) => {
  const env = () => (mode === "remote" ? { ...h.env, KANBAN_URL: server.url } : h.env);

  /** A claimed task and the environment of the worker running it (its fence). */
  async function running(assignee = "coder") {
    const created = await cli(["create", "work", "--assignee", assignee], env());
    expect(created.code, created.err).toBe(0);
    const id = createdId(created.out);
    const client = await apiClient(env());
    const claim = await client.tasks.claim.mutate({ id });
    return { id, worker: { ...env(), KANBAN_TASK: id, KANBAN_RUN_ID: String(claim.run_id) } };
  }

  it("heartbeat, usage report and complete carry usage; kanban usage sums it by task, model and day", async () => {
    const a = await running();
    const beat = await cli(["heartbeat", a.id, "--model", "sonnet", "--tokens-in", "1000000"], a.worker);
    expect(beat.code, beat.err).toBe(0);
    const report = await cli(["usage", "report", "--cost-usd", "0.0125", "--tokens-out", "7"], a.worker);
    expect(report.code, report.err).toBe(0);
    expect(report.out).toBe(`Usage recorded for ${a.id}: $0.0125`);
    const done = await cli(
      ["complete", a.id, "--summary", "ok", "--model", "sonnet", "--tokens-out", "1000"],
      a.worker,
    );
    expect(done.code, done.err).toBe(0);
    const b = await running("writer");
    const blocked = await cli(["block", b.id, "stuck", "--model", "haiku", "--tokens-in", "5"], b.worker);
    expect(blocked.code, blocked.err).toBe(0);

    const byTask = await cliJson<Summary>(["usage"], env());
    // a: $3 for a million tokens in, $0.0125 given, 1,000 out at $15/M = $0.015; b: haiku has no price.
    expect(byTask.groups.map((g) => [g.key, g.reports, g.cost_micro_usd, g.unpriced])).toEqual([
      [a.id, 3, 3_027_500, 0],
      [b.id, 1, 0, 1],
    ]);
    expect(byTask.total).toMatchObject({
      reports: 4,
      tokens_in: 1_000_005,
      tokens_out: 1_007,
      cost_micro_usd: 3_027_500,
    });

    const text = await cli(["usage", "--by", "model"], env());
    expect(text.code, text.err).toBe(0);
    expect(text.out).toMatch(/sonnet\s+2\s+1000000\s+1000\s+0\s+0\s+\$3\.015/);
    expect(text.out).toMatch(/haiku\s+1\s+5\s+0\s+0\s+0\s+\$0\.00 \(\+1 unpriced\)/);
    expect(text.out).toMatch(/TOTAL\s+4\s+1000005\s+1007\s+0\s+0\s+\$3\.0275 \(\+1 unpriced\)/);

    const own = await cliJson<Summary>(["usage", "--task", b.id, "--by", "board"], env());
    expect(own.total).toMatchObject({ reports: 1, tokens_in: 5, unpriced: 1 });
    const today = new Date().toISOString().slice(0, 10);
    const byDay = await cliJson<Summary>(["usage", "--by", "day", "--since", "7d"], env());
    expect(byDay.groups.map((g) => [g.key, g.reports])).toEqual([[today, 4]]);
  });

  it("refuses what it cannot read before calling, and a reclaimed worker's report", async () => {
    const a = await running();
    const badCost = await cli(["heartbeat", a.id, "--cost-usd", "0.1234567"], a.worker);
    expect(badCost.code).not.toBe(0);
    expect(badCost.err).toContain("six decimals");
    const many = await cli(["complete", a.id, "other", "--tokens-in", "5"], a.worker);
    expect(many.code).not.toBe(0);
    expect(many.err).toContain("per-task");
    const empty = await cli(["usage", "report", a.id], a.worker);
    expect(empty.code).not.toBe(0);
    const client = await apiClient(env());
    await client.tasks.reclaim.mutate({ id: a.id });
    const stale = await cli(["usage", "report", a.id, "--tokens-in", "5"], a.worker);
    expect(stale.code).not.toBe(0);
    expect((await cliJson<Summary>(["usage", "--by", "board"], env())).total.reports).toBe(0);
  });
});

describe("a fake worker spawned by the dispatcher", () => {
  it("reports through the real binary; the roll-ups are exact to the cent", async () => {
    const worker = path.join(path.dirname(fileURLToPath(import.meta.url)), "testing", "usage-worker.mjs");
    const home = tempHome({
      prices: PRICES,
      profiles: { coder: { command: [process.execPath, worker, KANBAN_BIN] } },
    });
    try {
      const created = await runBinary(["create", "priced work", "--assignee", "coder"], home.env);
      expect(created.code, created.err).toBe(0);
      const id = createdId(created.out);
      const tick = await runBinary(["dispatch"], home.env);
      expect(tick.code, tick.err).toBe(0);
      const client = await apiClient(home.env);
      const deadline = Date.now() + 30_000;
      while ((await client.tasks.get.query({ id })).task.status !== "done") {
        if (Date.now() > deadline) throw new Error(`the fake worker did not complete ${id}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const byRun = await runBinary(["usage", "--by", "run", "--json"], home.env);
      expect(byRun.code, byRun.err).toBe(0);
      const summary = JSON.parse(byRun.out) as Summary;
      // heartbeat: 1,234,567 × $3/M + 89,012 × $15/M = $5.038881; the worker's own $0.0125;
      // complete: 10,000 × $3/M + 2,000 × $15/M + 300,000 × $0.30/M + 40,000 × $3.75/M = $0.30.
      expect(summary.groups).toHaveLength(1);
      expect(summary.total).toMatchObject({
        reports: 3,
        tokens_in: 1_244_567,
        tokens_out: 91_012,
        cost_micro_usd: 5_351_381,
        unpriced: 0,
      });
      const text = await runBinary(["usage", "--by", "profile"], home.env);
      expect(text.out).toMatch(/coder\s+3\s+1244567\s+91012\s+300000\s+40000\s+\$5\.351381/);
      // To the cent, as a person reads it.
      expect((summary.total.cost_micro_usd / 1_000_000).toFixed(2)).toBe("5.35");
    } finally {
      home.cleanup();
    }
  }, 60_000);
});
