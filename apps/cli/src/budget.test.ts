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
import type { ToolIdentity } from "./tools/client.ts";
import { KANBAN_TOOLS, runKanbanTool } from "./tools/index.ts";

/**
 * Budgets that pause (issue 21) from the command line: `kanban budget set|list|allow` in local mode
 * and against a real `kanban serve`, the orchestrator's MCP tool kanban_budget_allow, and a fake
 * worker spawned by the real dispatcher that spends through the real binary until its budget pauses
 * it, then resumes after `kanban budget allow`.
 */

interface Budget {
  scope: string;
  key: string;
  tenant: string | null;
  limit_micro_usd: number;
  allowance_micro_usd: number;
  spent_micro_usd: number;
  remaining_micro_usd: number;
  state: string;
}

let h: TempHome;
let server: RunningServer;

beforeEach(async () => {
  h = tempHome();
  server = await startServer({ host: "127.0.0.1", port: 0, location: { home: h.home }, logger: silentLogger });
});

afterEach(async () => {
  await server.close();
  h.cleanup();
});

describe.each(["local", "remote"] as const)("%s mode", (mode) => {
  const env = () => (mode === "remote" ? { ...h.env, KANBAN_URL: server.url } : h.env);

  async function running(assignee: string) {
    const created = await cli(["create", "work", "--assignee", assignee], env());
    expect(created.code, created.err).toBe(0);
    const id = createdId(created.out);
    const claim = await (await apiClient(env())).tasks.claim.mutate({ id });
    return { id, worker: { ...env(), KANBAN_TASK: id, KANBAN_RUN_ID: String(claim.run_id) } };
  }

  it("set, list and allow; a heartbeat that spends the budget pauses the card, allow resumes it", async () => {
    const none = await cli(["budget"], env());
    expect(none.out).toContain("(no budgets");
    const set = await cli(["budget", "set", "profile", "coder", "2.50", "--warn", "60"], env());
    expect(set.code, set.err).toBe(0);
    expect(set.out).toBe("Budget profile coder: $2.50 a day (UTC), warning at 60%; spent $0.00.");
    const board = await cli(["budget", "set", "board", "100"], env());
    expect(board.code, board.err).toBe(0);

    const a = await running("coder");
    expect((await cli(["heartbeat", a.id, "--cost-usd", "1.5"], a.worker)).code).toBe(0);
    const beat = await cli(["heartbeat", a.id, "--cost-usd", "1"], a.worker);
    expect(beat.code, beat.err).toBe(0);
    // Paused: the next heartbeat is refused, and the card is blocked with kind budget.
    expect((await cli(["heartbeat", a.id, "--cost-usd", "1"], a.worker)).code).not.toBe(0);
    const shown = await cliJson<{ task: { status: string } }>(["show", a.id], env());
    expect(shown.task.status).toBe("blocked");

    const list = await cli(["budget", "list"], env());
    expect(list.code, list.err).toBe(0);
    expect(list.out).toMatch(/profile\s+coder\s+-\s+today \(UTC\)\s+\$2\.50\s+\$2\.50\s+-\s+\$0\.00\s+spent: paused/);
    expect(list.out).toMatch(/board\s+\*\s+-\s+today \(UTC\)\s+\$2\.50\s+\$100\.00\s+-\s+\$97\.50\s+ok/);

    const allow = await cli(["budget", "allow", "profile", "coder", "1"], env());
    expect(allow.code, allow.err).toBe(0);
    expect(allow.out).toBe(`Allowed $1.00 more on budget profile coder: $1.00 left. Resumed: ${a.id}.`);
    expect((await cliJson<{ task: { status: string } }>(["show", a.id], env())).task.status).toBe("ready");
    const json = await cliJson<{ budgets: Budget[] }>(["budget"], env());
    expect(json.budgets.find((b) => b.scope === "profile")).toMatchObject({
      allowance_micro_usd: 1_000_000,
      spent_micro_usd: 2_500_000,
      remaining_micro_usd: 1_000_000,
      state: "warning",
    });
  });

  it("refuses a bad scope, a missing key and a bad amount before calling; an unset budget is not found", async () => {
    for (const argv of [
      ["budget", "set", "week", "5"],
      ["budget", "set", "profile", "5"],
      ["budget", "set", "board", "1.0000001"],
      ["budget", "set", "board", "5", "--warn", "0"],
      ["budget", "allow", "board", "5", "--warn", "50"],
      ["budget", "pause"],
    ]) {
      const r = await cli(argv, env());
      expect(r.code, argv.join(" ")).toBe(2);
    }
    const missing = await cli(["budget", "allow", "tenant", "acme", "5"], env());
    expect(missing.code).not.toBe(0);
    expect(missing.err).toContain("no tenant budget for acme is set");
  });
});

