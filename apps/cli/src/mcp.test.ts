import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KanbanClient } from "./client.ts";
import { apiClient, KANBAN_BIN, type TempHome, tempHome } from "./testing/harness.ts";
import { KANBAN_GUIDANCE } from "./tools/guidance.ts";

/**
 * The SDK's own client against a real `kanban mcp` process (stdio), one as an orchestrator and
 * one as a dispatched worker, on a real board that the test also reads through the API.
 */
let h: TempHome;
let api: KanbanClient;

async function connect(env: Record<string, string>): Promise<Client> {
  const client = new Client({ name: "kanban-test", version: "1.0.0" });
  await client.connect(
    new StdioClientTransport({ command: process.execPath, args: [KANBAN_BIN, "mcp"], env, stderr: "pipe" }),
  );
  return client;
}

async function call(client: Client, name: string, args: Record<string, unknown> = {}) {
  const res = await client.callTool({ name, arguments: args });
  const content = res.content as { type: string; text: string }[];
  return { isError: res.isError === true, body: JSON.parse(content[0]?.text ?? "null") as Record<string, unknown> };
}

beforeAll(async () => {
  h = tempHome();
  api = await apiClient(h.env);
});
afterAll(() => h.cleanup());

describe("kanban mcp (orchestrator)", () => {
  let mcp: Client;
  beforeAll(async () => {
    mcp = await connect({ ...h.env, KANBAN_PROFILE: "lead" });
  });
  afterAll(async () => {
    await mcp.close();
  });

  it("serves the guidance as instructions and all sixteen tools with JSON schemas", async () => {
    expect(mcp.getInstructions()).toBe(KANBAN_GUIDANCE);
    const { tools } = await mcp.listTools();
    expect(tools.map((t) => t.name)).toEqual([
      "kanban_show",
      "kanban_list",
      "kanban_create",
      "kanban_complete",
      "kanban_block",
      "kanban_unblock",
      "kanban_cancel",
      "kanban_budget_allow",
      "kanban_heartbeat",
      "kanban_comment",
      "kanban_link",
      "kanban_why",
      "kanban_notify_subscribe",
      "kanban_request_review",
      "kanban_request_changes",
      "kanban_gates",
    ]);
    for (const t of tools) {
      expect(t.inputSchema.type).toBe("object");
      expect(Object.keys(t.inputSchema.properties ?? {})).toContain("board");
      expect(t.description?.length ?? 0).toBeGreaterThan(20);
    }
    const create = tools.find((t) => t.name === "kanban_create");
    expect(create?.inputSchema.required).toEqual(["title", "assignee"]);
    const comment = tools.find((t) => t.name === "kanban_comment");
    expect(Object.keys(comment?.inputSchema.properties ?? {})).not.toContain("author");
  });

  it("gives every property of every tool exactly one JSON type: lists are arrays, flags booleans", async () => {
    const { tools } = await mcp.listTools();
    const types: Record<string, string> = {};
    for (const t of tools) {
      for (const [name, prop] of Object.entries(
        (t.inputSchema.properties ?? {}) as Record<string, Record<string, unknown>>,
      )) {
        const where = `${t.name}.${name}`;
        expect(typeof prop.type, where).toBe("string");
        for (const mixed of ["anyOf", "oneOf", "allOf", "not"]) expect(prop[mixed], where).toBeUndefined();
        if (prop.type === "array") expect((prop.items as Record<string, unknown>).type, where).toBe("string");
        types[where] = String(prop.type);
      }
    }
    expect(types).toMatchObject({
      "kanban_create.parents": "array",
      "kanban_create.skills": "array",
      "kanban_create.triage": "boolean",
      "kanban_complete.created_cards": "array",
      "kanban_complete.artifacts": "array",
      "kanban_complete.metadata": "object",
      "kanban_list.include_archived": "boolean",
      "kanban_list.cursor": "string",
      "kanban_list.limit": "integer",
    });
  });

  it("refuses the old mixed inputs (a list as a string, a flag as a string) and says what to send", async () => {
    const refused = async (name: string, args: Record<string, unknown>) => {
      const r = await call(mcp, name, args);
      expect(r.isError, JSON.stringify(args)).toBe(true);
      return String(r.body.error);
    };
    const before = (await api.tasks.list.query({})).tasks.length;
    expect(await refused("kanban_create", { title: "x", assignee: "coder", parents: '["t_1a2b3c4d"]' })).toMatch(
      /^parents was sent as a string holding a JSON array; send the array itself/,
    );
    expect(await refused("kanban_create", { title: "x", assignee: "coder", parents: "t_1a2b3c4d" })).toBe(
      'parents must be an array of strings, not a string: send parents: ["t_1a2b3c4d"]',
    );
    expect(await refused("kanban_create", { title: "x", assignee: "coder", skills: '["git", "node"]' })).toMatch(
      /^skills was sent as a string holding a JSON array/,
    );
    expect(await refused("kanban_create", { title: "x", assignee: "coder", triage: "true" })).toBe(
      'triage must be a JSON boolean (true or false, without quotes); got the string "true"',
    );
    expect(await refused("kanban_list", { include_archived: "false" })).toMatch(
      /^include_archived must be a JSON boolean/,
    );
    expect(
      await refused("kanban_complete", { task_id: "t_1a2b3c4d", summary: "s", created_cards: '["t_1a2b3c4d"]' }),
    ).toMatch(/^created_cards was sent as a string holding a JSON array/);
    expect(await refused("kanban_complete", { task_id: "t_1a2b3c4d", summary: "s", artifacts: "out.txt" })).toBe(
      'artifacts must be an array of strings, not a string: send artifacts: ["out.txt"]',
    );
    expect(await refused("kanban_complete", { task_id: "t_1a2b3c4d", summary: "s", metadata: '{"a": 1}' })).toBe(
      "metadata must be a JSON object, not a string holding one: send the object itself",
    );
    // Nothing was created by the refused calls.
    expect((await api.tasks.list.query({})).tasks.length).toBe(before);
  });

  it("calls every tool: create, list, show, link, comment, block, unblock, heartbeat, complete", async () => {
    const a = await call(mcp, "kanban_create", { title: "design", assignee: "architect" });
    expect(a).toMatchObject({ isError: false, body: { ok: true, status: "ready", subscribed: false } });
    const b = await call(mcp, "kanban_create", { title: "build", assignee: "coder" });
    const aId = String(a.body.task_id);
    const bId = String(b.body.task_id);
    expect((await call(mcp, "kanban_link", { parent_id: aId, child_id: bId })).body).toEqual({
      ok: true,
      parent_id: aId,
      child_id: bId,
      demoted: true,
    });
    const list = await call(mcp, "kanban_list", { status: "todo" });
    expect(list.body).toMatchObject({ count: 1, tasks: [{ id: bId, status: "todo" }] });
    expect((await call(mcp, "kanban_comment", { task_id: aId, body: "use v2" })).body).toMatchObject({
      ok: true,
      task_id: aId,
    });
    const shown = await call(mcp, "kanban_show", { task_id: aId });
    expect(shown.body).toMatchObject({
      task: { id: aId, title: "design" },
      children: [bId],
      comments: [{ author: "lead", body: "use v2" }],
    });
    expect((await call(mcp, "kanban_block", { task_id: aId, reason: "which format?" })).body).toMatchObject({
      ok: true,
      task_id: aId,
    });
    expect((await call(mcp, "kanban_unblock", { task_id: aId })).body).toEqual({
      ok: true,
      task_id: aId,
      status: "ready",
    });
    const claimed = await api.tasks.claim.mutate({ id: aId });
    expect(claimed.task.status).toBe("running");
    // An orchestrator has no fence; the kernel requires one to extend a claim.
    expect((await call(mcp, "kanban_heartbeat", { task_id: aId })).isError).toBe(true);
    expect((await call(mcp, "kanban_complete", { task_id: aId, summary: "designed" })).body).toMatchObject({
      ok: true,
      task_id: aId,
      run_id: claimed.run_id,
    });
  });

  it("answers bad input with the tool's own message as an error result", async () => {
    const r = await call(mcp, "kanban_create", { title: "no assignee" });
    expect(r).toEqual({
      isError: true,
      body: {
        error:
          "assignee is required: name the profile that should do this task (the dispatcher only spawns tasks that have an assignee)",
      },
    });
    expect(await call(mcp, "kanban_list", { limit: 500 })).toEqual({
      isError: true,
      body: { error: "limit must be <= 200" },
    });
    expect(await call(mcp, "kanban_nope")).toEqual({ isError: true, body: { error: "unknown tool 'kanban_nope'" } });
    const show = await call(mcp, "kanban_show", { task_id: "t_nope" });
    expect(show).toEqual({ isError: true, body: { error: "task t_nope not found" } });
  });
});

