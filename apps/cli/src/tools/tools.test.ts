import { type RunningServer, silentLogger, startServer } from "@kanban/api";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { KanbanClient } from "../client.ts";
import { apiClient, type TempHome, tempHome } from "../testing/harness.ts";
import { capResponse } from "./cap.ts";
import type { ToolIdentity } from "./client.ts";
import { KANBAN_GUIDANCE, KANBAN_TOOLS, runKanbanTool, visibleTools } from "./index.ts";

/**
 * The ten tools through runKanbanTool (what every runtime calls), on a real board, through the
 * in-process API and again over HTTP against a real API server (so the error codes and details
 * the tools rely on survive the wire). mcp.test.ts drives them through a real `kanban mcp` process.
 */
let h: TempHome;
let api: KanbanClient;
let server: RunningServer | null = null;

const orchestrator: ToolIdentity = {
  task: null,
  runId: null,
  claimLock: null,
  profile: "lead",
  tenant: null,
  sessionId: null,
};

async function call(name: string, args: Record<string, unknown>, identity: ToolIdentity = orchestrator) {
  const tool = KANBAN_TOOLS.find((t) => t.name === name);
  if (!tool) throw new Error(`no tool ${name}`);
  const outcome = await runKanbanTool(tool, args, { client: api, identity });
  return { isError: outcome.isError, body: JSON.parse(outcome.text) as Record<string, unknown> };
}

async function ok(name: string, args: Record<string, unknown>, identity?: ToolIdentity) {
  const r = await call(name, args, identity);
  if (r.isError) throw new Error(`${name} failed: ${JSON.stringify(r.body)}`);
  return r.body;
}

async function error(name: string, args: Record<string, unknown>, identity?: ToolIdentity): Promise<string> {
  const r = await call(name, args, identity);
  expect(r.isError).toBe(true);
  expect(Object.keys(r.body)).toEqual(["error"]);
  return String(r.body.error);
}

/** A running task and the identity of its worker. */
async function worker(
  assignee = "coder",
  extra: Record<string, unknown> = {},
): Promise<{ id: string; me: ToolIdentity; runId: number }> {
  const { task } = await api.tasks.create.mutate({ title: "job", assignee, ...extra });
  const claimed = await api.tasks.claim.mutate({ id: task.id, ttl_seconds: 60 });
  const runId = claimed.run_id ?? 0;
  return {
    id: task.id,
    runId,
    me: {
      task: task.id,
      runId,
      claimLock: claimed.task.claim_lock,
      profile: assignee,
      tenant: null,
      sessionId: "sess-1",
    },
  };
}

