import type { RouterInputs, RouterOutputs } from "@kanban/api/client";
import type { KanbanClient } from "../client.ts";
import { boardArg, type Deps } from "../deps.ts";
import { CliFailure, errorCode, UsageError } from "../errors.ts";
import {
  formatElapsed,
  formatTime,
  payloadText,
  statusIcon,
  TASK_STATUSES,
  table,
  taskDict,
  type TaskDto,
  taskLine,
  toJson,
} from "../output.ts";
import { choiceArg, intArg } from "./parse.ts";
import type { Register } from "./register.ts";

type TaskDetail = RouterOutputs["tasks"]["get"];
type Run = TaskDetail["runs"][number];

export const LIST_SORTS = [
  "created",
  "created-desc",
  "priority",
  "priority-desc",
  "status",
  "assignee",
  "title",
  "updated",
] as const;

export interface ListOptions {
  mine?: boolean;
  assignee?: string;
  status?: string;
  tenant?: string;
  session?: string;
  archived?: boolean;
  json?: boolean;
  sort?: (typeof LIST_SORTS)[number];
  workflowTemplateId?: string;
  stepKey?: string;
  /** At most this many tasks (default: all of them). */
  limit?: number;
}

/** Unknown task → `no such task: <id>` (Hermes' wording), other errors unchanged. */
async function withTask<T>(id: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (errorCode(err) === "NOT_FOUND") throw new CliFailure(`no such task: ${id}`);
    throw err;
  }
}

/** Tasks asked of the API per call: its default page (it also ends a page early at ~4 MiB). */
export const LIST_PAGE_SIZE = 200;

type ListFilter = Omit<RouterInputs["tasks"]["list"], "cursor" | "limit">;

/**
 * Every task matching `filter`, page by page (at most `max` in all): only one page is held at a
 * time, so a board of any size lists in bounded memory. Ends early when `max` is reached.
 */
async function* taskPages(client: KanbanClient, filter: ListFilter, max: number): AsyncGenerator<TaskDto[]> {
  let cursor: string | null = null;
  let left = max;
  while (left > 0) {
    const page: { tasks: TaskDto[]; next_cursor: string | null } = await client.tasks.list.query({
      ...filter,
      cursor,
      limit: Math.min(left, LIST_PAGE_SIZE),
    });
    const tasks = page.tasks.slice(0, left);
    left -= tasks.length;
    if (tasks.length > 0) yield tasks;
    cursor = page.next_cursor;
    if (cursor === null || tasks.length === 0) return;
  }
}

/**
 * `--json` as one JSON array, written as the pages arrive: byte for byte what
 * `JSON.stringify(all, null, 2)` prints, without ever holding all of it. Each element is held
 * back until the next one (or the end) says whether it takes a comma.
 */
function jsonArrayWriter(out: (line: string) => void) {
  let pending: string | null = null;
  return {
    push(value: unknown) {
      out(pending === null ? "[" : `${pending},`);
      pending = JSON.stringify(value, null, 2).replace(/^/gm, "  ");
    },
    end() {
      if (pending === null) {
        out("[]");
        return;
      }
      out(pending);
      out("]");
    },
  };
}

/** `kanban list`: promotes what became ready first, like the dispatcher would, then lists page by page. */
export async function runList(deps: Deps, opts: ListOptions): Promise<number> {
  const client = await deps.client();
  if (opts.mine && deps.config.profile === null)
    throw new UsageError("--mine needs KANBAN_PROFILE (the profile you run as)");
  try {
    await client.tasks.recompute.mutate(boardArg(deps));
  } catch (err) {
    // A tenant-scoped token may list but not promote board-wide; the listing is still useful.
    if (errorCode(err) !== "FORBIDDEN") throw err;
  }
  const filter: ListFilter = {
    ...boardArg(deps),
    assignee: opts.mine ? deps.config.profile : (opts.assignee ?? null),
    status: opts.status ?? null,
    tenant: opts.tenant ?? null,
    session_id: opts.session ?? null,
    include_archived: opts.archived ?? opts.status === "archived",
    order_by: opts.sort ?? null,
    workflow_template_id: opts.workflowTemplateId ?? null,
    current_step_key: opts.stepKey ?? null,
  };
  const pages = taskPages(client, filter, opts.limit ?? Number.POSITIVE_INFINITY);
  if (opts.json) {
    const json = jsonArrayWriter(deps.io.out);
    for await (const tasks of pages) {
      for (const t of tasks) json.push(taskDict(t));
      // A slow reader must slow the listing down: otherwise every page waits in memory.
      await deps.io.drained?.();
    }
    json.end();
    return 0;
  }
  try {
    const { boards, current } = await client.boards.list.query({});
    if (boards.length > 1) {
      const slug = deps.config.board ?? current;
      const others = boards.filter((b) => b.slug !== slug).map((b) => b.slug);
      deps.io.out(
        `Board: ${slug} (${others.length} other board${others.length === 1 ? "" : "s"} — ${others.join(", ")})`,
      );
    }
  } catch (err) {
    if (errorCode(err) !== "FORBIDDEN") throw err;
  }
  let listed = 0;
  for await (const tasks of pages) {
    for (const t of tasks) deps.io.out(taskLine(t));
    listed += tasks.length;
    await deps.io.drained?.();
  }
  if (listed === 0) deps.io.out("(no matching tasks)");
  return 0;
}

