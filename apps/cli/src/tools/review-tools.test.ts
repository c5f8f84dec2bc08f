import { openBoard } from "@kanban/kernel";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { KanbanClient } from "../client.ts";
import type { TempHome } from "../testing/harness.ts";
import type { ToolIdentity } from "./client.ts";
import { callTool, openToolApi, type ToolApi } from "./tool-testing.ts";

/**
 * kanban_request_review and kanban_request_changes through runKanbanTool, on a real board, in
 * process and over HTTP: a worker hands its own task to a reviewer, the reviewer's worker sends it
 * back; refusals come back as one `error` the agent can act on.
 */
let h: TempHome;
let api: KanbanClient;

const call = (name: string, args: Record<string, unknown>, identity: ToolIdentity) =>
  callTool(api, name, args, identity);

function identity(task: string, runId: number, profile: string): ToolIdentity {
  return { task, runId, claimLock: null, profile, tenant: null, sessionId: null };
}

describe.each(["local", "remote"] as const)("review tools (%s API)", (mode) => {
  let t: ToolApi;
  beforeEach(async () => {
    t = await openToolApi(mode);
    h = t.home;
    api = t.api;
  });
  afterEach(async () => await t.close());

  it("a worker requests review of its own task; the reviewer requests changes", async () => {
    const { task } = await api.tasks.create.mutate({ title: "job", assignee: "coder" });
    const { task: other } = await api.tasks.create.mutate({ title: "other", assignee: "coder" });
    const claimed = await api.tasks.claim.mutate({ id: task.id });
    const me = identity(task.id, claimed.run_id as number, "coder");

    const blank = await call("kanban_request_review", { summary: "  ", reviewer: "critic" }, me);
    expect(blank).toEqual({
      isError: true,
      body: { error: "summary is required — say what the reviewer should look at" },
    });
    const elsewhere = await call("kanban_request_review", { task_id: other.id, summary: "x", reviewer: "critic" }, me);
    expect(String(elsewhere.body.error)).toMatch(/^worker is scoped to task/);
    const first = await call("kanban_request_review", { summary: "x" }, me);
    expect(first.isError).toBe(true);
    expect(String(first.body.error)).toContain("kanban_request_review: cannot request review");

    const asked = await call("kanban_request_review", { summary: "parser done", reviewer: "critic" }, me);
    expect(asked).toEqual({
      isError: false,
      body: { ok: true, task_id: task.id, status: "review", reviewer: "critic" },
    });
    // The old run is over: a second call is refused as stale.
    const late = await call("kanban_request_review", { summary: "again", reviewer: "critic" }, me);
    expect(String(late.body.error)).toMatch(/^kanban_request_review refused: .*do not retry\.$/);

    const board = openBoard({ location: { home: h.home }, warn: () => {} });
    let reviewRun: number;
    try {
      reviewRun = (await board.claimReviewTask(task.id))?.current_run_id as number;
    } finally {
      board.close();
    }
    const critic = identity(task.id, reviewRun, "critic");
    const back = await call("kanban_request_changes", { reason: "add a test for empty input" }, critic);
    expect(back).toEqual({
      isError: false,
      body: { ok: true, task_id: task.id, status: "ready", implementer: "coder" },
    });
    const comments = (await api.comments.list.query({ task_id: task.id })).comments;
    expect(comments.map((c) => [c.author, c.body])).toContainEqual([
      "critic",
      "CHANGES REQUESTED: add a test for empty input",
    ]);
  });
});