describe.each(["local", "remote"] as const)("%s API", (mode) => {
  beforeEach(async () => {
    h = tempHome();
    if (mode === "remote") {
      server = await startServer({ host: "127.0.0.1", port: 0, location: { home: h.home }, logger: silentLogger });
      h.env.KANBAN_URL = server.url;
    }
    api = await apiClient(h.env);
  });
  afterEach(async () => {
    await server?.close();
    server = null;
    h.cleanup();
  });

  describe("gating", () => {
    it("hides the routing tools from a dispatched worker and refuses them at run time", async () => {
      expect(visibleTools(orchestrator).map((t) => t.name)).toEqual([
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
      const { me } = await worker();
      expect(visibleTools(me).map((t) => t.name)).not.toContain("kanban_list");
      expect(visibleTools(me).map((t) => t.name)).not.toContain("kanban_unblock");
      expect(await error("kanban_list", {}, me)).toMatch(/^kanban_list is orchestrator-only/);
      expect(await error("kanban_unblock", { task_id: me.task }, me)).toMatch(/^kanban_unblock is orchestrator-only/);
    });

    it("scopes a worker's lifecycle calls to its own task; comments may go anywhere", async () => {
      const { me } = await worker();
      const { task: other } = await api.tasks.create.mutate({ title: "other", assignee: "coder" });
      for (const [tool, args] of [
        ["kanban_complete", { task_id: other.id, summary: "x" }],
        ["kanban_block", { task_id: other.id, reason: "x" }],
        ["kanban_heartbeat", { task_id: other.id }],
      ] as const) {
        expect(await error(tool, args, me)).toBe(
          `worker is scoped to task ${me.task}; refusing to mutate ${other.id}. Hand information to other tasks with kanban_comment, or start follow-up work with kanban_create.`,
        );
      }
      expect(await ok("kanban_comment", { task_id: other.id, body: "fyi" }, me)).toMatchObject({
        ok: true,
        task_id: other.id,
      });
    });

    it("every tool takes an optional board, routes to it and rejects a malformed slug", async () => {
      for (const tool of KANBAN_TOOLS) expect(Object.keys(tool.inputSchema.shape)).toContain("board");
      await api.boards.create.mutate({ slug: "alt" });
      const made = await ok("kanban_create", { title: "on alt", assignee: "coder", board: "alt" });
      expect((await api.tasks.list.query({ board: "alt" })).tasks.map((t) => t.id)).toEqual([made.task_id]);
      expect((await api.tasks.list.query({})).tasks).toEqual([]);
      expect(await ok("kanban_show", { task_id: made.task_id, board: "alt" })).toMatchObject({
        task: { title: "on alt" },
      });
      expect(await error("kanban_list", { board: "Not A Slug!" })).toMatch(/board/);
    });
  });

  describe("kanban_show", () => {
    it("reads the worker's own task by default, with links, comments, events, runs and worker_context", async () => {
      const { id, me } = await worker();
      await api.comments.add.mutate({ task_id: id, body: "note", author: "lead" });
      const doc = await ok("kanban_show", {}, me);
      expect(Object.keys(doc)).toEqual(["task", "parents", "children", "comments", "events", "runs", "worker_context"]);
      expect(Object.keys(doc.task as object)).toEqual([
        "id",
        "title",
        "body",
        "assignee",
        "status",
        "tenant",
        "priority",
        "workspace_kind",
        "workspace_path",
        "created_by",
        "created_at",
        "started_at",
        "completed_at",
        "result",
        "current_run_id",
        "model_override",
      ]);
      expect(doc).toMatchObject({ task: { id, status: "running" }, comments: [{ author: "lead", body: "note" }] });
      expect(String(doc.worker_context)).toContain(`# Kanban task ${id}: job`);
    });

    it("peeks at another task, and explains a missing or unknown id", async () => {
      const { me } = await worker();
      const { task } = await api.tasks.create.mutate({ title: "peer" });
      expect(await ok("kanban_show", { task_id: task.id }, me)).toMatchObject({ task: { title: "peer" } });
      expect(await error("kanban_show", {})).toMatch(/^task_id is required \(or set KANBAN_TASK in the env\)/);
      expect(await error("kanban_show", { task_id: "t_nope" })).toBe("task t_nope not found");
    });

    it("returns at most the last 50 events", async () => {
      const { task } = await api.tasks.create.mutate({ title: "noisy" });
      for (let i = 0; i < 60; i++) await api.comments.add.mutate({ task_id: task.id, body: `c${i}`, author: "x" });
      const doc = await ok("kanban_show", { task_id: task.id });
      expect((doc.events as unknown[]).length).toBe(50);
    });
  });

  describe("kanban_list", () => {
    it("lists with filters and reports promotions", async () => {
      const a = (await api.tasks.create.mutate({ title: "a", assignee: "coder" })).task;
      const b = (await api.tasks.create.mutate({ title: "b", assignee: "writer", parents: [a.id] })).task;
      await api.tasks.create.mutate({ title: "c", tenant: "acme" });
      const all = await ok("kanban_list", {});
      expect(all).toMatchObject({ count: 3, limit: 50, next_cursor: null, promoted: 0 });
      expect(((await ok("kanban_list", { assignee: "writer" })).tasks as { id: string }[]).map((t) => t.id)).toEqual([
        b.id,
      ]);
      expect(((await ok("kanban_list", { status: "todo" })).tasks as { id: string }[]).map((t) => t.id)).toEqual([
        b.id,
      ]);
      expect((await ok("kanban_list", { tenant: "acme" })).count).toBe(1);
    });

    it("pages: one page per call, next_cursor continues it with the same filters until null", async () => {
      const made: string[] = [];
      for (let i = 0; i < 7; i++)
        made.push((await api.tasks.create.mutate({ title: `t${i}`, assignee: "coder" })).task.id);
      await api.tasks.create.mutate({ title: "someone else's", assignee: "writer" });
      const seen: string[] = [];
      let cursor: string | undefined;
      let calls = 0;
      do {
        const page = await ok("kanban_list", { assignee: "coder", limit: 3, ...(cursor ? { cursor } : {}) });
        calls++;
        expect(page.count).toBe((page.tasks as unknown[]).length);
        seen.push(...(page.tasks as { id: string }[]).map((t) => t.id));
        cursor = (page.next_cursor as string | null) ?? undefined;
      } while (cursor !== undefined);
      expect(calls).toBe(3);
      expect(seen.sort()).toEqual([...made].sort());
      expect(await error("kanban_list", { cursor: "not-a-cursor" })).toMatch(/cursor/);
      expect(await error("kanban_list", { cursor: 42 })).toBe(
        "cursor must be the next_cursor string of the previous kanban_list call",
      );
    });

    it("a page whose rows would not fit in one response is shortened, so the cursor never skips a row", async () => {
      // Rows carry their parent ids: 200 rows with three parents each are more than one 64 KiB response.
      const parents = [];
      for (let i = 0; i < 3; i++) parents.push((await api.tasks.create.mutate({ title: `hub ${i}` })).task.id);
      for (let i = 0; i < 450; i++) await api.tasks.create.mutate({ title: `leaf ${i}`, parents });
      const page = await ok("kanban_list", { limit: 200, status: "todo" });
      expect(page.truncated).toBeUndefined();
      expect(page.count).toBeLessThan(200);
      expect(page.next_cursor).toEqual(expect.any(String));
      let cursor = page.next_cursor as string | null;
      let total = page.count as number;
      while (cursor !== null) {
        const next = await ok("kanban_list", { limit: 200, status: "todo", cursor });
        expect(next.truncated).toBeUndefined();
        total += next.count as number;
        cursor = next.next_cursor as string | null;
      }
      expect(total).toBe(450);
    });

    it("validates status, limit and include_archived with clear messages", async () => {
      expect(await error("kanban_list", { status: "waiting" })).toMatch(/^status must be one of triage, todo/);
      expect(await error("kanban_list", { limit: 0 })).toBe("limit must be >= 1");
      expect(await error("kanban_list", { limit: 201 })).toBe("limit must be <= 200");
      expect(await error("kanban_list", { limit: 1.5 })).toBe("limit must be an integer");
      expect(await error("kanban_list", { limit: "ten" })).toBe("limit must be an integer");
      expect(await error("kanban_list", { include_archived: "maybe" })).toBe(
        'include_archived must be a JSON boolean (true or false, without quotes); got the string "maybe"',
      );
      expect(await error("kanban_list", { include_archived: "true" })).toBe(
        'include_archived must be a JSON boolean (true or false, without quotes); got the string "true"',
      );
      const { task } = await api.tasks.create.mutate({ title: "gone" });
      await api.tasks.archive.mutate({ id: task.id });
      expect((await ok("kanban_list", { include_archived: false })).count).toBe(0);
      expect((await ok("kanban_list", { include_archived: true })).count).toBe(1);
    });
  });

  describe("kanban_create", () => {
    it("creates with every field", async () => {
      const { task: p } = await api.tasks.create.mutate({ title: "parent" });
      const r = await ok("kanban_create", {
        title: "child",
        assignee: "coder",
        body: "b",
        parents: [p.id],
        tenant: "acme",
        priority: 3,
        workspace_kind: "dir",
        workspace_path: h.home,
        triage: false,
        idempotency_key: "k",
        max_runtime_seconds: 60,
        skills: ["git"],
        model: "m",
      });
      expect(r).toEqual({ ok: true, task_id: expect.stringMatching(/^t_/), status: "todo", subscribed: false });
      const t = (await api.tasks.get.query({ id: String(r.task_id) })).task;
      expect(t).toMatchObject({
        tenant: "acme",
        priority: 3,
        workspace_kind: "dir",
        workspace_path: h.home,
        skills: ["git"],
        model_override: "m",
        created_by: "lead",
        max_runtime_seconds: 60,
      });
      expect((await ok("kanban_create", { title: "t", assignee: "a", triage: true })).status).toBe("triage");
    });

    it("requires title and assignee, and rejects malformed lists", async () => {
      expect(await error("kanban_create", { title: "x" })).toBe(
        "assignee is required: name the profile that should do this task (the dispatcher only spawns tasks that have an assignee)",
      );
      expect(await error("kanban_create", { assignee: "a" })).toBe("title is required");
      expect(await error("kanban_create", { title: "x", assignee: "a", parents: 42 })).toBe(
        'parents must be an array of strings, e.g. parents: ["t_1a2b3c4d"]; got 42',
      );
      expect(await error("kanban_create", { title: "x", assignee: "a", skills: [1, "git", 2] })).toBe(
        "skills must be an array of strings; one element was not a string",
      );
      expect(await error("kanban_create", { title: "x", assignee: "a", parents: '["t_1a2b3c4d", "t_2b3c4d5e"]' })).toBe(
        'parents was sent as a string holding a JSON array; send the array itself, e.g. parents: ["t_1a2b3c4d"], not parents: "[\\"t_1a2b3c4d\\"]"',
      );
      expect(await error("kanban_create", { title: "x", assignee: "a", skills: "git" })).toBe(
        'skills must be an array of strings, not a string: send skills: ["git"]',
      );
      expect(await error("kanban_create", { title: "x", assignee: "a", triage: "perhaps" })).toBe(
        'triage must be a JSON boolean (true or false, without quotes); got the string "perhaps"',
      );
    });

    it("from a worker: created_by is its profile, tenant and session from the env, a dir workspace is inherited", async () => {
      const { me } = await worker("coder", { workspace: `dir:${h.home}` });
      const r = await ok(
        "kanban_create",
        { title: "follow-up", assignee: "writer", parents: [me.task] },
        { ...me, tenant: "acme" },
      );
      const t = (await api.tasks.get.query({ id: String(r.task_id) })).task;
      expect(t).toMatchObject({
        created_by: "coder",
        tenant: "acme",
        session_id: "sess-1",
        workspace_kind: "dir",
        workspace_path: h.home,
      });
    });
  });

  describe("kanban_complete", () => {
    it("completes the worker's task with summary, metadata, artifacts and its session id", async () => {
      const { id, me, runId } = await worker();
      const r = await ok(
        "kanban_complete",
        { summary: "done", metadata: { artifacts: ["a.txt"], tests: "ok" }, artifacts: ["a.txt", "b.txt"] },
        me,
      );
      expect(r).toEqual({ ok: true, task_id: id, run_id: runId });
      const run = (await api.runs.list.query({ task_id: id })).runs[0];
      expect(run).toMatchObject({
        outcome: "completed",
        summary: "done",
        metadata: { tests: "ok", artifacts: ["a.txt", "b.txt"], worker_session_id: "sess-1" },
      });
    });

    it("needs a summary or result and an object for metadata", async () => {
      const { me } = await worker();
      expect(await error("kanban_complete", {}, me)).toBe("provide at least one of: summary (preferred), result");
      expect(await error("kanban_complete", { summary: "x", metadata: [1] }, me)).toBe(
        "metadata must be a JSON object; got [1]",
      );
      expect(await error("kanban_complete", { summary: "x", metadata: '{"files": 2}' }, me)).toBe(
        "metadata must be a JSON object, not a string holding one: send the object itself",
      );
      expect((await ok("kanban_complete", { result: "legacy" }, me)).ok).toBe(true);
    });

    it("refuses phantom created_cards with the retry advice, then accepts the corrected list or []", async () => {
      const { id, me } = await worker();
      const made = await ok("kanban_create", { title: "real", assignee: "writer" }, me);
      const msg = await error("kanban_complete", { summary: "s", created_cards: [made.task_id, "t_deadbeef"] }, me);
      expect(msg).toBe(
        "kanban_complete blocked: the following created_cards do not exist or were not created by this worker: t_deadbeef. " +
          "Your task is still in-flight (no state change). Call kanban_complete again with the same summary and metadata, " +
          "leaving those ids out of created_cards, or with created_cards=[] to skip the check.",
      );
      expect((await api.tasks.get.query({ id })).task.status).toBe("running");
      expect(await ok("kanban_complete", { summary: "s", created_cards: [made.task_id] }, me)).toMatchObject({
        ok: true,
      });
      const second = await worker();
      expect(await ok("kanban_complete", { summary: "s", created_cards: [] }, second.me)).toMatchObject({ ok: true });
    });

    it("refuses a reclaimed worker (stale run) and leaves the new attempt untouched", async () => {
      const { id, me } = await worker();
      await api.tasks.reclaim.mutate({ id });
      const again = await api.tasks.claim.mutate({ id });
      const msg = await error("kanban_complete", { summary: "late" }, me);
      expect(msg).toMatch(/^kanban_complete refused: run \d+ is no longer the active run/);
      expect(msg).toContain("stop working on it and do not retry");
      expect(await error("kanban_heartbeat", {}, me)).toMatch(/^kanban_heartbeat refused/);
      expect(await error("kanban_block", { reason: "x" }, me)).toMatch(/^kanban_block refused/);
      const now = (await api.tasks.get.query({ id })).task;
      expect(now).toMatchObject({ status: "running", current_run_id: again.run_id });
    });

    it("explains an unknown id or a finished task to an orchestrator", async () => {
      expect(await error("kanban_complete", { task_id: "t_nope", summary: "x" })).toBe(
        "could not complete t_nope (unknown id or already terminal)",
      );
      const { task } = await api.tasks.create.mutate({ title: "x" });
      await ok("kanban_complete", { task_id: task.id, summary: "x" });
      expect(await error("kanban_complete", { task_id: task.id, summary: "x" })).toMatch(
        new RegExp(`^could not complete ${task.id}: `),
      );
    });
  });

  describe("kanban_block, kanban_heartbeat, kanban_comment, kanban_unblock, kanban_link", () => {
    it("blocks with a reason, and unblocks (orchestrator) back to ready", async () => {
      const { id, me, runId } = await worker();
      expect(await error("kanban_block", { reason: "  " }, me)).toBe(
        "reason is required — explain what input you need",
      );
      expect(await error("kanban_block", {}, me)).toBe("reason is required — explain what input you need");
      expect(await ok("kanban_block", { reason: "which db?" }, me)).toEqual({ ok: true, task_id: id, run_id: runId });
      expect((await api.tasks.get.query({ id })).task.status).toBe("blocked");
      expect(await ok("kanban_unblock", { task_id: id })).toEqual({ ok: true, task_id: id, status: "ready" });
      expect(await error("kanban_unblock", { task_id: id })).toBe(`could not unblock ${id} (not blocked or unknown)`);
      expect(await error("kanban_block", { task_id: "t_nope", reason: "x" })).toBe(
        "could not block t_nope (unknown id or not in running/ready)",
      );
    });

    it("heartbeats extend the claim and record the note", async () => {
      const { id, me } = await worker();
      const before = (await api.tasks.get.query({ id })).task.claim_expires ?? 0;
      expect(await ok("kanban_heartbeat", { note: "3/5 done" }, me)).toEqual({ ok: true, task_id: id });
      expect(await ok("kanban_heartbeat", {}, me)).toEqual({ ok: true, task_id: id });
      const after = (await api.tasks.get.query({ id })).task;
      expect(after.claim_expires ?? 0).toBeGreaterThan(before);
      expect(after.last_heartbeat_at).not.toBeNull();
      const { task } = await api.tasks.create.mutate({ title: "idle" });
      expect(await error("kanban_heartbeat", { task_id: task.id })).toMatch(
        new RegExp(`could not heartbeat ${task.id}|${task.id}`),
      );
    });

    it("comments under the caller's profile only (no author parameter)", async () => {
      expect(
        Object.keys(
          (KANBAN_TOOLS.find((t) => t.name === "kanban_comment") ?? { inputSchema: { shape: {} } }).inputSchema.shape,
        ),
      ).not.toContain("author");
      const { task } = await api.tasks.create.mutate({ title: "x" });
      const r = await ok("kanban_comment", { task_id: task.id, body: "hi", author: "hermes-system" });
      expect(r).toEqual({ ok: true, task_id: task.id, comment_id: expect.any(Number) });
      const anon = { ...orchestrator, profile: null };
      await ok("kanban_comment", { task_id: task.id, body: "anon" }, anon);
      expect((await api.comments.list.query({ task_id: task.id })).comments.map((c) => c.author)).toEqual([
        "lead",
        "worker",
      ]);
      expect(await error("kanban_comment", { task_id: task.id, body: " " })).toBe("body is required");
      expect(await error("kanban_comment", { body: "x" })).toBe("task_id is required");
      expect(await error("kanban_comment", { task_id: "t_nope", body: "x" })).toBe("task t_nope not found");
    });

    it("links, refusing self-links, cycles and missing ids with kanban_link: <reason>", async () => {
      const a = (await api.tasks.create.mutate({ title: "a" })).task.id;
      const b = (await api.tasks.create.mutate({ title: "b", assignee: "c" })).task.id;
      expect(await ok("kanban_link", { parent_id: a, child_id: b })).toEqual({
        ok: true,
        parent_id: a,
        child_id: b,
        demoted: true,
      });
      expect(await error("kanban_link", { parent_id: b, child_id: a })).toMatch(/^kanban_link: .*cycle/);
      expect(await error("kanban_link", { parent_id: a, child_id: a })).toMatch(/^kanban_link: /);
      expect(await error("kanban_link", { parent_id: a, child_id: "t_nope" })).toMatch(/^kanban_link: /);
      expect(await error("kanban_link", { parent_id: a })).toBe("child_id is required");
    });
  });
});

describe("response cap and guidance", () => {
  beforeEach(async () => {
    h = tempHome();
    api = await apiClient(h.env);
  });
  afterEach(() => h.cleanup());

  it("leaves small responses alone and cuts big ones with markers, keeping the newest events", () => {
    const small = { ok: true, n: 1 };
    expect(capResponse(small, 1000)).toBe(JSON.stringify(small));
    const events = Array.from({ length: 400 }, (_, i) => ({ kind: "commented", payload: { i }, created_at: i }));
    const doc = { task: { id: "t_1", body: "x".repeat(3000) }, events };
    const capped = JSON.parse(capResponse(doc, 4000)) as {
      task: { body: string };
      events: { created_at: number }[];
      truncated: string[];
    };
    expect(Buffer.byteLength(JSON.stringify(capped))).toBeLessThanOrEqual(4000);
    expect(capped.events.at(-1)?.created_at).toBe(399);
    expect(capped.events.length).toBeLessThan(400);
    expect(capped.truncated.some((n) => /^events: showing the newest \d+ \(of 400\)$/.test(n))).toBe(true);
    expect(capped.task.body).toMatch(/… \[truncated, \d+ chars omitted\]$/);
  });

  it("caps a real tool response", async () => {
    const { task } = await api.tasks.create.mutate({ title: "big", body: "y".repeat(200_000) });
    const tool = KANBAN_TOOLS.find((t) => t.name === "kanban_show");
    if (!tool) throw new Error("no kanban_show");
    const out = await runKanbanTool(tool, { task_id: task.id }, { client: api, identity: orchestrator });
    expect(out.isError).toBe(false);
    expect(Buffer.byteLength(out.text)).toBeLessThanOrEqual(64 * 1024);
    expect(out.text).toContain("chars omitted");
  });

  it("the guidance names the tools, the fence and stays under 4 KB", () => {
    expect(Buffer.byteLength(KANBAN_GUIDANCE)).toBeLessThan(4096);
    for (const word of [
      "kanban_show()",
      "kanban_heartbeat",
      "kanban_block",
      "kanban_complete",
      "kanban_create",
      "created_cards",
      "KANBAN_RUN_ID",
      "STALE_RUN",
      "kanban_gates()",
      "GATE FAILED",
    ]) {
      expect(KANBAN_GUIDANCE).toContain(word);
    }
  });
});
