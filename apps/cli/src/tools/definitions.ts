import { BLOCK_KINDS, TASK_STATUSES, TITLE_MAX, WORKSPACE_KINDS, type WorkspaceKind } from "@kanban/contract";
import { TRPCClientError } from "@trpc/client";
import { z } from "zod";
import { OutboxUnwritableError, QUEUED_LINE } from "../outbox-call.ts";
import { MAX_RESPONSE_BYTES } from "./cap.ts";
import type { OutboxSent, ToolContext } from "./client.ts";
import { kanbanNotifySubscribe } from "./notify.ts";

/** A refusal a tool words itself; it becomes `{"error": "<message>"}`. */
export class ToolError extends Error {
  override readonly name = "ToolError";
}

/**
 * One agent tool: its name, input schema (zod; MCP lists it as JSON schema), description and
 * handler. `orchestratorOnly` tools are hidden from dispatched workers and refuse them at run time.
 */
export interface KanbanTool<S extends z.ZodObject = z.ZodObject> {
  name: string;
  description: string;
  inputSchema: S;
  orchestratorOnly: boolean;
  handler(args: z.infer<S>, ctx: ToolContext): Promise<Record<string, unknown>>;
}

function defineTool<S extends z.ZodObject>(tool: KanbanTool<S>): KanbanTool<S> {
  return tool;
}

const board = z.string().max(100).optional().describe("Board slug; default: the current board.");
const taskIdOptional = z.string().max(64).optional().describe("Task id; default: your own task ($KANBAN_TASK).");
/** What a worker consumed since its last report (issue 21); the board prices tokens when cost_usd is absent. */
const usage = z
  .object({
    model: z.string().max(200).optional(),
    tokens_in: z.number().int().min(0).optional(),
    tokens_out: z.number().int().min(0).optional(),
    cache_read: z.number().int().min(0).optional(),
    cache_write: z.number().int().min(0).optional(),
    cost_usd: z.number().min(0).optional().describe("What it cost, if you know; else the board's price table."),
  })
  .optional()
  .describe("Your usage since your last report: tokens, cache, model and cost if known.");