describe("kanban mcp (dispatched worker)", () => {
  let mcp: Client;
  let taskId: string;
  let otherId: string;
  beforeAll(async () => {
    const { task } = await api.tasks.create.mutate({ title: "worker task", assignee: "coder", body: "do the thing" });
    taskId = task.id;
    otherId = (await api.tasks.create.mutate({ title: "someone else's" })).task.id;
    const claimed = await api.tasks.claim.mutate({ id: taskId });
    mcp = await connect({
      ...h.env,
      KANBAN_TASK: taskId,
      KANBAN_RUN_ID: String(claimed.run_id),
      KANBAN_CLAIM_LOCK: claimed.task.claim_lock ?? "",
      KANBAN_PROFILE: "coder",
    });
  });
  afterAll(async () => {
    await mcp.close();
  });

  it("hides the routing tools and acts on KANBAN_TASK by default", async () => {
    const names = (await mcp.listTools()).tools.map((t) => t.name);
    expect(names).not.toContain("kanban_list");
    expect(names).not.toContain("kanban_unblock");
    expect(names).toHaveLength(11);
    const shown = await call(mcp, "kanban_show");
    expect(shown.body).toMatchObject({ task: { id: taskId, status: "running", body: "do the thing" } });
    expect(String(shown.body.worker_context)).toContain(`# Kanban task ${taskId}`);
    expect((await call(mcp, "kanban_heartbeat", { note: "halfway" })).body).toEqual({ ok: true, task_id: taskId });
    const hidden = await call(mcp, "kanban_list");
    expect(hidden.isError).toBe(true);
    expect(String(hidden.body.error)).toMatch(/^kanban_list is orchestrator-only/);
  });

  it("refuses to mutate another task", async () => {
    const r = await call(mcp, "kanban_complete", { task_id: otherId, summary: "x" });
    expect(r.isError).toBe(true);
    expect(String(r.body.error)).toMatch(
      new RegExp(`^worker is scoped to task ${taskId}; refusing to mutate ${otherId}\\.`),
    );
  });

  it("refuses hallucinated created_cards and keeps the task running", async () => {
    const made = await call(mcp, "kanban_create", { title: "follow-up", assignee: "writer", parents: [taskId] });
    expect(made.isError).toBe(false);
    const r = await call(mcp, "kanban_complete", {
      summary: "done",
      created_cards: [String(made.body.task_id), "t_cafebabe"],
    });
    expect(r.isError).toBe(true);
    expect(String(r.body.error)).toMatch(
      /^kanban_complete blocked: the following created_cards do not exist or were not created by this worker: t_cafebabe\. Your task is still in-flight \(no state change\)\./,
    );
    expect((await api.tasks.get.query({ id: taskId })).task.status).toBe("running");
  });

  it("refuses the completion of a worker whose task was reclaimed", async () => {
    await api.tasks.reclaim.mutate({ id: taskId, reason: "operator took it back" });
    const successor = await api.tasks.claim.mutate({ id: taskId });
    const r = await call(mcp, "kanban_complete", { summary: "late result" });
    expect(r.isError).toBe(true);
    expect(String(r.body.error)).toMatch(/^kanban_complete refused: .*do not retry\.$/);
    const now = (await api.tasks.get.query({ id: taskId })).task;
    expect(now).toMatchObject({ status: "running", current_run_id: successor.run_id });
  });
});
