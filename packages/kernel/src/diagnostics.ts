import { DEFAULT_FAILURE_LIMIT, READY_ENTRY_KINDS } from "./constants.ts";
import type { BoardContext } from "./context.ts";
import { invalid } from "./errors.ts";
import { candidateHistory, diagnosticCandidates } from "./store/sqlite/diagnostics-rows.ts";
import type { Task, TaskEvent, TaskRun, TaskWarnings } from "./types.ts";

export const SEVERITIES = ["warning", "error", "critical"] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Higher is worse; used to sort and to filter "at or above" a severity. */
export const SEVERITY_RANK: Readonly<Record<Severity, number>> = { warning: 1, error: 2, critical: 3 };

export type DiagnosticKind =
  | "hallucinated_cards"
  | "prose_phantom_refs"
  | "repeated_failures"
  | "repeated_crashes"
  | "stuck_in_blocked"
  | "stranded_in_ready";

export interface DiagnosticAction {
  kind: "reclaim" | "reassign" | "unblock" | "cli_hint" | "open_docs" | "comment";
  label: string;
  payload?: Record<string, unknown>;
  /** The one action the operator most likely wants; the UI highlights it. */
  suggested?: boolean;
}

export interface Diagnostic {
  kind: DiagnosticKind;
  severity: Severity;
  title: string;
  detail: string;
  actions: DiagnosticAction[];
  first_seen_at: number;
  last_seen_at: number;
  /** How many occurrences the diagnostic stands for (events, failures, crashes). */
  count: number;
  run_id: number | null;
  data: Record<string, unknown>;
}

export interface DiagnosticOptions {
  now: number;
  /** Consecutive failures at which `repeated_failures` fires (the dispatcher's failure limit). */
  failureLimit?: number;
  /** Trailing crashed runs at which `repeated_crashes` fires. */
  crashThreshold?: number;
  blockedStaleSeconds?: number;
  strandedThresholdSeconds?: number;
  /** The task's comments; only their times matter. */
  comments?: { created_at: number }[];
  /**
   * The profiles a worker can be spawned for on this host (config.json's, or the Hermes profiles on
   * disk). When given, a ready task assigned to anyone else is flagged at once, not after the
   * stranded threshold: no dispatcher will ever pick it up. Unknown (null/undefined): not judged.
   */
  knownProfiles?: readonly string[] | null;
  /** Told about a rule that threw; the other rules still report. */
  onRuleError?: (kind: DiagnosticKind, error: unknown) => void;
}

export const DEFAULT_CRASH_THRESHOLD = 2;
export const DEFAULT_BLOCKED_STALE_SECONDS = 24 * 3600;
export const DEFAULT_STRANDED_THRESHOLD_SECONDS = 30 * 60;

const TITLE_MAX_CHARS = 160;
const DETAIL_ERROR_MAX_CHARS = 500;

const HALLUCINATED_CARDS_KIND = "completion_blocked_hallucination";
const PHANTOM_REFS_KIND = "suspected_hallucinated_references";
/** Events after which an earlier hallucination warning no longer describes the task. */
const SUPERSEDING_KINDS = new Set(["completed", "edited"]);
const BLOCKING_KINDS = new Set(["blocked", "gave_up"]);
/** Events that put (or put back) a task in `ready`; the newest one starts the stranded clock. */
const READY_ENTRY_KIND_SET: ReadonlySet<string> = new Set(READY_ENTRY_KINDS);

/** Every event kind a rule reads; loaders need fetch no others. */
export const DIAGNOSTIC_EVENT_KINDS: readonly string[] = [
  HALLUCINATED_CARDS_KIND,
  PHANTOM_REFS_KIND,
  ...SUPERSEDING_KINDS,
  ...BLOCKING_KINDS,
  ...READY_ENTRY_KINDS,
  "status",
];

interface RuleInput {
  task: Task;
  /** Ascending by id. */
  events: TaskEvent[];
  /** Closed runs only, ascending by id. */
  closedRuns: TaskRun[];
  opts: DiagnosticOptions;
}

type Rule = (input: RuleInput) => Diagnostic | null;

function cliHint(command: string, label: string, suggested = false): DiagnosticAction {
  return { kind: "cli_hint", label, payload: { command }, ...(suggested ? { suggested } : {}) };
}

function firstLine(text: string): string {
  return (text.split("\n").find((l) => l.trim() !== "") ?? "").trim();
}