describe("kanban_budget_allow (MCP)", () => {
  it("is hidden from and refused to a worker; an orchestrator allows more and the paused card resumes", async () => {
    const api = await apiClient(h.env);
    await api.budgets.set.mutate({ scope: "board", limit_usd: 1 });
    const { task } = await api.tasks.create.mutate({ title: "job", assignee: "coder" });
    const claimed = await api.tasks.claim.mutate({ id: task.id });
    await api.tasks.heartbeat.mutate({ id: task.id, expected_run_id: claimed.run_id, usage: { cost_usd: 1 } });
    expect((await api.tasks.get.query({ id: task.id })).task.status).toBe("blocked");

    const tool = KANBAN_TOOLS.find((t) => t.name === "kanban_budget_allow");
    if (!tool) throw new Error("no kanban_budget_allow");
    const base = { claimLock: null, profile: null, tenant: null, sessionId: null };
    const worker: ToolIdentity = { ...base, task: task.id, runId: claimed.run_id as number };
    const refused = await runKanbanTool(tool, { scope: "board", amount_usd: 5 }, { client: api, identity: worker });
    expect(refused.isError).toBe(true);
    expect(refused.text).toMatch(/orchestrator-only/);

    const orchestrator: ToolIdentity = { ...base, task: null, runId: null };
    const ok = await runKanbanTool(tool, { scope: "board", amount_usd: 0.5 }, { client: api, identity: orchestrator });
    expect(ok.isError).toBe(false);
    expect(JSON.parse(ok.text)).toEqual({
      ok: true,
      scope: "board",
      key: "*",
      spent_usd: 1,
      limit_usd: 1.5,
      state: "ok",
      resumed: [task.id],
    });
    const unknown = await runKanbanTool(
      tool,
      { scope: "profile", key: "nobody", amount_usd: 1 },
      { client: api, identity: orchestrator },
    );
    expect(unknown.isError).toBe(true);
    expect(unknown.text).toContain("no profile budget for nobody is set");
  });
});

describe("a fake worker spawned by the dispatcher", () => {
  it("spends until its budget pauses it, never past the limit; kanban budget allow resumes it", async () => {
    const worker = path.join(path.dirname(fileURLToPath(import.meta.url)), "testing", "budget-worker.mjs");
    const home = tempHome({ profiles: { coder: { command: [process.execPath, worker, KANBAN_BIN] } } });
    try {
      expect((await runBinary(["budget", "set", "profile", "coder", "3"], home.env)).code).toBe(0);
      const created = await runBinary(["create", "metered work", "--assignee", "coder"], home.env);
      expect(created.code, created.err).toBe(0);
      const id = createdId(created.out);
      const client = await apiClient(home.env);
      const until = async (status: string) => {
        const deadline = Date.now() + 30_000;
        while ((await client.tasks.get.query({ id })).task.status !== status) {
          if (Date.now() > deadline) throw new Error(`${id} did not become ${status}`);
          await new Promise((r) => setTimeout(r, 100));
        }
      };
      const spent = async () => (await client.budgets.list.query()).budgets[0]?.spent_micro_usd;

      expect((await runBinary(["dispatch"], home.env)).code).toBe(0);
      await until("blocked");
      // One dollar a heartbeat against a $3 budget: paused at exactly $3, never a heartbeat more.
      expect(await spent()).toBe(3_000_000);
      const why = await runBinary(["why", id], home.env);
      expect(why.out).toContain("Budget profile coder (today, UTC) is spent: $3.00 of $3.00");
      // Paused, the dispatcher starts nothing.
      expect((await runBinary(["dispatch"], home.env)).code).toBe(0);
      expect((await client.tasks.get.query({ id })).task.status).toBe("blocked");

      const allow = await runBinary(["budget", "allow", "profile", "coder", "2"], home.env);
      expect(allow.code, allow.err).toBe(0);
      expect(allow.out).toContain(`Resumed: ${id}.`);
      expect((await runBinary(["dispatch"], home.env)).code).toBe(0);
      // The second worker spends the $2 allowed and is paused in turn: two runs, both ended by the budget.
      const deadline = Date.now() + 30_000;
      for (;;) {
        // The status first: a pause ends the run and blocks the card in one transaction, so runs read after
        // a blocked status show it ended (read the other way round, the pause could fall in between).
        const status = (await client.tasks.get.query({ id })).task.status;
        const runs = (await client.runs.list.query({ task_id: id })).runs;
        if (runs.length === 2 && status === "blocked") {
          expect(runs.map((r) => r.outcome)).toEqual(["blocked", "blocked"]);
          break;
        }
        if (Date.now() > deadline) throw new Error(`${id} was not paused a second time`);
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(await spent()).toBe(5_000_000);
    } finally {
      home.cleanup();
    }
  }, 90_000);
});