function runLine(r: Run): string {
  const elapsed = r.ended_at === null ? "active" : formatElapsed(r.ended_at - r.started_at);
  return `#${r.id} ${r.outcome ?? r.status} @${r.profile ?? "-"} ${elapsed} ${formatTime(r.started_at)}`;
}

function indent(text: string, prefix = "  "): string[] {
  return text.split("\n").map((l) => `${prefix}${l}`.trimEnd());
}

/** Where `max-retries` comes from: the task, the home config, or the built-in default (2). */
function retriesLine(task: { max_retries: number | null }, failureLimit: number | null): string {
  if (task.max_retries !== null) return `${task.max_retries} (task)`;
  if (failureLimit !== null && failureLimit !== 2) return `${failureLimit} (config kanban.failure_limit)`;
  return "2 (default)";
}

export function showText(d: TaskDetail, failureLimit: number | null): string[] {
  const t = d.task;
  const lines: string[] = [`${statusIcon(t.status)} ${t.id}  ${t.title}`];
  const field = (name: string, value: string) => lines.push(`  ${`${name}:`.padEnd(13)}${value}`);
  field("status", t.status);
  field("assignee", t.assignee ?? "(unassigned)");
  if (t.tenant) field("tenant", t.tenant);
  field("workspace", `${t.workspace_kind} @ ${t.workspace_path ?? "(unresolved)"}`);
  if (t.branch_name) field("branch", t.branch_name);
  if (t.skills.length > 0) field("skills", t.skills.join(", "));
  if (t.model_override) field("model", t.model_override);
  field("priority", String(t.priority));
  field("max-retries", retriesLine(t, failureLimit));
  field("created", `${formatTime(t.created_at)} by ${t.created_by ?? "-"}`);
  if (t.started_at !== null) field("started", formatTime(t.started_at));
  if (t.completed_at !== null) field("completed", formatTime(t.completed_at));
  if (d.diagnostics.length > 0) {
    lines.push("", "Diagnostics:");
    for (const g of d.diagnostics) {
      lines.push(`  [${g.severity}] ${g.kind}: ${g.title}`);
      if (g.detail) lines.push(...indent(g.detail, "      "));
    }
  }
  const linked = (title: string, list: TaskDetail["links"]["parents"]) => {
    if (list.length === 0) return;
    lines.push("", `${title}:`);
    for (const p of list) lines.push(`  ${statusIcon(p.status)} ${p.id}  ${p.status.padEnd(8)}  ${p.title}`);
  };
  linked("Parents", d.links.parents);
  linked("Children", d.links.children);
  if (t.body) lines.push("", "Body:", ...indent(t.body));
  if (t.result) lines.push("", "Result:", ...indent(t.result));
  else if (t.latest_summary) lines.push("", "Latest summary:", ...indent(t.latest_summary));
  if (d.comments.length > 0) {
    lines.push("", "Comments:");
    for (const c of d.comments) {
      lines.push(`  [${formatTime(c.created_at)}] ${c.author}:`);
      lines.push(...indent(c.body, "    "));
    }
  }
  if (d.events.length > 0) {
    const last = d.events.slice(-20);
    lines.push("", `Events (last ${last.length} of ${d.events.length}):`);
    for (const e of last) lines.push(`  [${formatTime(e.created_at)}] ${e.kind} ${payloadText(e.payload)}`.trimEnd());
  }
  if (d.runs.length > 0) {
    lines.push("", "Runs:");
    for (const r of d.runs) {
      lines.push(`  ${runLine(r)}`);
      if (r.summary) lines.push(`    → ${r.summary.split("\n")[0]}`);
      if (r.error) lines.push(`    ! ${r.error.split("\n")[0]}`);
    }
  }
  return lines;
}

/** The `--json` document of `kanban show` (Hermes' shape). */
export function showJson(d: TaskDetail) {
  return {
    task: taskDict(d.task),
    latest_summary: d.task.latest_summary ?? null,
    parents: d.links.parents.map((p) => p.id),
    children: d.links.children.map((c) => c.id),
    comments: d.comments.map((c) => ({ author: c.author, body: c.body, created_at: c.created_at })),
    events: d.events.map((e) => ({ kind: e.kind, payload: e.payload, created_at: e.created_at, run_id: e.run_id })),
    runs: d.runs.map(runDict),
  };
}

function runDict(r: Run) {
  return {
    id: r.id,
    profile: r.profile,
    step_key: r.step_key,
    status: r.status,
    outcome: r.outcome,
    summary: r.summary,
    error: r.error,
    metadata: r.metadata,
    worker_pid: r.worker_pid,
    started_at: r.started_at,
    ended_at: r.ended_at,
  };
}