/** One line, at most 160 characters: titles lead with the error so the card says what broke. */
function titleWithError(prefix: string, error: string | null): string {
  const line = error ? firstLine(error) : "";
  const full = line === "" ? prefix : `${prefix}: ${line}`;
  return full.length <= TITLE_MAX_CHARS ? full : `${full.slice(0, TITLE_MAX_CHARS - 1)}…`;
}

function errorExcerpt(error: string): string {
  const trimmed = error.trim();
  return trimmed.length <= DETAIL_ERROR_MAX_CHARS ? trimmed : `${trimmed.slice(0, DETAIL_ERROR_MAX_CHARS)}…`;
}

/** `45m`, `3h`, `2d`: how long something has lasted. */
function duration(seconds: number): string {
  if (seconds < 3600) return `${Math.max(0, Math.floor(seconds / 60))}m`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86_400)}d`;
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

/** Warning events newer than the last completion or edit: anything older was already dealt with. */
function unsupersededEvents(events: TaskEvent[], kind: string): TaskEvent[] {
  let clearedAt = -1;
  for (const e of events) if (SUPERSEDING_KINDS.has(e.kind)) clearedAt = Math.max(clearedAt, e.id);
  return events.filter((e) => e.kind === kind && e.id > clearedAt);
}

function spanOf(events: TaskEvent[]): { first_seen_at: number; last_seen_at: number; run_id: number | null } {
  const last = events[events.length - 1];
  return {
    first_seen_at: Math.min(...events.map((e) => e.created_at)),
    last_seen_at: Math.max(...events.map((e) => e.created_at)),
    run_id: last?.run_id ?? null,
  };
}

const hallucinatedCards: Rule = ({ task, events }) => {
  const hits = unsupersededEvents(events, HALLUCINATED_CARDS_KIND);
  if (hits.length === 0) return null;
  const phantom = unique(hits.flatMap((e) => stringList(e.payload?.phantom_cards)));
  const latest = hits[hits.length - 1];
  return {
    kind: "hallucinated_cards",
    severity: "error",
    title: `Completion refused: the worker claimed ${phantom.length === 1 ? "a card that does not exist" : `${phantom.length} cards that do not exist`}`,
    detail:
      `The worker tried to complete ${task.id} naming created cards that are missing or were made by someone else` +
      `${phantom.length > 0 ? ` (${phantom.join(", ")})` : ""}. The task was left as it was; the worker should retry without them, or a person should check what was really created.`,
    actions: [
      {
        kind: "comment",
        label: "Tell the worker which cards are real",
        payload: { task_id: task.id },
        suggested: true,
      },
      cliHint(`kanban show ${task.id}`, "Inspect the refused completion"),
    ],
    ...spanOf(hits),
    count: hits.length,
    data: {
      phantom_cards: phantom,
      verified_cards: stringList(latest?.payload?.verified_cards),
      summary_preview: typeof latest?.payload?.summary_preview === "string" ? latest.payload.summary_preview : null,
    },
  };
};

const prosePhantomRefs: Rule = ({ task, events }) => {
  const hits = unsupersededEvents(events, PHANTOM_REFS_KIND);
  if (hits.length === 0) return null;
  const refs = unique(hits.flatMap((e) => stringList(e.payload?.phantom_refs)));
  return {
    kind: "prose_phantom_refs",
    severity: "warning",
    title: `Handoff mentions ${refs.length === 1 ? "a task id" : `${refs.length} task ids`} that do not exist`,
    detail:
      `The completion summary of ${task.id} refers to ${refs.length > 0 ? refs.join(", ") : "task ids"}, which are not on this board. ` +
      "The completion stands, but downstream readers may follow references to work that never happened.",
    actions: [
      cliHint(`kanban show ${task.id}`, "Read the summary", true),
      cliHint(
        `kanban edit ${task.id} --result <corrected result> --summary <corrected summary>`,
        "Correct the handoff",
      ),
    ],
    ...spanOf(hits),
    count: hits.length,
    data: { phantom_refs: refs },
  };
};

function positiveOr(value: number | undefined, fallback: number): number {
  return value !== undefined && Number.isFinite(value) && value > 0 ? value : fallback;
}

function failureActions(task: Task, outcome: string | null, profile: string | null): DiagnosticAction[] {
  const who = profile ?? task.assignee ?? "<profile>";
  const actions: DiagnosticAction[] = [];
  if (outcome === "spawn_failed") {
    actions.push(
      cliHint("kanban assignees", `Check that profile ${who} exists and that its command and credentials work`, true),
    );
    actions.push({ kind: "reassign", label: "Reassign to a working profile", payload: { task_id: task.id } });
  } else if (outcome === "timed_out" || outcome === "stale") {
    actions.push(cliHint(`kanban log ${task.id}`, "Read the worker log to see where it stalled", true));
    actions.push({ kind: "reassign", label: "Reassign to another profile", payload: { task_id: task.id } });
  } else {
    actions.push({
      kind: "reassign",
      label: "Reassign to another profile",
      payload: { task_id: task.id },
      suggested: true,
    });
    actions.push(cliHint(`kanban log ${task.id}`, "Read the worker log"));
  }
  if (task.status === "running")
    actions.push({ kind: "reclaim", label: "Release the current claim", payload: { task_id: task.id } });
  if (task.status === "blocked")
    actions.push({ kind: "unblock", label: "Unblock to retry as it is", payload: { task_id: task.id } });
  actions.push(cliHint(`kanban reassign ${task.id} <profile> --reclaim`, "Reassign from the command line"));
  return actions;
}

function failureTitle(outcome: string | null, count: number, error: string | null): string {
  if (outcome === "spawn_failed") return titleWithError(`Worker failed to spawn ${count} times in a row`, error);
  if (outcome === "timed_out") return titleWithError(`Worker timed out ${count} times in a row`, error);
  return titleWithError(`${count} consecutive failed attempts`, error);
}

function failureAdvice(outcome: string | null): string {
  if (outcome === "spawn_failed")
    return "The dispatcher could not start the worker process: the profile may be missing, its command not installed or its credentials expired.";
  if (outcome === "timed_out")
    return "The worker keeps running out of time: the task may be too large for its runtime cap, or the worker is stuck.";
  if (outcome === "crashed") return "The worker process keeps dying before it finishes.";
  return "Attempts keep ending without a result.";
}

const repeatedFailures: Rule = ({ task, closedRuns, opts }) => {
  const limit = positiveOr(opts.failureLimit, DEFAULT_FAILURE_LIMIT);
  const failures = task.consecutive_failures;
  if (failures < limit) return null;
  const lastRun = closedRuns[closedRuns.length - 1] ?? null;
  const outcome = lastRun?.outcome ?? null;
  const error = task.last_failure_error ?? lastRun?.error ?? null;
  const trailing = closedRuns.slice(-failures).filter((r) => r.outcome !== "completed");
  const lastSeen = lastRun?.ended_at ?? task.created_at;
  return {
    kind: "repeated_failures",
    severity: failures >= 2 * limit ? "critical" : "error",
    title: failureTitle(outcome, failures, error),
    detail: `${failureAdvice(outcome)} ${failures} failures in a row (limit ${limit}).${error ? ` Last error: ${errorExcerpt(error)}` : ""}`,
    actions: failureActions(task, outcome, lastRun?.profile ?? null),
    first_seen_at: Math.min(lastSeen, ...trailing.map((r) => r.ended_at ?? r.started_at)),
    last_seen_at: lastSeen,
    count: failures,
    run_id: lastRun?.id ?? null,
    data: {
      consecutive_failures: failures,
      failure_limit: limit,
      last_outcome: outcome,
      last_error: error,
      profile: lastRun?.profile ?? null,
    },
  };
};

function trailingCrashes(closedRuns: TaskRun[]): TaskRun[] {
  const streak: TaskRun[] = [];
  for (let i = closedRuns.length - 1; i >= 0; i--) {
    const run = closedRuns[i];
    if (run?.outcome !== "crashed") break;
    streak.unshift(run);
  }
  return streak;
}

const repeatedCrashes: Rule = ({ task, closedRuns, opts }) => {
  const threshold = positiveOr(opts.crashThreshold, DEFAULT_CRASH_THRESHOLD);
  const streak = trailingCrashes(closedRuns);
  const last = streak[streak.length - 1];
  const first = streak[0];
  if (streak.length < threshold || !last || !first) return null;
  const error = last.error ?? task.last_failure_error;
  return {
    kind: "repeated_crashes",
    severity: streak.length >= 2 * threshold ? "critical" : "error",
    title: titleWithError(`Worker crashed ${streak.length} times in a row`, error),
    detail: `The last ${streak.length} attempts all ended with the worker process dying.${error ? ` Last error: ${errorExcerpt(error)}` : " No error text was recorded; the worker log may say more."}`,
    actions: failureActions(task, "crashed", last.profile),
    first_seen_at: first.ended_at ?? first.started_at,
    last_seen_at: last.ended_at ?? last.started_at,
    count: streak.length,
    run_id: last.id,
    data: {
      crashes: streak.length,
      crash_threshold: threshold,
      last_error: error,
      profile: last.profile,
      run_ids: streak.map((r) => r.id),
    },
  };
};

function newestEvent(events: TaskEvent[], matches: (e: TaskEvent) => boolean): TaskEvent | null {
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i];
    if (e && matches(e)) return e;
  }
  return null;
}

const stuckInBlocked: Rule = ({ task, events, opts }) => {
  if (task.status !== "blocked") return null;
  const blockedEvent = newestEvent(
    events,
    (e) => BLOCKING_KINDS.has(e.kind) || (e.kind === "status" && e.payload?.status === "blocked"),
  );
  const since = blockedEvent?.created_at ?? task.created_at;
  const age = opts.now - since;
  const threshold = positiveOr(opts.blockedStaleSeconds, DEFAULT_BLOCKED_STALE_SECONDS);
  if (age <= threshold) return null;
  // Strictly later: `kanban block` writes its reason as a comment in the same second as the block.
  if ((opts.comments ?? []).some((c) => c.created_at > since)) return null;
  const reason = typeof blockedEvent?.payload?.reason === "string" ? blockedEvent.payload.reason : null;
  return {
    kind: "stuck_in_blocked",
    severity: "warning",
    title: `Blocked for ${duration(age)} with no reply`,
    detail: `${task.id} has waited for a person since it was blocked${reason ? ` (${reason})` : ""}, and nobody has commented since. Answer in a comment and unblock it, or archive it if it is no longer wanted.`,
    actions: [
      { kind: "unblock", label: "Unblock", payload: { task_id: task.id }, suggested: true },
      { kind: "comment", label: "Answer the worker", payload: { task_id: task.id } },
      cliHint(`kanban unblock ${task.id}`, "Unblock from the command line"),
    ],
    first_seen_at: since,
    last_seen_at: since,
    count: 1,
    run_id: blockedEvent?.run_id ?? null,
    data: { blocked_since: since, blocked_seconds: age, threshold_seconds: threshold, reason },
  };
};

function isReadyEntry(e: TaskEvent): boolean {
  return READY_ENTRY_KIND_SET.has(e.kind) || (e.kind === "status" && e.payload?.status === "ready");
}

function unknownProfile(task: Task, known: readonly string[], since: number, age: number): Diagnostic {
  const list = known.length > 0 ? known.join(", ") : "none";
  return {
    kind: "stranded_in_ready",
    severity: "error",
    title: `Assigned to @${task.assignee}, which is not a profile on this host`,
    detail: `No worker will ever be spawned for ${task.id}: the dispatcher only starts the profiles this host has (${list}). Reassign it to one of them, or create profile ${task.assignee}.`,
    actions: [
      { kind: "reassign", label: "Reassign to an existing profile", payload: { task_id: task.id }, suggested: true },
      cliHint("kanban assignees", "Check which profiles exist"),
      cliHint(`kanban reassign ${task.id} <profile>`, "Reassign from the command line"),
    ],
    first_seen_at: since,
    last_seen_at: since,
    count: 1,
    run_id: null,
    data: {
      reason: "unknown_profile",
      ready_since: since,
      age_seconds: age,
      assignee: task.assignee,
      known_profiles: [...known],
    },
  };
}

const strandedInReady: Rule = ({ task, events, opts }) => {
  if (task.status !== "ready" || task.claim_lock !== null) return null;
  // Falls back to creation so a task whose events were pruned is not invisible.
  const since = newestEvent(events, isReadyEntry)?.created_at ?? task.created_at;
  const age = opts.now - since;
  const assigned = task.assignee !== null && task.assignee.trim() !== "";
  const known = opts.knownProfiles;
  if (assigned && known && !known.includes(task.assignee as string))
    return unknownProfile(task, known, since, Math.max(0, age));
  const threshold = positiveOr(opts.strandedThresholdSeconds, DEFAULT_STRANDED_THRESHOLD_SECONDS);
  if (age <= threshold) return null;
  const base = { first_seen_at: since, last_seen_at: since, count: 1, run_id: null };
  const data = { ready_since: since, age_seconds: age, threshold_seconds: threshold, assignee: task.assignee };
  if (!assigned) {
    return {
      ...base,
      kind: "stranded_in_ready",
      severity: "warning",
      title: `Ready for ${duration(age)} but nobody is assigned`,
      detail: `${task.id} needs an assignee: the dispatcher only starts workers for tasks assigned to a profile.`,
      actions: [
        { kind: "reassign", label: "Assign a profile", payload: { task_id: task.id }, suggested: true },
        cliHint(`kanban assign ${task.id} <profile>`, "Assign from the command line"),
      ],
      data,
    };
  }
  return {
    ...base,
    kind: "stranded_in_ready",
    severity: "warning",
    title: `Ready for ${duration(age)} without being picked up by @${task.assignee}`,
    detail: `No worker has claimed ${task.id}. The dispatcher may not be running, profile ${task.assignee} may not exist on this host or may be at its concurrency cap, or a respawn guard may be holding it back.`,
    actions: [
      { kind: "reassign", label: "Reassign to another profile", payload: { task_id: task.id }, suggested: true },
      cliHint("kanban dispatch --dry-run", "See what the dispatcher would do with it"),
      cliHint("kanban assignees", "Check which profiles exist"),
    ],
    data,
  };
};

const RULES: readonly [DiagnosticKind, Rule][] = [
  ["hallucinated_cards", hallucinatedCards],
  ["prose_phantom_refs", prosePhantomRefs],
  ["repeated_failures", repeatedFailures],
  ["repeated_crashes", repeatedCrashes],
  ["stuck_in_blocked", stuckInBlocked],
  ["stranded_in_ready", strandedInReady],
];

function compareDiagnostics(a: Diagnostic, b: Diagnostic): number {
  return SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] || b.last_seen_at - a.last_seen_at;
}

/**
 * What is wrong with one task, worst first, derived only from the rows passed in (no database
 * access, no clock: `opts.now` is the time). Each rule runs on its own, so one that throws on an
 * odd payload cannot hide what the others found.
 */
export function computeTaskDiagnostics(
  task: Task,
  events: TaskEvent[],
  runs: TaskRun[],
  opts: DiagnosticOptions,
): Diagnostic[] {
  const input: RuleInput = {
    task,
    events: [...events].sort((a, b) => a.id - b.id),
    closedRuns: runs.filter((r) => r.ended_at !== null).sort((a, b) => a.id - b.id),
    opts,
  };
  const found: Diagnostic[] = [];
  for (const [kind, rule] of RULES) {
    try {
      const diagnostic = rule(input);
      if (diagnostic) found.push(diagnostic);
    } catch (error) {
      opts.onRuleError?.(kind, error);
    }
  }
  return found.sort(compareDiagnostics);
}

function highestSeverity(diagnostics: Diagnostic[]): Severity {
  let worst: Severity = "warning";
  for (const d of diagnostics) if (SEVERITY_RANK[d.severity] > SEVERITY_RANK[worst]) worst = d.severity;
  return worst;
}

/** The badge a card shows: how many diagnostics, of which kinds, the newest and the worst; null when none. */
export function summariseDiagnostics(diagnostics: Diagnostic[]): TaskWarnings | null {
  if (diagnostics.length === 0) return null;
  const kinds: Record<string, number> = {};
  for (const d of diagnostics) kinds[d.kind] = (kinds[d.kind] ?? 0) + 1;
  return {
    count: diagnostics.length,
    kinds,
    latest_at: Math.max(...diagnostics.map((d) => d.last_seen_at)),
    highest_severity: highestSeverity(diagnostics),
  };
}

export interface BoardDiagnosticsOptions {
  failureLimit?: number;
  /** Keep diagnostics at or above this severity. */
  severity?: Severity;
  taskId?: string;
  /**
   * Only these tasks (a page of a list, a column page, one task's badge): the candidates are
   * judged row by row instead of collected board-wide, so the cost follows the ids, not the board.
   */
  taskIds?: readonly string[];
  /** Only this tenant's tasks (a tenant-scoped caller's attention list). */
  tenant?: string | null;
  /** See {@link DiagnosticOptions.knownProfiles}. */
  knownProfiles?: readonly string[] | null;
  /** Told once per run of the engine (a test counts how often a read runs it). */
  onRun?: () => void;
}

export interface TaskDiagnostics {
  task_id: string;
  task_title: string;
  task_status: string;
  task_assignee: string | null;
  diagnostics: Diagnostic[];
}

/**
 * The event kinds a completion's warning is stored as; the candidate query finds them through their
 * partial index (store/sqlite/diagnostics-rows.ts, which keeps its conditions in step with the rules above).
 */
const WARNING_EVENT_KINDS: readonly string[] = [HALLUCINATED_CARDS_KIND, PHANTOM_REFS_KIND];

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}

/**
 * Worst first (the highest severity), then the most recently seen, then by id. Each task's rank and
 * newest sighting are worked out once, not in every comparison: a board with thousands of flagged
 * cards (a removed profile's ready work) sorted them on every board read and every live delta.
 */
export function worstFirst(found: TaskDiagnostics[]): TaskDiagnostics[] {
  const keyed = found.map((t) => {
    let latest = Number.NEGATIVE_INFINITY;
    for (const d of t.diagnostics) if (d.last_seen_at > latest) latest = d.last_seen_at;
    return { t, rank: SEVERITY_RANK[highestSeverity(t.diagnostics)], latest };
  });
  keyed.sort(
    (a, b) =>
      b.rank - a.rank || b.latest - a.latest || (a.t.task_id < b.t.task_id ? -1 : a.t.task_id > b.t.task_id ? 1 : 0),
  );
  return keyed.map((k) => k.t);
}

/**
 * Diagnostics of every non-archived task (or of one), worst first, then most recent. Reads the
 * board in four queries whatever its size: the candidate tasks, then their closed runs, their
 * relevant events and their newest comment.
 */
export async function boardDiagnostics(
  ctx: BoardContext,
  opts: BoardDiagnosticsOptions = {},
): Promise<TaskDiagnostics[]> {
  if (opts.severity !== undefined && !SEVERITIES.includes(opts.severity)) {
    throw invalid(`severity must be one of [${SEVERITIES.map((s) => `'${s}'`).join(", ")}]`);
  }
  if (opts.failureLimit !== undefined && !(Number.isInteger(opts.failureLimit) && opts.failureLimit >= 1)) {
    throw invalid("failure_limit must be an integer >= 1");
  }
  const failureLimit = opts.failureLimit ?? DEFAULT_FAILURE_LIMIT;
  const known = opts.knownProfiles ?? null;
  const strandedBefore = ctx.now() - DEFAULT_STRANDED_THRESHOLD_SECONDS;
  opts.onRun?.();
  const only =
    opts.taskIds !== undefined
      ? opts.taskId === undefined
        ? opts.taskIds
        : opts.taskIds.filter((id) => id === opts.taskId)
      : opts.taskId !== undefined
        ? [opts.taskId]
        : null;
  if (only !== null && only.length === 0) return [];
  const found = await diagnosticCandidates(ctx, {
    failureLimit,
    strandedBefore,
    knownProfiles: known,
    taskIds: only,
    warningKinds: WARNING_EVENT_KINDS,
  });
  const tenant = opts.tenant ?? null;
  const tasks = tenant === null ? found : found.filter((t) => t.tenant === tenant);
  if (tasks.length === 0) return [];
  const history = await candidateHistory(
    ctx,
    tasks.map((t) => t.id),
    DIAGNOSTIC_EVENT_KINDS,
  );
  const runs = groupBy(history.runs, (r) => r.task_id);
  const events = groupBy(history.events, (e) => e.task_id);
  const comments = groupBy(history.newestComments, (c) => c.task_id);
  const now = ctx.now();
  const minRank = opts.severity ? SEVERITY_RANK[opts.severity] : 0;
  const out: TaskDiagnostics[] = [];
  for (const task of tasks) {
    const diagnostics = computeTaskDiagnostics(task, events.get(task.id) ?? [], runs.get(task.id) ?? [], {
      now,
      failureLimit,
      comments: comments.get(task.id) ?? [],
      knownProfiles: known,
    }).filter((d) => SEVERITY_RANK[d.severity] >= minRank);
    if (diagnostics.length === 0) continue;
    out.push({
      task_id: task.id,
      task_title: task.title,
      task_status: task.status,
      task_assignee: task.assignee,
      diagnostics,
    });
  }
  return worstFirst(out);
}
