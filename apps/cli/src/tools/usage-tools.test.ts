import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { KanbanClient } from "../client.ts";
import { apiClient, type TempHome, tempHome } from "../testing/harness.ts";
import type { ToolIdentity } from "./client.ts";
import { KANBAN_TOOLS, runKanbanTool } from "./index.ts";

/**
 * The optional `usage` object of kanban_heartbeat and kanban_complete (issue 21), through
 * runKanbanTool on a real board: priced from config.json when the agent gives no cost.
 */
let h: TempHome;
let api: KanbanClient;

async function call(name: string, args: Record<string, unknown>, identity: ToolIdentity) {
  const tool = KANBAN_TOOLS.find((t) => t.name === name);
  if (!tool) throw new Error(`no tool ${name}`);
  const outcome = await runKanbanTool(tool, args, { client: api, identity });
  return { isError: outcome.isError, body: JSON.parse(outcome.text) as Record<string, unknown> };
}

beforeEach(async () => {
  h = tempHome({ prices: { sonnet: { input_per_mtok: 3, output_per_mtok: 15 } } });
  api = await apiClient(h.env);
});
afterEach(() => h.cleanup());

describe("usage on the agent tools", () => {
  it("kanban_heartbeat and kanban_complete report usage on the worker's own run", async () => {
    const { task } = await api.tasks.create.mutate({ title: "job", assignee: "coder" });
    const claimed = await api.tasks.claim.mutate({ id: task.id });
    const me: ToolIdentity = {
      task: task.id,
      runId: claimed.run_id as number,
      claimLock: null,
      profile: "coder",
      tenant: null,
      sessionId: null,
    };
    const beat = await call(
      "kanban_heartbeat",
      { note: "half way", usage: { model: "sonnet", tokens_in: 200_000 } },
      me,
    );
    expect(beat.isError).toBe(false);
    const done = await call(
      "kanban_complete",
      { summary: "done", usage: { model: "sonnet", tokens_out: 10_000, cost_usd: 0.2 } },
      me,
    );
    expect(done.isError).toBe(false);
    const bad = await call("kanban_heartbeat", { usage: { tokens_in: -5 } }, me);
    expect(bad.isError).toBe(true);
    const summary = await api.usage.summary.query({ by: "run" });
    // 200,000 × $3/M = $0.60 priced; the completion's own $0.20 wins over its tokens' price.
    expect(summary.groups).toEqual([
      expect.objectContaining({
        key: claimed.run_id,
        reports: 2,
        tokens_in: 200_000,
        tokens_out: 10_000,
        cost_micro_usd: 800_000,
      }),
    ]);
  });
});