export async function runShow(deps: Deps, id: string, opts: { json?: boolean }): Promise<number> {
  const client = await deps.client();
  const got = await withTask(id, () => client.tasks.get.query({ ...boardArg(deps), id }));
  // The drawer's detail holds the newest comments of a long discussion; `show` prints them all, as Hermes does.
  const detail =
    got.comments_total > got.comments.length
      ? { ...got, comments: (await client.comments.list.query({ ...boardArg(deps), task_id: id })).comments }
      : got;
  if (opts.json) {
    deps.io.out(toJson(showJson(detail)));
    return 0;
  }
  let failureLimit: number | null = null;
  try {
    failureLimit = (await client.config.get.query()).failure_limit;
  } catch {
    failureLimit = null;
  }
  for (const line of showText(detail, failureLimit)) deps.io.out(line);
  return 0;
}

export async function runContext(deps: Deps, id: string): Promise<number> {
  const client = await deps.client();
  const res = await withTask(id, () => client.tasks.context.query({ ...boardArg(deps), id }));
  deps.io.out(res.context.replace(/\n+$/, ""));
  return 0;
}

export async function runRuns(deps: Deps, id: string, opts: { json?: boolean }): Promise<number> {
  const client = await deps.client();
  const { runs } = await withTask(id, () => client.runs.list.query({ ...boardArg(deps), task_id: id }));
  if (opts.json) {
    deps.io.out(
      toJson(
        runs.map((r) => ({
          id: r.id,
          profile: r.profile,
          status: r.status,
          outcome: r.outcome,
          started_at: r.started_at,
          ended_at: r.ended_at,
          summary: r.summary,
          error: r.error,
          metadata: r.metadata,
          worker_pid: r.worker_pid,
          step_key: r.step_key,
        })),
      ),
    );
    return 0;
  }
  if (runs.length === 0) {
    deps.io.out(`(no runs for ${id})`);
    return 0;
  }
  const now = Math.floor(Date.now() / 1000);
  const rows = [["#", "OUTCOME", "PROFILE", "ELAPSED", "STARTED"]];
  for (const r of runs) {
    rows.push([
      String(r.id),
      r.outcome ?? r.status,
      r.profile ?? "-",
      formatElapsed((r.ended_at ?? now) - r.started_at),
      formatTime(r.started_at),
    ]);
  }
  const rendered = table(rows);
  deps.io.out(rendered[0] ?? "");
  runs.forEach((r, i) => {
    deps.io.out(rendered[i + 1] ?? "");
    if (r.summary) deps.io.out(`    → ${r.summary.split("\n")[0]}`);
    if (r.error) deps.io.out(`    ✖ ${r.error.split("\n")[0]}`);
  });
  return 0;
}

export async function runLog(deps: Deps, id: string, opts: { tail?: number }): Promise<number> {
  const client = await deps.client();
  const res = await withTask(id, () =>
    client.tasks.log.query({ ...boardArg(deps), id, ...(opts.tail !== undefined ? { tail: opts.tail } : {}) }),
  );
  if (!res.exists) throw new CliFailure(`(no log for ${id} — task may not have spawned yet)`);
  deps.io.out(res.content.replace(/\n$/, ""));
  return 0;
}

export const registerRead: Register = (program, act) => {
  program
    .command("list")
    .alias("ls")
    .summary("list tasks")
    .description("List tasks (promoting any whose parents are done first). Archived tasks only with --archived.")
    .option("--mine", "only tasks assigned to your profile (KANBAN_PROFILE)")
    .option("--assignee <profile>", "only this assignee's tasks")
    .option("--status <status>", `one of ${TASK_STATUSES.join(", ")}`, choiceArg(TASK_STATUSES))
    .option("--tenant <name>", "only this tenant's tasks")
    .option("--session <id>", "only tasks created from this chat session")
    .option("--archived", "include archived tasks")
    .option("--sort <order>", LIST_SORTS.join(" | "), choiceArg(LIST_SORTS))
    .option("--workflow-template-id <id>", "only tasks of this workflow template")
    .option("--step-key <key>", "only tasks at this workflow step")
    .option("--limit <n>", "at most N tasks (default: all, fetched page by page)", intArg(1))
    .option("--json", "print a JSON array of tasks (streamed as the pages arrive)")
    .action(act((deps, opts: ListOptions) => runList(deps, opts)));

  program
    .command("show")
    .summary("show a task with its diagnostics, links, comments, events and runs")
    .argument("<task_id>")
    .option("--json", "print the task, latest summary, parents, children, comments, events and runs as JSON")
    .action(act((deps, id: string, opts: { json?: boolean }) => runShow(deps, id, opts)));

  program
    .command("context")
    .summary("print the context a worker reads before it starts")
    .argument("<task_id>")
    .action(act((deps, id: string) => runContext(deps, id)));

  program
    .command("runs")
    .summary("list a task's attempts")
    .argument("<task_id>")
    .option("--json", "print the runs as JSON")
    .action(act((deps, id: string, opts: { json?: boolean }) => runRuns(deps, id, opts)));

  program
    .command("log")
    .summary("print a task's worker log")
    .argument("<task_id>")
    .option("--tail <bytes>", "only the last N bytes", intArg(1))
    .action(act((deps, id: string, opts: { tail?: number }) => runLog(deps, id, opts)));
};
