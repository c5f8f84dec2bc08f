import type { BoardContext } from "./context.ts";
import { notFound } from "./errors.ts";
import { commentCount, newestComments } from "./store/sqlite/comments.ts";
import { doneParentTasks } from "./store/sqlite/links.ts";
import {
  closedRunCount,
  newestClosedRuns,
  newestCompletedParentRuns,
  recentCompletedWork,
} from "./store/sqlite/run-reads.ts";
import { tenantScope } from "./tenant-scope.ts";
import type { Task, TaskComment, TaskRun } from "./types.ts";

/**
 * Size limits of the worker context, in characters. The per-field caps are the ones workers are
 * told about; the per-section budgets exist because the fields multiply (10 attempts, 30 comments,
 * any number of parents) and the whole text must leave the worker's prompt room for the work.
 */
export const WORKER_CONTEXT_LIMITS = {
  headerValueChars: 300,
  bodyChars: 8 * 1024,
  priorAttempts: 10,
  attemptSummaryChars: 4 * 1024,
  attemptErrorChars: 1024,
  metadataChars: 1024,
  attemptsSectionChars: 24 * 1024,
  parentSummaryChars: 4 * 1024,
  parentsSectionChars: 12 * 1024,
  omittedIdsListed: 20,
  recentWork: 5,
  recentWorkLineChars: 200,
  comments: 30,
  commentAuthorChars: 100,
  commentBodyChars: 2 * 1024,
  commentsSectionChars: 12 * 1024,
  totalChars: 64 * 1024,
} as const;

/** Cuts `text` to `max` characters and says how much was dropped, so a reader knows it is partial. */
export function clipText(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = max;
  // Never keep half of a surrogate pair: it would render as a replacement character.
  const last = text.charCodeAt(cut - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut -= 1;
  return `${text.slice(0, cut)}… [truncated, ${text.length - cut} chars omitted]`;
}

/** `just now`, `Nm ago`, `Nh ago` or `Nd ago`; clock skew (a future time) reads as `just now`. */
export function relativeAge(then: number, now: number): string {
  const delta = Math.floor(now - then);
  if (!(delta >= 60)) return "just now";
  if (delta < 3600) return `${Math.floor(delta / 60)}m ago`;
  if (delta < 86_400) return `${Math.floor(delta / 3600)}h ago`;
  return `${Math.floor(delta / 86_400)}d ago`;
}

/** `YYYY-MM-DD HH:MM UTC`. Workers run on many hosts, so the context never uses a local zone. */
export function utcStamp(seconds: number): string {
  const date = new Date(seconds * 1000);
  if (Number.isNaN(date.getTime())) return String(seconds);
  const iso = date.toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

/**
 * Folds line breaks into spaces. Values that land on a heading or header line must stay on it,
 * or a title could forge a `## Section` of its own.
 */
function oneLine(text: string, max: number): string {
  return clipText(text.replace(/\s+/g, " ").trim(), max);
}

function firstLine(text: string, max: number): string {
  const line = text.split("\n").find((l) => l.trim() !== "") ?? "";
  const trimmed = line.trim();
  return trimmed.length <= max ? trimmed : `${trimmed.slice(0, max - 1)}…`;
}

function sortKeysDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeysDeep);
  if (value !== null && typeof value === "object") {
    const source = value as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(source).sort()) out[key] = sortKeysDeep(source[key]);
    return out;
  }
  return value;
}

/** Sorted keys make the line stable between renders, so a worker can compare two attempts by eye. */
function metadataLine(metadata: Record<string, unknown> | null): string | null {
  if (!metadata || Object.keys(metadata).length === 0) return null;
  return `_metadata_: \`${clipText(JSON.stringify(sortKeysDeep(metadata)), WORKER_CONTEXT_LIMITS.metadataChars)}\``;
}

function hasText(value: string | null): value is string {
  return value !== null && value.trim() !== "";
}

/**
 * Keeps whole blocks, newest first, while they fit in `budget` (the newest always fits: every
 * block is itself capped). Returns them oldest first, as they are read.
 */
function newestWithinBudget(blocksNewestFirst: string[], budget: number): string[] {
  const kept: string[] = [];
  let used = 0;
  for (const block of blocksNewestFirst) {
    if (kept.length > 0 && used + block.length > budget) break;
    kept.push(block);
    used += block.length;
  }
  return kept.reverse();
}