/** JSON of a client's value, cut so that an error never echoes a whole payload back. */
function clip(input: unknown): string {
  const text = JSON.stringify(input) ?? String(input);
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

/** What a client sent, for an error message: `the string "[\"t_1\"]"`, `null`, `42`. */
function shown(input: unknown): string {
  return typeof input === "string" ? `the string ${clip(input)}` : clip(input);
}

/** True when `input` is a string whose text is a JSON value of the given kind (an array, an object). */
function holdsJson(input: unknown, kind: "array" | "object"): boolean {
  if (typeof input !== "string") return false;
  try {
    const v = JSON.parse(input) as unknown;
    return kind === "array" ? Array.isArray(v) : v !== null && typeof v === "object" && !Array.isArray(v);
  } catch {
    return false;
  }
}

/**
 * A list of strings: a JSON array and nothing else, so that the JSON schema a client sees has one
 * type. (A string-or-array union made a real MCP client send its array as one string, which was
 * then taken as a single id.) The errors say what to send instead.
 */
const stringList = (field: string, example: string) =>
  z.array(z.string({ error: `${field} must be an array of strings; one element was not a string` }), {
    error: (issue) => {
      const input = issue.input;
      if (holdsJson(input, "array")) {
        return `${field} was sent as a string holding a JSON array; send the array itself, e.g. ${field}: ["${example}"], not ${field}: "[\\"${example}\\"]"`;
      }
      if (typeof input === "string")
        return `${field} must be an array of strings, not a string: send ${field}: [${clip(input)}]`;
      return `${field} must be an array of strings, e.g. ${field}: ["${example}"]; got ${shown(input)}`;
    },
  });

/** A JSON boolean; the strings "true"/"false" are refused (one schema type), with the fix in the message. */
const bool = (field: string) =>
  z.boolean({
    error: (issue) => `${field} must be a JSON boolean (true or false, without quotes); got ${shown(issue.input)}`,
  });

/** A JSON object; a string holding one is refused with the fix in the message. */
const jsonObject = (field: string) =>
  z.record(z.string(), z.unknown(), {
    error: (issue) =>
      holdsJson(issue.input, "object")
        ? `${field} must be a JSON object, not a string holding one: send the object itself`
        : `${field} must be a JSON object; got ${shown(issue.input)}`,
  });

function toList(value: string[] | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  return value.map((v) => v.trim()).filter((v) => v !== "");
}

function code(err: unknown): string | null {
  if (!(err instanceof TRPCClientError)) return null;
  const data = (err as TRPCClientError<never>).data as { kanbanCode?: string | null; code?: string } | null | undefined;
  return data?.kanbanCode ?? data?.code ?? null;
}

function details(err: unknown): Record<string, unknown> {
  if (!(err instanceof TRPCClientError)) return {};
  const data = (err as TRPCClientError<never>).data as { details?: Record<string, unknown> | null } | null | undefined;
  return data?.details ?? {};
}

/** The message of a refused fenced call (the error, or its message): the worker lost its attempt and must stop. */
function staleText(tool: string, id: string, err: unknown): string {
  const message = typeof err === "string" ? err : (err as Error).message;
  return `${tool} refused: ${message}. Your attempt on ${id} is over (the task was reclaimed or settled); stop working on it and do not retry.`;
}

/**
 * Sends a worker's terminal call through the host's completion outbox when it has one (a remote
 * host's worker acting on its own task): null when the call goes the ordinary way. An entry that
 * cannot be written is a refusal (nothing was sent).
 */
async function viaOutbox(
  ctx: ToolContext,
  verb: "complete" | "block",
  id: string,
  input: Record<string, unknown>,
): Promise<OutboxSent | null> {
  if (!ctx.outbox) return null;
  try {
    return await ctx.outbox.send(verb, id, input);
  } catch (err) {
    if (err instanceof OutboxUnwritableError) throw new ToolError(err.message);
    throw err;
  }
}

/**
 * The answer to a terminal call the server did not answer: not an error (the call is kept on the
 * host's disk and the host re-sends it until the server acknowledges it), so the agent stops here.
 */
function queuedAnswer(tool: string, id: string, runId: number | null): Record<string, unknown> {
  return {
    ok: true,
    queued: true,
    task_id: id,
    run_id: runId,
    message: `${QUEUED_LINE}. The server did not answer now; ${tool} is kept on this host's disk and re-sent until it does. Your work on ${id} is handed off: stop here.`,
  };
}

/** The task a lifecycle tool acts on: the one named, else the worker's own; a worker may touch no other. */
function ownTarget(ctx: ToolContext, requested: string | undefined): string {
  const id = requested?.trim() ? requested.trim() : ctx.identity.task;
  if (!id) throw new ToolError("task_id is required (or set KANBAN_TASK in the env)");
  const own = ctx.identity.task;
  if (own !== null && id !== own) {
    throw new ToolError(
      `worker is scoped to task ${own}; refusing to mutate ${id}. Hand information to other tasks with kanban_comment, or start follow-up work with kanban_create.`,
    );
  }
  return id;
}

function fence(ctx: ToolContext, id: string): { expected_run_id?: number; claim_lock?: string } {
  const me = ctx.identity;
  if (me.task === null || me.task !== id) return {};
  return {
    ...(me.runId !== null ? { expected_run_id: me.runId } : {}),
    ...(me.claimLock !== null ? { claim_lock: me.claimLock } : {}),
  };
}

function boardOf(args: { board?: string }): { board?: string } {
  return args.board?.trim() ? { board: args.board.trim() } : {};
}

export const kanbanShow = defineTool({
  name: "kanban_show",
  description:
    "Read a task: its fields, parents and children, comments, the last 50 events, its runs (attempts) and worker_context, " +
    "the text a worker should treat as ground truth. Call it first, with no arguments, to read your own task.",
  orchestratorOnly: false,
  inputSchema: z.object({ task_id: taskIdOptional, board }),
  async handler(args, ctx) {
    const id = args.task_id?.trim() ? args.task_id.trim() : ctx.identity.task;
    if (!id)
      throw new ToolError("task_id is required (or set KANBAN_TASK in the env); kanban_list shows the board's tasks");
    let d: Awaited<ReturnType<ToolContext["client"]["tasks"]["get"]["query"]>>;
    try {
      d = await ctx.client.tasks.get.query({ ...boardOf(args), id });
      // The detail holds the newest comments of a long discussion; the tool reads them all, as `show` does.
      if (d.comments_total > d.comments.length)
        d = { ...d, comments: (await ctx.client.comments.list.query({ ...boardOf(args), task_id: id })).comments };
    } catch (err) {
      if (code(err) === "NOT_FOUND") throw new ToolError(`task ${id} not found`);
      throw err;
    }
    const t = d.task;
    return {
      task: {
        id: t.id,
        title: t.title,
        body: t.body,
        assignee: t.assignee,
        status: t.status,
        tenant: t.tenant,
        priority: t.priority,
        workspace_kind: t.workspace_kind,
        workspace_path: t.workspace_path,
        created_by: t.created_by,
        created_at: t.created_at,
        started_at: t.started_at,
        completed_at: t.completed_at,
        result: t.result,
        current_run_id: t.current_run_id,
        model_override: t.model_override,
      },
      parents: d.links.parents.map((p) => p.id),
      children: d.links.children.map((c) => c.id),
      comments: d.comments.map((c) => ({ author: c.author, body: c.body, created_at: c.created_at })),
      events: d.events
        .slice(-50)
        .map((e) => ({ kind: e.kind, payload: e.payload, created_at: e.created_at, run_id: e.run_id })),
      runs: d.runs.map((r) => ({
        id: r.id,
        profile: r.profile,
        status: r.status,
        outcome: r.outcome,
        summary: r.summary,
        error: r.error,
        metadata: r.metadata,
        started_at: r.started_at,
        ended_at: r.ended_at,
      })),
      worker_context: d.worker_context,
    };
  },
});

export const LIST_LIMIT_DEFAULT = 50;
export const LIST_LIMIT_MAX = 200;
/** A page of rows stays this far under the response cap, so that a page is never cut (rows cut by the cap would be skipped by the cursor). */
const LIST_PAGE_BYTES = MAX_RESPONSE_BYTES - 8 * 1024;

type ListedTask = Awaited<ReturnType<ToolContext["client"]["tasks"]["list"]["query"]>>["tasks"][number];

function listRow(t: ListedTask) {
  return {
    id: t.id,
    title: t.title,
    assignee: t.assignee,
    status: t.status,
    priority: t.priority,
    tenant: t.tenant,
    workspace_kind: t.workspace_kind,
    workspace_path: t.workspace_path,
    created_by: t.created_by,
    created_at: t.created_at,
    started_at: t.started_at,
    completed_at: t.completed_at,
    current_run_id: t.current_run_id,
    model_override: t.model_override,
    parents: t.parents ?? [],
    children: t.children ?? [],
    parent_count: t.parents?.length ?? 0,
    child_count: t.children?.length ?? 0,
  };
}

/** How many leading rows fit in `budget` bytes of JSON (at least one). */
function rowsThatFit(rows: unknown[], budget: number): number {
  let used = 2;
  for (let i = 0; i < rows.length; i++) {
    used += Buffer.byteLength(JSON.stringify(rows[i]), "utf8") + 1;
    if (used > budget) return Math.max(1, i);
  }
  return rows.length;
}

export const kanbanList = defineTool({
  name: "kanban_list",
  description:
    "List the board's tasks (orchestrators only), one page at a time, after promoting every task whose parents are done. " +
    "Filter by assignee, status or tenant; archived tasks only with include_archived. When next_cursor is not null there are more: " +
    "call again with the same filters and cursor set to next_cursor.",
  orchestratorOnly: true,
  inputSchema: z.object({
    assignee: z.string().max(200).optional().describe("Only this profile's tasks."),
    status: z.enum(TASK_STATUSES, { error: `status must be one of ${TASK_STATUSES.join(", ")}` }).optional(),
    tenant: z.string().max(200).optional(),
    include_archived: bool("include_archived").optional(),
    limit: z
      .number({ error: "limit must be an integer" })
      .int({ error: "limit must be an integer" })
      .min(1, { error: "limit must be >= 1" })
      .max(LIST_LIMIT_MAX, { error: `limit must be <= ${LIST_LIMIT_MAX}` })
      .optional()
      .describe(`Rows per page (default ${LIST_LIMIT_DEFAULT}, at most ${LIST_LIMIT_MAX}).`),
    cursor: z
      .string({ error: "cursor must be the next_cursor string of the previous kanban_list call" })
      .max(4096)
      .optional()
      .describe("next_cursor of the previous call, to get the next page; omit for the first page."),
    board,
  }),
  async handler(args, ctx) {
    const limit = args.limit ?? LIST_LIMIT_DEFAULT;
    const cursor = args.cursor?.trim() ? args.cursor.trim() : null;
    let promoted = 0;
    // Promotion runs once, before the first page: the later pages continue the same listing.
    if (cursor === null) {
      try {
        promoted = (await ctx.client.tasks.recompute.mutate(boardOf(args))).promoted;
      } catch (err) {
        // A tenant-scoped token may read its tenant's tasks but not promote board-wide.
        if (code(err) !== "FORBIDDEN") throw err;
      }
    }
    const query = (n: number) =>
      ctx.client.tasks.list.query({
        ...boardOf(args),
        assignee: args.assignee ?? null,
        status: args.status ?? null,
        tenant: args.tenant ?? null,
        include_archived: args.include_archived ?? args.status === "archived",
        limit: n,
        cursor,
        include_links: true,
      });
    let page = await query(limit);
    let rows = page.tasks.map(listRow);
    // Rows with long link lists can make a page too big for one response. The response cap would
    // cut rows that the cursor then skips, so ask again for fewer rows and take that page's cursor.
    for (let fit = rowsThatFit(rows, LIST_PAGE_BYTES); fit < rows.length; fit = rowsThatFit(rows, LIST_PAGE_BYTES)) {
      page = await query(fit);
      rows = page.tasks.map(listRow);
      if (fit === 1) break;
    }
    return { tasks: rows, count: rows.length, limit, next_cursor: page.next_cursor, promoted };
  },
});

export const kanbanCreate = defineTool({
  name: "kanban_create",
  description:
    "Create a card for another profile to work on. Name the assignee explicitly (only configured profiles are ever spawned) and pass " +
    "parents at creation so it waits for them. A worker's card inherits its dir/worktree workspace unless one is given. " +
    "Returns the new task_id: the only kind of id you may later list in kanban_complete's created_cards.",
  orchestratorOnly: false,
  inputSchema: z.object({
    title: z.string({ error: "title is required" }).trim().min(1, { error: "title is required" }).max(TITLE_MAX),
    assignee: z
      .string({
        error:
          "assignee is required: name the profile that should do this task (the dispatcher only spawns tasks that have an assignee)",
      })
      .trim()
      .min(1, {
        error:
          "assignee is required: name the profile that should do this task (the dispatcher only spawns tasks that have an assignee)",
      })
      .max(200),
    body: z.string().optional().describe("Goal, inputs, definition of done, workspace needs."),
    parents: stringList("parents", "t_1a2b3c4d")
      .optional()
      .describe("Task ids that must be done before this one starts."),
    tenant: z.string().max(200).optional().describe("Soft namespace; default $KANBAN_TENANT."),
    priority: z
      .number({ error: "priority must be an integer" })
      .int({ error: "priority must be an integer" })
      .optional(),
    workspace_kind: z.enum(WORKSPACE_KINDS, { error: "workspace_kind must be scratch, worktree or dir" }).optional(),
    workspace_path: z
      .string()
      .max(4096)
      .optional()
      .describe("Absolute path for dir (required) or worktree (optional)."),
    triage: bool("triage").optional().describe("Park it in triage until someone specifies it."),
    idempotency_key: z
      .string()
      .max(200)
      .optional()
      .describe("Creating twice with the same key returns the first task."),
    max_runtime_seconds: z
      .number({ error: "max_runtime_seconds must be an integer" })
      .int({ error: "max_runtime_seconds must be an integer" })
      .min(1, { error: "max_runtime_seconds must be >= 1" })
      .optional(),
    initial_status: z.enum(["running", "blocked"], { error: "initial_status must be running or blocked" }).optional(),
    skills: stringList("skills", "git").optional().describe("Skills the worker loads for this task."),
    model: z.string().max(200).optional().describe("Model override for the worker."),
    requires: stringList("requires", "macos")
      .optional()
      .describe("Labels a machine must have to run it (e.g. macos, gpu); only a host with all of them claims it."),
    board,
  }),
  async handler(args, ctx) {
    const me = ctx.identity;
    let workspace: { workspace_kind?: string; workspace_path?: string | null } = {};
    if (args.workspace_kind !== undefined || args.workspace_path !== undefined) {
      workspace = {
        ...(args.workspace_kind ? { workspace_kind: args.workspace_kind } : {}),
        workspace_path: args.workspace_path ?? null,
      };
    } else if (me.task !== null && !args.board) {
      // A follow-up works on the same checkout as its creator. A scratch directory is not shared:
      // it is deleted when the creating task completes.
      const own = await ctx.client.tasks.get.query({ id: me.task }).catch(() => null);
      if (own && own.task.workspace_kind !== "scratch")
        workspace = { workspace_kind: own.task.workspace_kind, workspace_path: own.task.workspace_path };
    }
    const res = await ctx.client.tasks.create.mutate({
      ...boardOf(args),
      title: args.title,
      assignee: args.assignee,
      body: args.body ?? null,
      parents: toList(args.parents) ?? [],
      tenant: args.tenant ?? me.tenant,
      priority: args.priority ?? 0,
      ...(workspace.workspace_kind ? { workspace_kind: workspace.workspace_kind as WorkspaceKind } : {}),
      workspace_path: workspace.workspace_path ?? null,
      triage: args.triage ?? false,
      idempotency_key: args.idempotency_key ?? null,
      max_runtime_seconds: args.max_runtime_seconds ?? null,
      initial_status: args.initial_status ?? null,
      skills: toList(args.skills) ?? null,
      model_override: args.model ?? null,
      created_by: me.profile ?? "worker",
      session_id: me.sessionId,
      ...(args.requires !== undefined ? { requires: toList(args.requires) } : {}),
    });
    return { ok: true, task_id: res.task.id, status: res.task.status, subscribed: false };
  },
});

export const kanbanComplete = defineTool({
  name: "kanban_complete",
  description:
    "Finish your task with a structured handoff: summary (1-3 sentences, preferred) and/or result, metadata as a JSON object " +
    "(changed_files, tests_run, decisions...), artifacts (paths) and created_cards: ids that kanban_create returned to you in this task. " +
    "An unknown created_cards id refuses the completion and leaves the task running.",
  orchestratorOnly: false,
  inputSchema: z.object({
    task_id: taskIdOptional,
    summary: z.string().optional(),
    result: z.string().optional(),
    metadata: jsonObject("metadata").optional(),
    created_cards: stringList("created_cards", "t_1a2b3c4d")
      .optional()
      .describe("Ids kanban_create returned to you in this task; [] skips the check."),
    artifacts: stringList("artifacts", "report.md")
      .optional()
      .describe("Files worth keeping; merged into metadata.artifacts."),
    usage,
    board,
  }),
  async handler(args, ctx) {
    const id = ownTarget(ctx, args.task_id);
    if (!args.summary?.trim() && !args.result?.trim())
      throw new ToolError("provide at least one of: summary (preferred), result");
    const metadata: Record<string, unknown> = { ...(args.metadata ?? {}) };
    const artifacts = toList(args.artifacts);
    if (artifacts && artifacts.length > 0) {
      const before = Array.isArray(metadata.artifacts) ? (metadata.artifacts as unknown[]).map(String) : [];
      metadata.artifacts = [...new Set([...before, ...artifacts])];
    }
    if (ctx.identity.task === id && ctx.identity.sessionId !== null)
      metadata.worker_session_id = ctx.identity.sessionId;
    const cards = toList(args.created_cards);
    const input = {
      ...boardOf(args),
      id,
      summary: args.summary ?? null,
      result: args.result ?? null,
      metadata: Object.keys(metadata).length > 0 ? metadata : null,
      created_cards: cards ?? null,
      ...(args.usage ? { usage: args.usage } : {}),
      ...fence(ctx, id),
    };
    const sent = await viaOutbox(ctx, "complete", id, input);
    if (sent !== null) {
      const runId = input.expected_run_id ?? null;
      if (sent.state === "pending") return queuedAnswer("kanban_complete", id, runId);
      if (sent.ok && sent.gated !== undefined) return gatedAnswer(id, runId, sent.gated, null);
      if (sent.ok) return { ok: true, task_id: id, run_id: runId };
      throw completeRefusal(id, sent.code, sent.message, null) ?? new ToolError(sent.message);
    }
    try {
      const res = await ctx.client.tasks.complete.mutate(input);
      if ("gated" in res) return gatedAnswer(id, res.run_id, res.gated, res.task.assignee);
      return { ok: true, task_id: id, run_id: res.run_id };
    } catch (err) {
      throw completeRefusal(id, code(err), (err as Error).message, details(err).phantom) ?? err;
    }
  },
});

/**
 * The answer to a completion that did not make the card done: it waits in review at a gate. The
 * agent is told what happens next and that its attempt is over, so that it stops rather than waits.
 */
function gatedAnswer(id: string, runId: number | null, stage: string, assignee: string | null) {
  const next =
    stage === "commands"
      ? "the dispatcher now runs its acceptance commands in the task's workspace. If one fails, the task comes back to its implementer with a GATE FAILED comment holding the command, its exit and the end of its output"
      : stage === "reviewer"
        ? `its reviewer${assignee ? ` (${assignee})` : ""} is spawned next to approve it or send it back with what must change`
        : "a person must approve it on the board (or kanban review approve) before it is done";
  return {
    ok: true,
    task_id: id,
    run_id: runId,
    status: "review",
    gated: stage,
    message: `${id} is not done yet: it waits in review at its ${stage} gate; ${next}. Your attempt is over: stop here.`,
  };
}

/** A refused completion in the tool's words, or null when it is not one of the refusals it words. */
function completeRefusal(id: string, c: string | null, message: string, phantom: unknown): ToolError | null {
  if (c === "HALLUCINATED_CARDS") {
    const ids = Array.isArray(phantom) ? phantom.join(", ") : message;
    return new ToolError(
      `kanban_complete blocked: the following created_cards do not exist or were not created by this worker: ${ids}. ` +
        "Your task is still in-flight (no state change). Call kanban_complete again with the same summary and metadata, " +
        "leaving those ids out of created_cards, or with created_cards=[] to skip the check.",
    );
  }
  if (c === "STALE_RUN") return new ToolError(staleText("kanban_complete", id, message));
  if (c === "NOT_FOUND") return new ToolError(`could not complete ${id} (unknown id or already terminal)`);
  if (c === "WRONG_STATE") return new ToolError(`could not complete ${id}: ${message}`);
  return null;
}

export const kanbanBlock = defineTool({
  name: "kanban_block",
  description:
    "Stop and ask a human: blocks your task with a reason someone can answer without reading your logs (the question, the options " +
    "you see). The task stays blocked until a person unblocks it.",
  orchestratorOnly: false,
  inputSchema: z.object({
    task_id: taskIdOptional,
    reason: z
      .string({ error: "reason is required — explain what input you need" })
      .describe("The question or the missing input."),
    kind: z
      .enum(BLOCK_KINDS)
      .optional()
      .describe(
        "What you wait for: dependency (another card must finish; you wait in todo), needs_input (a person must answer), " +
          "capability (you cannot do this), transient (something outside is down). The same kind twice in a row sends the card to triage.",
      ),
    board,
  }),
  async handler(args, ctx) {
    const id = ownTarget(ctx, args.task_id);
    const reason = args.reason.trim();
    if (reason === "") throw new ToolError("reason is required — explain what input you need");
    const input = { ...boardOf(args), id, reason, ...(args.kind ? { kind: args.kind } : {}), ...fence(ctx, id) };
    const runId = input.expected_run_id ?? null;
    const sent = await viaOutbox(ctx, "block", id, input);
    if (sent !== null) {
      if (sent.state === "pending") return queuedAnswer("kanban_block", id, runId);
      if (!sent.ok) throw blockRefusal(id, sent.code, sent.message) ?? new ToolError(sent.message);
      return { ok: true, task_id: id, run_id: runId };
    }
    try {
      await ctx.client.tasks.block.mutate(input);
    } catch (err) {
      throw blockRefusal(id, code(err), (err as Error).message) ?? err;
    }
    return { ok: true, task_id: id, run_id: runId };
  },
});

/** A refused block in the tool's words, or null when it is not one of the refusals it words. */
function blockRefusal(id: string, c: string | null, message: string): ToolError | null {
  if (c === "STALE_RUN") return new ToolError(staleText("kanban_block", id, message));
  if (c === "NOT_FOUND" || c === "WRONG_STATE")
    return new ToolError(`could not block ${id} (unknown id or not in running/ready)`);
  return null;
}

export const kanbanHeartbeat = defineTool({
  name: "kanban_heartbeat",
  description:
    "Tell the board you are alive during long work (every few minutes, at least hourly); it extends your claim. " +
    "A note saying what you are doing and how far along is the cheapest progress report.",
  orchestratorOnly: false,
  inputSchema: z.object({
    task_id: taskIdOptional,
    note: z
      .string()
      .max(64 * 1024)
      .optional(),
    usage,
    board,
  }),
  async handler(args, ctx) {
    const id = ownTarget(ctx, args.task_id);
    try {
      await ctx.client.tasks.heartbeat.mutate({
        ...boardOf(args),
        id,
        note: args.note?.trim() ? args.note.trim() : null,
        ...(args.usage ? { usage: args.usage } : {}),
        ...fence(ctx, id),
      });
    } catch (err) {
      const c = code(err);
      if (c === "STALE_RUN") throw new ToolError(staleText("kanban_heartbeat", id, err));
      if (c === "NOT_FOUND" || c === "WRONG_STATE")
        throw new ToolError(`could not heartbeat ${id} (unknown id or not running)`);
      throw err;
    }
    return { ok: true, task_id: id };
  },
});

export const kanbanComment = defineTool({
  name: "kanban_comment",
  description:
    "Add a comment to any task: hand information to another task, or leave notes on your own. The author is your profile; it cannot be chosen.",
  orchestratorOnly: false,
  inputSchema: z.object({
    task_id: z.string({ error: "task_id is required" }).max(64),
    body: z.string({ error: "body is required" }).max(64 * 1024),
    board,
  }),
  async handler(args, ctx) {
    const id = args.task_id.trim();
    if (id === "") throw new ToolError("task_id is required");
    if (args.body.trim() === "") throw new ToolError("body is required");
    try {
      const res = await ctx.client.comments.add.mutate({
        ...boardOf(args),
        task_id: id,
        body: args.body,
        // Forced, so that a worker cannot post under an authoritative-looking name.
        author: ctx.identity.profile ?? "worker",
        ...fence(ctx, id),
      });
      return { ok: true, task_id: id, comment_id: res.comment_id };
    } catch (err) {
      if (code(err) === "NOT_FOUND") throw new ToolError(`task ${id} not found`);
      if (code(err) === "STALE_RUN") throw new ToolError(staleText("kanban_comment", id, err));
      throw err;
    }
  },
});

export const kanbanUnblock = defineTool({
  name: "kanban_unblock",
  description: "Return a blocked (or scheduled) task to the queue once its question is answered (orchestrators only).",
  orchestratorOnly: true,
  inputSchema: z.object({ task_id: z.string({ error: "task_id is required" }).max(64), board }),
  async handler(args, ctx) {
    const id = args.task_id.trim();
    try {
      const res = await ctx.client.tasks.unblock.mutate({ ...boardOf(args), id });
      return { ok: true, task_id: id, status: res.task.status };
    } catch (err) {
      const c = code(err);
      if (c === "NOT_FOUND" || c === "WRONG_STATE")
        throw new ToolError(`could not unblock ${id} (not blocked or unknown)`);
      throw err;
    }
  },
});

export const kanbanCancel = defineTool({
  name: "kanban_cancel",
  description:
    "Cancel a task that should not go on (hung, no longer wanted): its worker's process tree is stopped, on a remote host too, and the " +
    "task is blocked with 'cancelled: <reason>' so it is not simply run again; kanban_unblock puts it back (orchestrators only).",
  orchestratorOnly: true,
  inputSchema: z.object({
    task_id: z.string({ error: "task_id is required" }).max(64),
    reason: z.string().max(4000).optional().describe("Why; kept as the task's block reason."),
    board,
  }),
  async handler(args, ctx) {
    const id = args.task_id.trim();
    try {
      const res = await ctx.client.tasks.cancel.mutate({ ...boardOf(args), id, reason: args.reason?.trim() || null });
      return { ok: true, task_id: id, status: res.task.status };
    } catch (err) {
      const c = code(err);
      if (c === "NOT_FOUND") throw new ToolError(`task ${id} not found`);
      if (c === "WRONG_STATE" || c === "INVALID_INPUT") throw new ToolError(`kanban_cancel: ${(err as Error).message}`);
      throw err;
    }
  },
});

export const kanbanBudgetAllow = defineTool({
  name: "kanban_budget_allow",
  description:
    "Allow more spend on a budget that paused work (orchestrators only): raises the budget's current period (today, UTC; a card's " +
    "for its life) by amount_usd and resumes the cards it paused. scope: card (key: the task id, counting the cards below it), " +
    "board (no key), profile or tenant (key: its name).",
  orchestratorOnly: true,
  inputSchema: z.object({
    scope: z.enum(["card", "board", "profile", "tenant"], { error: "scope is card, board, profile or tenant" }),
    key: z.string().max(200).optional().describe("The task id, profile or tenant; none for the board."),
    amount_usd: z
      .number({ error: "amount_usd is required: how many dollars more to allow" })
      .positive()
      .max(1e6)
      .describe("How many dollars more to allow for the current period."),
    board,
  }),
  async handler(args, ctx) {
    try {
      const res = await ctx.client.budgets.allow.mutate({
        ...boardOf(args),
        scope: args.scope,
        key: args.key?.trim() || null,
        amount_usd: args.amount_usd,
      });
      const b = res.budget;
      return {
        ok: true,
        scope: b.scope,
        key: b.key,
        spent_usd: b.spent_micro_usd / 1e6,
        limit_usd: (b.limit_micro_usd + b.allowance_micro_usd) / 1e6,
        state: b.state,
        resumed: res.resumed,
      };
    } catch (err) {
      const c = code(err);
      if (c === "NOT_FOUND" || c === "INVALID_INPUT" || c === "BAD_REQUEST")
        throw new ToolError(`kanban_budget_allow: ${(err as Error).message}`);
      throw err;
    }
  },
});

export const kanbanLink = defineTool({
  name: "kanban_link",
  description:
    "Make child_id wait for parent_id (a dependency edge). Prefer passing parents to kanban_create instead of linking later.",
  orchestratorOnly: false,
  inputSchema: z.object({
    parent_id: z.string({ error: "parent_id is required" }).max(64),
    child_id: z.string({ error: "child_id is required" }).max(64),
    board,
  }),
  async handler(args, ctx) {
    try {
      const res = await ctx.client.links.add.mutate({
        ...boardOf(args),
        parent_id: args.parent_id.trim(),
        child_id: args.child_id.trim(),
      });
      return { ok: true, parent_id: args.parent_id.trim(), child_id: args.child_id.trim(), demoted: res.demoted };
    } catch (err) {
      const c = code(err);
      if (c === "INVALID_INPUT" || c === "NOT_FOUND" || c === "BAD_REQUEST")
        throw new ToolError(`kanban_link: ${(err as Error).message}`);
      throw err;
    }
  },
});

export const kanbanWhy = defineTool({
  name: "kanban_why",
  description:
    "Why a task is or is not moving, and the next action: waiting on named parents, no assignee, a profile or host cap, " +
    "a respawn guard, a tripped breaker, a blocked reason, a quiet or orphaned worker, no dispatcher… Returns " +
    "{moving, code, line, next, detail}: the same code and line as `kanban why` and the board's card. No arguments: your own task.",
  orchestratorOnly: false,
  inputSchema: z.object({ task_id: taskIdOptional, board }),
  async handler(args, ctx) {
    const id = args.task_id?.trim() ? args.task_id.trim() : ctx.identity.task;
    if (!id)
      throw new ToolError("task_id is required (or set KANBAN_TASK in the env); kanban_list shows the board's tasks");
    try {
      return { task_id: id, ...(await ctx.client.tasks.why.query({ ...boardOf(args), id })) };
    } catch (err) {
      if (code(err) === "NOT_FOUND") throw new ToolError(`task ${id} not found`);
      throw err;
    }
  },
});

// --- the review lane (Hermes B's kanban_request_review / kanban_request_changes) ---

/** A refused review call in the tool's words, or null when it is not one of the refusals it words. */
function reviewRefusal(tool: string, id: string, err: unknown): ToolError | null {
  const c = code(err);
  if (c === "STALE_RUN") return new ToolError(staleText(tool, id, err));
  if (c === "NOT_FOUND") return new ToolError(`${tool}: task ${id} not found`);
  if (c === "WRONG_STATE" || c === "INVALID_INPUT" || c === "BAD_REQUEST" || c === "CONFLICT")
    return new ToolError(`${tool}: ${(err as Error).message}`);
  return null;
}

export const kanbanRequestReview = defineTool({
  name: "kanban_request_review",
  description:
    "Hand your finished work to a reviewer instead of completing it: the card goes to review and the reviewer profile " +
    "(named, or the one of the last review round) is spawned to approve it or send it back. Your attempt ends here.",
  orchestratorOnly: false,
  inputSchema: z.object({
    task_id: taskIdOptional,
    summary: z
      .string({ error: "summary is required — say what the reviewer should look at" })
      .max(64 * 1024)
      .describe("What you did and what to check, 1-3 sentences."),
    reviewer: z.string().max(200).optional().describe("The reviewer profile (default: the last round's reviewer)."),
    metadata: jsonObject("metadata").optional(),
    board,
  }),
  async handler(args, ctx) {
    const id = ownTarget(ctx, args.task_id);
    const summary = args.summary.trim();
    if (summary === "") throw new ToolError("summary is required — say what the reviewer should look at");
    try {
      const res = await ctx.client.tasks.requestReview.mutate({
        ...boardOf(args),
        id,
        summary,
        reviewer: args.reviewer?.trim() ? args.reviewer.trim() : null,
        metadata: args.metadata ?? null,
        ...fence(ctx, id),
      });
      return { ok: true, task_id: id, status: res.task.status, reviewer: res.task.assignee };
    } catch (err) {
      throw reviewRefusal("kanban_request_review", id, err) ?? err;
    }
  },
});

export const kanbanRequestChanges = defineTool({
  name: "kanban_request_changes",
  description:
    "As the reviewer of a card (KANBAN_REVIEW=1): send it back to its implementer with what must change. " +
    "To approve instead, call kanban_complete with your verdict as the summary.",
  orchestratorOnly: false,
  inputSchema: z.object({
    task_id: taskIdOptional,
    reason: z
      .string({ error: "reason is required — say what the implementer should change" })
      .max(64 * 1024)
      .describe("What must change, concrete enough to act on without your logs."),
    board,
  }),
  async handler(args, ctx) {
    const id = ownTarget(ctx, args.task_id);
    const reason = args.reason.trim();
    if (reason === "") throw new ToolError("reason is required — say what the implementer should change");
    try {
      const res = await ctx.client.tasks.requestChanges.mutate({
        ...boardOf(args),
        id,
        reason,
        comment_author: ctx.identity.profile ?? "reviewer",
        ...fence(ctx, id),
      });
      return { ok: true, task_id: id, status: res.task.status, implementer: res.task.assignee };
    } catch (err) {
      throw reviewRefusal("kanban_request_changes", id, err) ?? err;
    }
  },
});

// --- completion gates (issue 20) ---

/** The longest list of changed files a kanban_gates answer carries per round (the diff itself stays on the board). */
const GATE_FILES_SHOWN = 200;

export const kanbanGates = defineTool({
  name: "kanban_gates",
  description:
    "What your completion will be judged by: your task's completion gates in the order they run (acceptance commands with " +
    "their argv and timeout, a reviewer profile, a person's approval) and where they come from, the stage it waits at, and " +
    "the evidence of its latest rounds (each gate's verdict, each command's exit and output tail, the changed files). " +
    "Read it before kanban_complete (run the commands yourself first) and when a GATE FAILED comment sent the task back. " +
    "No arguments: your own task.",
  orchestratorOnly: false,
  inputSchema: z.object({
    task_id: taskIdOptional,
    rounds: z
      .number({ error: "rounds must be an integer from 1 to 10" })
      .int({ error: "rounds must be an integer from 1 to 10" })
      .min(1, { error: "rounds must be an integer from 1 to 10" })
      .max(10, { error: "rounds must be an integer from 1 to 10" })
      .optional()
      .describe("How many recent rounds of evidence (default 3)."),
    board,
  }),
  async handler(args, ctx) {
    const id = args.task_id?.trim() ? args.task_id.trim() : ctx.identity.task;
    if (!id) throw new ToolError("task_id is required (or set KANBAN_TASK in the env)");
    const own = ctx.identity.task;
    // A worker's run token reads its own card's gates only; say so before the board does.
    if (own !== null && id !== own) throw new ToolError(`kanban_gates reads your own task (${own}) only, not ${id}`);
    let card: Awaited<ReturnType<ToolContext["client"]["gates"]["card"]["query"]>>;
    try {
      card = await ctx.client.gates.card.query({ ...boardOf(args), id, rounds: args.rounds ?? 3 });
    } catch (err) {
      if (code(err) === "NOT_FOUND") throw new ToolError(`task ${id} not found`);
      throw err;
    }
    const rounds = card.rounds.map((r) => ({
      round: r.round,
      items: r.items.map((i) => {
        if (i.gate !== "change")
          return { gate: i.gate, name: i.name, outcome: i.outcome, detail: i.detail, output_tail: i.body };
        // The diff can be large and the worker has the workspace: the files say enough.
        const files = Array.isArray(i.detail?.files) ? (i.detail.files as unknown[]) : [];
        return {
          gate: i.gate,
          name: i.name,
          outcome: i.outcome,
          base: i.detail?.base ?? null,
          files: files.slice(0, GATE_FILES_SHOWN),
          files_total: files.length,
        };
      }),
    }));
    const g = card.gates;
    const next =
      g === null
        ? "No gates: kanban_complete makes this task done."
        : g.spec.commands.length > 0
          ? "Before kanban_complete, run each acceptance command yourself in your workspace: each must exit 0 within its timeout, or the task comes back to you."
          : "kanban_complete hands the task to its gates; it is done once they approve.";
    return {
      task_id: id,
      gates: g === null ? null : { from: g.scope, key: g.key, ...g.spec },
      waiting_at: card.verification,
      rounds,
      next,
    };
  },
});

/** Every tool, in the order they are listed. */
export const KANBAN_TOOLS: readonly KanbanTool[] = [
  kanbanShow,
  kanbanList,
  kanbanCreate,
  kanbanComplete,
  kanbanBlock,
  kanbanUnblock,
  kanbanCancel,
  kanbanBudgetAllow,
  kanbanHeartbeat,
  kanbanComment,
  kanbanLink,
  kanbanWhy,
  kanbanNotifySubscribe,
  kanbanRequestReview,
  kanbanRequestChanges,
  kanbanGates,
] as unknown as readonly KanbanTool[];
