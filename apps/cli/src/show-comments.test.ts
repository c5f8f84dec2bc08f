import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { KanbanClient } from "./client.ts";
import { apiClient, cli, cliJson, type TempHome, tempHome } from "./testing/harness.ts";
import type { ToolIdentity } from "./tools/client.ts";
import { KANBAN_TOOLS, runKanbanTool } from "./tools/index.ts";

// The drawer's task detail carries the newest 50 comments of a long discussion (issue 19); `kanban
// show` and the agents' kanban_show still give every comment, as Hermes' show does.

let h: TempHome;
let api: KanbanClient;
beforeEach(async () => {
  h = tempHome();
  api = await apiClient(h.env);
});
afterEach(() => h.cleanup());

describe("show on a long discussion", () => {
  it("prints every comment, oldest first, in text, JSON and the MCP tool", async () => {
    const { task } = await api.tasks.create.mutate({ title: "chatty" });
    for (let i = 0; i < 60; i++) await api.comments.add.mutate({ task_id: task.id, body: `note ${i}`, author: "bot" });
    expect((await api.tasks.get.query({ id: task.id })).comments).toHaveLength(50);

    const text = await cli(["show", task.id], h.env);
    expect(text.code, text.err).toBe(0);
    expect(text.out).toContain("note 0\n");
    expect(text.out).toContain("note 59");
    const json = await cliJson<{ comments: { body: string }[] }>(["show", task.id], h.env);
    expect(json.comments.map((c) => c.body)).toEqual(Array.from({ length: 60 }, (_, i) => `note ${i}`));

    const tool = KANBAN_TOOLS.find((t) => t.name === "kanban_show");
    if (!tool) throw new Error("no kanban_show");
    const identity: ToolIdentity = {
      claimLock: null,
      profile: null,
      tenant: null,
      sessionId: null,
      task: null,
      runId: null,
    };
    const shown = await runKanbanTool(tool, { task_id: task.id }, { client: api, identity });
    expect(shown.isError).toBe(false);
    const body = JSON.parse(shown.text) as { comments: { body: string }[] };
    expect(body.comments).toHaveLength(60);
    expect(body.comments[0]?.body).toBe("note 0");
  });
});