function headerSection(task: Task): string {
  const cap = WORKER_CONTEXT_LIMITS.headerValueChars;
  const lines = [
    `# Kanban task ${task.id}: ${oneLine(task.title, cap)}`,
    "",
    `Assignee: ${task.assignee ? oneLine(task.assignee, cap) : "(unassigned)"}`,
    `Status:   ${task.status}`,
  ];
  if (hasText(task.tenant)) lines.push(`Tenant:   ${oneLine(task.tenant, cap)}`);
  lines.push(
    `Workspace: ${task.workspace_kind} @ ${hasText(task.workspace_path) ? oneLine(task.workspace_path, cap) : "(unresolved)"}`,
  );
  if (task.max_runtime_seconds) lines.push(`Max runtime: ${task.max_runtime_seconds}s`);
  if (hasText(task.branch_name)) lines.push(`Branch:   ${oneLine(task.branch_name, cap)}`);
  return lines.join("\n");
}

function bodySection(task: Task): string {
  const body = hasText(task.body) ? clipText(task.body.trim(), WORKER_CONTEXT_LIMITS.bodyChars) : "(no body)";
  return `## Body\n\n${body}`;
}

function attemptBlock(run: TaskRun, attemptNumber: number, now: number): string {
  const when = run.ended_at ?? run.started_at;
  const profile = run.profile ? oneLine(run.profile, WORKER_CONTEXT_LIMITS.headerValueChars) : "no profile";
  const lines = [
    `### Attempt ${attemptNumber} — ${run.outcome ?? run.status} (${profile}, ${utcStamp(when)}, ${relativeAge(when, now)})`,
    "",
  ];
  lines.push(
    hasText(run.summary)
      ? clipText(run.summary.trim(), WORKER_CONTEXT_LIMITS.attemptSummaryChars)
      : "(no summary recorded)",
  );
  const extras: string[] = [];
  if (hasText(run.error))
    extras.push(`_error_: ${clipText(run.error.trim(), WORKER_CONTEXT_LIMITS.attemptErrorChars)}`);
  const meta = metadataLine(run.metadata);
  if (meta) extras.push(meta);
  if (extras.length > 0) lines.push("", ...extras);
  return lines.join("\n");
}

async function priorAttemptsSection(ctx: BoardContext, taskId: string, now: number): Promise<string | null> {
  const total = await closedRunCount(ctx, taskId);
  if (total === 0) return null;
  const newestFirst = await newestClosedRuns(ctx, taskId, WORKER_CONTEXT_LIMITS.priorAttempts);
  const blocks = newestFirst.map((run, i) => attemptBlock(run, total - i, now));
  const kept = newestWithinBudget(blocks, WORKER_CONTEXT_LIMITS.attemptsSectionChars);
  const parts = ["## Prior attempts on this task"];
  const omitted = total - kept.length;
  if (omitted > 0) parts.push(`_(${omitted} earlier attempts omitted; showing most recent ${kept.length})_`);
  parts.push(...kept);
  return parts.join("\n\n");
}

interface ParentResult {
  task: Task;
  run: TaskRun | null;
}

/**
 * The child's done parents within its tenant. A link may cross tenants (the operator can make one),
 * but a tenant's worker must not read another tenant's handoff, just as `tasks.get` hides such a
 * parent from a tenant's token.
 */
async function doneParents(ctx: BoardContext, task: Task): Promise<ParentResult[]> {
  const parents = await doneParentTasks(ctx, task.id, tenantScope(task.tenant));
  if (parents.length === 0) return [];
  // One query for every parent's newest completed run, rather than one query per parent.
  const runs = await newestCompletedParentRuns(ctx, task.id);
  const byTask = new Map(runs.map((r) => [r.task_id, r]));
  return parents.map((task) => ({ task, run: byTask.get(task.id) ?? null }));
}

function parentBlock({ task, run }: ParentResult, now: number): string {
  const completedAt = task.completed_at ?? run?.ended_at ?? null;
  const when = completedAt === null ? "completed" : `completed ${relativeAge(completedAt, now)}`;
  let handoff = "(no result recorded)";
  if (run && hasText(run.summary)) handoff = run.summary.trim();
  else if (hasText(task.result)) handoff = task.result.trim();
  const lines = [`### ${task.id} (${when})`, "", clipText(handoff, WORKER_CONTEXT_LIMITS.parentSummaryChars)];
  const meta = metadataLine(run?.metadata ?? null);
  if (meta) lines.push("", meta);
  return lines.join("\n");
}

