import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { KanbanClient } from "../client.ts";
import { apiClient, type TempHome, tempHome } from "../testing/harness.ts";
import type { ToolIdentity } from "./client.ts";
import { KANBAN_TOOLS, runKanbanTool } from "./index.ts";

// kanban_notify_subscribe (issue 17): one task, every new card (board) or one assignee's cards.

let h: TempHome;
let api: KanbanClient;
const lead: ToolIdentity = { task: null, runId: null, claimLock: null, profile: "lead", tenant: null, sessionId: null };

async function call(args: Record<string, unknown>, identity: ToolIdentity = lead) {
  const tool = KANBAN_TOOLS.find((t) => t.name === "kanban_notify_subscribe");
  if (!tool) throw new Error("no kanban_notify_subscribe");
  const outcome = await runKanbanTool(tool, args, { client: api, identity });
  return { isError: outcome.isError, body: JSON.parse(outcome.text) as Record<string, unknown> };
}

describe("kanban_notify_subscribe", () => {
  beforeEach(async () => {
    h = tempHome();
    api = await apiClient(h.env);
  });
  afterEach(() => h.cleanup());

  it("subscribes one task by default, and adds board and assignee rules with scope", async () => {
    const { task } = await api.tasks.create.mutate({ title: "watched" });
    const one = await call({ task_id: task.id, platform: "slack", chat_id: "dev" });
    expect(one).toMatchObject({
      isError: false,
      body: { ok: true, scope: "task", subscription: { task_id: task.id } },
    });
    const board = await call({ scope: "board", platform: "desktop", chat_id: "board" });
    expect(board.body).toMatchObject({ ok: true, scope: "board", rule: { scope: "board", platform: "desktop" } });
    const who = await call({ scope: "assignee", assignee: "Coder", platform: "discord", chat_id: "ops" });
    expect(who.body).toMatchObject({ rule: { scope: "assignee", scope_key: "coder" } });
    const { task: next } = await api.tasks.create.mutate({ title: "new", assignee: "coder" });
    const subs = (await api.notify.list.query({ task_id: next.id })).subscriptions;
    expect(subs.map((s) => `${s.platform}:${s.chat_id}`).sort()).toEqual(["desktop:board", "discord:ops"]);
  });

  it("refuses a scope without its argument, an unknown scope, and a dispatched worker", async () => {
    expect((await call({ platform: "slack", chat_id: "c" })).body).toEqual({
      error: "task_id is required for scope task (or pass scope board / assignee)",
    });
    expect((await call({ scope: "assignee", platform: "slack", chat_id: "c" })).body).toEqual({
      error: "assignee is required for scope assignee: name the profile whose cards to follow",
    });
    expect((await call({ scope: "team", platform: "slack", chat_id: "c" })).body).toEqual({
      error: "scope must be one of task, board, assignee",
    });
    expect((await call({ scope: "board", task_id: "t_1", platform: "slack", chat_id: "c" })).body).toEqual({
      error: "task_id is only for scope task, not board",
    });
    const worker = { ...lead, task: "t_1", runId: 1 };
    expect((await call({ scope: "board", platform: "slack", chat_id: "c" }, worker)).body.error).toMatch(
      /^kanban_notify_subscribe is orchestrator-only/,
    );
    expect((await api.notify.rules.query({})).rules).toEqual([]);
  });
});