async function parentResultsSection(ctx: BoardContext, task: Task, now: number): Promise<string | null> {
  const parents = await doneParents(ctx, task);
  if (parents.length === 0) return null;
  const parts = [
    "## Parent task results",
    "_Each handoff below was written when that parent finished. It describes the parent at that moment; files, branches and facts may have moved on since, so verify before relying on them._",
  ];
  // Parents keep id order, so the budget drops the ones at the end rather than the newest.
  let used = 0;
  let shown = 0;
  for (const parent of parents) {
    const block = parentBlock(parent, now);
    if (shown > 0 && used + block.length > WORKER_CONTEXT_LIMITS.parentsSectionChars) break;
    parts.push(block);
    used += block.length;
    shown++;
  }
  const rest = parents.slice(shown).map((p) => p.task.id);
  if (rest.length > 0) {
    const listed = rest.slice(0, WORKER_CONTEXT_LIMITS.omittedIdsListed).join(", ");
    const more = rest.length > WORKER_CONTEXT_LIMITS.omittedIdsListed ? ", …" : "";
    parts.push(`_(${rest.length} more done parents not shown to keep this context short: ${listed}${more})_`);
  }
  return parts.join("\n\n");
}

/** The assignee's latest completed work elsewhere, within the task's tenant (profiles serve many tenants). */
async function recentWorkSection(ctx: BoardContext, task: Task): Promise<string | null> {
  if (!hasText(task.assignee)) return null;
  const rows = await recentCompletedWork(
    ctx,
    task.assignee,
    task.id,
    tenantScope(task.tenant),
    WORKER_CONTEXT_LIMITS.recentWork,
  );
  if (rows.length === 0) return null;
  const max = WORKER_CONTEXT_LIMITS.recentWorkLineChars;
  const lines = rows.map((r) => {
    const text = hasText(r.summary) ? r.summary : hasText(r.result) ? r.result : "(no summary)";
    return `- ${r.task_id} — ${oneLine(r.title, max)} (${utcStamp(r.finished_at)}): ${firstLine(text, max)}`;
  });
  return [
    `## Recent work by @${oneLine(task.assignee, WORKER_CONTEXT_LIMITS.headerValueChars)}`,
    lines.join("\n"),
  ].join("\n\n");
}

/**
 * Comment authors are free text chosen by whoever commented. Backticks would let an author close
 * the code span and pose as the system, and line breaks would let it start a fake line.
 */
function safeAuthor(author: string): string {
  const cleaned = oneLine(author.replace(/`/g, ""), WORKER_CONTEXT_LIMITS.commentAuthorChars);
  return cleaned === "" ? "unknown" : cleaned;
}

function commentBlock(comment: TaskComment): string {
  const header = `comment from worker \`${safeAuthor(comment.author)}\` at ${utcStamp(comment.created_at)}:`;
  return `${header}\n${clipText(comment.body.trim(), WORKER_CONTEXT_LIMITS.commentBodyChars)}`;
}

async function commentsSection(ctx: BoardContext, taskId: string): Promise<string | null> {
  const total = await commentCount(ctx, taskId);
  if (total === 0) return null;
  const newestFirst = await newestComments(ctx, taskId, WORKER_CONTEXT_LIMITS.comments);
  const kept = newestWithinBudget(newestFirst.map(commentBlock), WORKER_CONTEXT_LIMITS.commentsSectionChars);
  const parts = ["## Comment thread"];
  const omitted = total - kept.length;
  if (omitted > 0) parts.push(`_(${omitted} earlier comments omitted; showing most recent ${kept.length})_`);
  parts.push(...kept);
  return parts.join("\n\n");
}

/**
 * The markdown a worker reads before anything else: the task, what earlier attempts did, the
 * handoffs of finished parents, the assignee's recent work elsewhere and the comment thread.
 * Bounded: every field and section is capped, and the whole stays under
 * `WORKER_CONTEXT_LIMITS.totalChars` whatever the board holds.
 */
export async function buildWorkerContext(ctx: BoardContext, taskId: string): Promise<string> {
  const task = await ctx.getTask(taskId);
  if (!task) throw notFound(`task ${taskId} not found`, { task_id: taskId });
  const now = ctx.now();
  const sections = [
    headerSection(task),
    bodySection(task),
    await priorAttemptsSection(ctx, task.id, now),
    await parentResultsSection(ctx, task, now),
    await recentWorkSection(ctx, task),
    await commentsSection(ctx, task.id),
  ].filter((s): s is string => s !== null);
  const text = `${sections.join("\n\n")}\n`;
  // A safety net only: the section budgets already add up to less than the total.
  return text.length <= WORKER_CONTEXT_LIMITS.totalChars ? text : clipText(text, WORKER_CONTEXT_LIMITS.totalChars - 64);
}
