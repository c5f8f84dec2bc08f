import { latestEventId } from "../../activity.ts";
import { BOARD_COLUMNS, TASK_STATUSES } from "../../constants.ts";
import type { BoardContext } from "../../context.ts";
import {
  boardDiagnostics,
  type Diagnostic,
  SEVERITY_RANK,
  type Severity,
  summariseDiagnostics,
  type TaskDiagnostics,
} from "../../diagnostics.ts";
import { invalid } from "../../errors.ts";
import { motionsOf } from "../../motion/explain.ts";
import type { CardMotion, HostFacts } from "../../motion/types.ts";
import { requiresOf } from "./requires.ts";
import { tenantScopeNamedSql } from "./sql-fragments.ts";
import { type TaskAge, taskAge } from "../../stats.ts";
import type { Task, TaskWarnings } from "../../types.ts";

// The board view's reads (moved from the API's queries/board-view.ts as they were): the whole board
// in a fixed number of statements, one column page, and the per-card extras. The API only scopes
// and serves them; all of their SQL lives here.

/** A task as the API sends it: skills always an array, warnings filled by the caller, the labels it requires. */
export type TaskDto = Omit<Task, "skills"> & { skills: string[]; warnings: TaskWarnings | null; requires: string[] };

/** Columns left to right; `archived` only when asked for. */
export const COLUMN_NAMES = BOARD_COLUMNS;
/** Columns that grow without bound and are therefore paged on the server. */
export const PAGED_COLUMNS = ["done", "archived"] as const;
export const CARD_SUMMARY_CHARS = 200;
export const DEFAULT_DONE_LIMIT = 100;
/** Active columns show this many cards at first; a column with more continues with `board.column`. */
export const DEFAULT_COLUMN_LIMIT = 250;

const KNOWN = `(${TASK_STATUSES.map((s) => `'${s}'`).join(", ")})`;
/** A status this version does not know (written by a newer Hermes) is shown in `todo`, never lost. */
export const BUCKET = `CASE WHEN t.status IN ${KNOWN} THEN t.status ELSE 'todo' END`;
const DONE_SORT = "coalesce(t.completed_at, t.created_at)";

export interface BoardFilter {
  tenant?: string | null;
  assignee?: string | null;
  search?: string | null;
  workflow_template_id?: string | null;
  current_step_key?: string | null;
  include_archived?: boolean;
}

export interface CardExtras {
  /**
   * When the current attempt of a running task started (its run's start); null otherwise.
   * `started_at` stays the task's column, its first claim, as Hermes prints it.
   */
  run_started_at: number | null;
  age: TaskAge | null;
  latest_summary: string | null;
  link_counts: { parents: number; children: number };
  comment_count: number;
  /** Children done / all children; null for a task without children. */
  progress: { done: number; total: number } | null;
  diagnostics: Diagnostic[];
  /** The card badge: a summary of `diagnostics`; null when there are none. */
  warnings: TaskWarnings | null;
  /**
   * Why the card is not moving (`code`, one `line`: the motion `tasks.why` explains in full); null
   * while it moves on its own or once it is finished. Present when the read was given host facts.
   */
  motion?: CardMotion;
}

export type BoardCard = Omit<TaskDto, "warnings"> & CardExtras;

export interface BoardColumn {
  name: string;
  tasks: BoardCard[];
  /** Every task of the column that matches the filters (the page may show fewer). */
  total: number;
  /** Where `board.column` continues; null when the column is complete. */
  next_cursor: string | null;
}

/** A card's DTO from a freshly read task, without the intermediate copies of taskDto. */
export function cardDto(task: Task): TaskDto {
  const t = task as unknown as TaskDto;
  t.skills ??= [];
  t.warnings = null;
  t.requires = []; // filled by decorate
  return t;
}

export function whereClause(f: BoardFilter, alias = "t"): { sql: string; args: unknown[] } {
  const where: string[] = [];
  const args: unknown[] = [];
  if (!f.include_archived) where.push(`${alias}.status != 'archived'`);
  if (f.tenant) {
    where.push(`${alias}.tenant = ?`);
    args.push(f.tenant);
  }
  if (f.assignee) {
    where.push(`${alias}.assignee = ?`);
    args.push(f.assignee.trim().toLowerCase());
  }
  if (f.workflow_template_id) {
    where.push(`${alias}.workflow_template_id = ?`);
    args.push(f.workflow_template_id);
  }
  if (f.current_step_key) {
    where.push(`${alias}.current_step_key = ?`);
    args.push(f.current_step_key);
  }
  if (f.search?.trim()) {
    const like = `%${f.search
      .trim()
      .toLowerCase()
      .replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    const cols = ["id", "title", "body", "result", "assignee", "tenant"].map(
      (c) => `lower(COALESCE(${alias}.${c}, '')) LIKE ? ESCAPE '\\'`,
    );
    where.push(`(${cols.join(" OR ")})`);
    for (let i = 0; i < cols.length; i++) args.push(like);
  }
  return { sql: where.length > 0 ? `WHERE ${where.join(" AND ")}` : "", args };
}

// --- cursors: opaque to clients, keyset underneath (stable while cards are added or moved) ---

type CursorKey = (string | number)[];

function encodeCursor(key: CursorKey): string {
  return Buffer.from(JSON.stringify(key)).toString("base64url");
}

function decodeCursor(cursor: string, shape: ("n" | "s")[]): CursorKey {
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    key = null;
  }
  const ok =
    Array.isArray(key) &&
    key.length === shape.length &&
    key.every((v, i) => (shape[i] === "n" ? typeof v === "number" && Number.isFinite(v) : typeof v === "string"));
  if (!ok) throw invalid("invalid cursor");
  return key as CursorKey;
}

function isPaged(column: string): boolean {
  return (PAGED_COLUMNS as readonly string[]).includes(column);
}

function cursorOf(
  column: string,
  t: { priority: number; created_at: number; completed_at: number | null; id: string },
): string {
  return isPaged(column)
    ? encodeCursor([t.completed_at ?? t.created_at, t.id])
    : encodeCursor([t.priority, t.created_at, t.id]);
}

/** Active columns: most important first, then oldest. Done/archived: most recently finished first. */
export function compareCards(column: string) {
  if (isPaged(column)) {
    return (a: TaskDto, b: TaskDto) =>
      (b.completed_at ?? b.created_at) - (a.completed_at ?? a.created_at) || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
  }
  return (a: TaskDto, b: TaskDto) =>
    b.priority - a.priority || a.created_at - b.created_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

// --- per-card extras: a fixed number of set-based queries, whatever the number of cards ---

// Only the other ends inside the caller's scope count: a tenant's card must not learn (even as a number)
// that the operator linked it to another tenant's task.
const LINK_COUNTS_SQL = `SELECT id, SUM(parents) AS parents, SUM(children) AS children, SUM(children_done) AS children_done FROM (
    SELECT l.child_id AS id, 1 AS parents, 0 AS children, 0 AS children_done
      FROM task_links l JOIN tasks p ON p.id = l.parent_id
      WHERE l.child_id IN (SELECT value FROM json_each(:ids)) AND ${tenantScopeNamedSql("p")}
    UNION ALL
    SELECT l.parent_id, 0, 1, CASE WHEN c.status = 'done' THEN 1 ELSE 0 END
      FROM task_links l JOIN tasks c ON c.id = l.child_id
      WHERE l.parent_id IN (SELECT value FROM json_each(:ids)) AND ${tenantScopeNamedSql("c")}
  ) GROUP BY id`;

const COMMENT_COUNTS_SQL = `SELECT task_id, COUNT(*) AS n FROM task_comments
  WHERE task_id IN (SELECT value FROM json_each(?)) GROUP BY task_id`;

/** Newest non-empty run summary per task (window function); `:chars` caps its length (NULL = whole). */
const LATEST_SUMMARIES_SQL = `SELECT task_id, CASE WHEN :chars IS NULL THEN summary ELSE substr(summary, 1, :chars) END AS summary FROM (
    SELECT task_id, summary, ROW_NUMBER() OVER (PARTITION BY task_id ORDER BY COALESCE(ended_at, started_at) DESC, id DESC) AS rn
    FROM task_runs WHERE task_id IN (SELECT value FROM json_each(:ids)) AND summary IS NOT NULL AND summary != ''
  ) WHERE rn = 1`;

const RUN_STARTS_SQL = "SELECT id, started_at FROM task_runs WHERE id IN (SELECT value FROM json_each(?))";

/** What the diagnostics of a read are judged against (`Board` fills both from its policy). */
export interface DiagnosticsJudging {
  /** The breaker limit `repeated_failures` fires at (default 2). */
  failureLimit?: number;
  /** The profiles this host can spawn: a ready card assigned to anyone else is flagged at once. */
  knownProfiles?: readonly string[] | null;
  /** Told each time the read runs the diagnostics engine. */
  onDiagnosticsRun?: () => void;
}

export interface DecorateOptions extends DiagnosticsJudging {
  now: number;
  /** Cards cut the latest summary to 200 characters; the detail view shows it whole (null). */
  summaryChars: number | null;
  /** Diagnostics already computed (the board view's one run); otherwise one run confined to these tasks. */
  diagnostics?: Map<string, Diagnostic[]>;
  /** The caller's tenant: link counts and progress count only linked tasks of it (null = every tenant). */
  scopeTenant?: string | null;
}

export async function diagnosticsByTask(
  ctx: BoardContext,
  failureLimit: number | undefined,
  taskId?: string,
  knownProfiles?: readonly string[] | null,
  onRun?: () => void,
  taskIds?: readonly string[],
): Promise<Map<string, Diagnostic[]>> {
  return new Map(
    (await boardDiagnostics(ctx, { failureLimit, taskId, taskIds, knownProfiles, onRun })).map((d) => [
      d.task_id,
      d.diagnostics,
    ]),
  );
}

/**
 * Adds age, summary, link/comment counts, progress and diagnostics to tasks, in constant queries.
 * The given DTOs become the cards (they are changed in place).
 */
export async function decorate(ctx: BoardContext, tasks: TaskDto[], opts: DecorateOptions): Promise<BoardCard[]> {
  if (tasks.length === 0) return [];
  const ids = JSON.stringify(tasks.map((t) => t.id));
  const links = new Map(
    (
      (await ctx.all(LINK_COUNTS_SQL, { ids, tenant: opts.scopeTenant ?? null })) as {
        id: string;
        parents: number;
        children: number;
        children_done: number;
      }[]
    ).map((r) => [r.id, r]),
  );
  const comments = new Map(
    ((await ctx.all(COMMENT_COUNTS_SQL, ids)) as { task_id: string; n: number }[]).map((r) => [r.task_id, r.n]),
  );
  const summaries = new Map(
    (
      (await ctx.all(LATEST_SUMMARIES_SQL, { ids, chars: opts.summaryChars })) as { task_id: string; summary: string }[]
    ).map((r) => [r.task_id, r.summary]),
  );
  const requires = await requiresOf(
    ctx,
    tasks.map((t) => t.id),
  );
  const runIds = tasks.filter((t) => t.status === "running" && t.current_run_id !== null).map((t) => t.current_run_id);
  const runStarts = new Map(
    ((await ctx.all(RUN_STARTS_SQL, JSON.stringify(runIds))) as { id: number; started_at: number }[]).map((r) => [
      r.id,
      r.started_at,
    ]),
  );
  const diagnostics =
    opts.diagnostics ??
    (await diagnosticsByTask(
      ctx,
      opts.failureLimit,
      undefined,
      opts.knownProfiles,
      opts.onDiagnosticsRun,
      tasks.map((t) => t.id),
    ));
  // Cards are decorated in place: every caller hands over DTOs it built for this response, and on a
  // board of thousands of cards each extra copy of a 40-field object shows in board.get's latency.
  return tasks.map((t) => {
    const l = links.get(t.id);
    const diags = diagnostics.get(t.id) ?? [];
    // A running card's age counts from when the current attempt started, not the task's first claim.
    const runStarted =
      t.status === "running" && t.current_run_id !== null ? (runStarts.get(t.current_run_id) ?? null) : null;
    const started = runStarted ?? t.started_at;
    let age: TaskAge | null;
    try {
      age = taskAge({ created_at: t.created_at, started_at: started, completed_at: t.completed_at }, opts.now);
    } catch {
      age = null; // an odd legacy timestamp must never take the whole board down
    }
    const card = t as unknown as BoardCard;
    card.run_started_at = runStarted;
    card.age = age;
    card.latest_summary = summaries.get(t.id) ?? null;
    card.link_counts = { parents: l?.parents ?? 0, children: l?.children ?? 0 };
    card.comment_count = comments.get(t.id) ?? 0;
    card.progress = l && l.children > 0 ? { done: l.children_done, total: l.children } : null;
    card.diagnostics = diags;
    card.warnings = summariseDiagnostics(diags);
    card.requires = requires.get(t.id) ?? [];
    return card;
  });
}

// Distinct values by skip-scan: each step seeks the next value in the index (idx_tasks_tenant,
// idx_tasks_assignee_status), so the cost follows the number of tenants/assignees, not of tasks
// (SELECT DISTINCT read all 100,000 index entries of a big board on every board read).
const DISTINCT_TENANTS_SQL = `WITH RECURSIVE d(tenant) AS (
    SELECT MIN(tenant) FROM tasks WHERE tenant > ''
    UNION ALL
    SELECT (SELECT MIN(tenant) FROM tasks WHERE tenant > d.tenant) FROM d WHERE d.tenant IS NOT NULL
  ) SELECT tenant FROM d WHERE tenant IS NOT NULL`;

const DISTINCT_ASSIGNEES_SQL = `WITH RECURSIVE d(assignee) AS (
    SELECT MIN(assignee) FROM tasks WHERE assignee > ''
    UNION ALL
    SELECT (SELECT MIN(assignee) FROM tasks WHERE assignee > d.assignee) FROM d WHERE d.assignee IS NOT NULL
  ) SELECT assignee FROM d WHERE assignee IS NOT NULL
    AND EXISTS (SELECT 1 FROM tasks t WHERE t.assignee = d.assignee AND t.status != 'archived' AND (:tenant IS NULL OR t.tenant = :tenant))`;

/** The filter dropdowns' lists: the whole board's tenants and assignees, narrowed only for a tenant-scoped caller. */
export async function filterLists(
  ctx: BoardContext,
  scopeTenant: string | null | undefined,
): Promise<{ tenants: string[]; assignees: string[] }> {
  const tenants = scopeTenant
    ? [scopeTenant]
    : ((await ctx.all(DISTINCT_TENANTS_SQL)) as { tenant: string }[]).map((r) => r.tenant);
  const assignees = (
    (await ctx.all(DISTINCT_ASSIGNEES_SQL, { tenant: scopeTenant ?? null })) as { assignee: string }[]
  ).map((r) => r.assignee);
  return { tenants, assignees };
}

/**
 * How many flagged tasks the board view lists. A refresh every few seconds must stay cheap whatever
 * the board: 2,000 flagged tasks with every diagnostic in full made board.get ~3 MB; the strip shows
 * the worst and `diagnostics.list` has them all, on demand.
 */
export const ATTENTION_LIMIT = 100;

/** One flagged task as the attention strip shows it: what is worst about it, not every diagnostic. */
export interface AttentionRow {
  task_id: string;
  title: string;
  status: string;
  assignee: string | null;
  /** The worst diagnostic's severity. */
  severity: Severity;
  /** The worst diagnostic's title. */
  reason: string;
  /** How many diagnostics the task has. */
  count: number;
  /** The newest `last_seen_at` of its diagnostics. */
  latest_at: number;
}

/** The worst diagnostic: highest severity, then the most recently seen; the first of equals. */
function worstOf(diagnostics: readonly Diagnostic[]): Diagnostic | undefined {
  let worst: Diagnostic | undefined;
  for (const d of diagnostics) {
    if (
      !worst ||
      SEVERITY_RANK[d.severity] > SEVERITY_RANK[worst.severity] ||
      (d.severity === worst.severity && d.last_seen_at > worst.last_seen_at)
    ) {
      worst = d;
    }
  }
  return worst;
}

/**
 * The first `limit` flagged tasks as compact rows, in the order given: `boardDiagnostics`' worst
 * first (severity, then newest, then id), so the rows are the head of what `diagnostics.list` answers.
 */
export function attentionRows(flagged: readonly TaskDiagnostics[], limit = ATTENTION_LIMIT): AttentionRow[] {
  const rows: AttentionRow[] = [];
  for (const f of flagged) {
    if (rows.length >= limit) break;
    const worst = worstOf(f.diagnostics);
    if (!worst) continue; // the engine lists no task without a diagnostic; a row needs one
    let latest = worst.last_seen_at;
    for (const d of f.diagnostics) latest = Math.max(latest, d.last_seen_at);
    rows.push({
      task_id: f.task_id,
      title: f.task_title,
      status: f.task_status,
      assignee: f.task_assignee,
      severity: worst.severity,
      reason: worst.title,
      count: f.diagnostics.length,
      latest_at: latest,
    });
  }
  return rows;
}

export interface BoardView {
  board: string;
  columns: BoardColumn[];
  /** Distinct tenants on the board, whatever the filter (a tenant-scoped caller sees only its own). */
  tenants: string[];
  /** Distinct assignees of non-archived tasks, whatever the filter. */
  assignees: string[];
  /**
   * The worst flagged tasks the caller may see, at most {@link ATTENTION_LIMIT}, as compact rows in
   * `diagnostics.list`'s order (whatever the filters): the attention strip, from the same run of the
   * engine as the cards' badges. The full diagnostics stay on the cards and in `diagnostics.list`.
   */
  attention: AttentionRow[];
  /** How many tasks the caller may see are flagged (`diagnostics.list`'s count); may exceed the rows. */
  attention_total: number;
  /** Where a live subscription opened now should start. */
  latest_event_id: number;
  now: number;
}

/** The cards' motion lines, in the fixed number of statements of motionsOf, whatever the number of cards. */
export async function addMotion(
  ctx: BoardContext,
  cards: BoardCard[],
  facts: HostFacts | undefined,
  scopeTenant: string | null | undefined,
): Promise<void> {
  if (facts === undefined) return;
  const live = cards.filter((c) => c.status !== "done" && c.status !== "archived");
  // The cards already know when their current attempt started (run_started_at): no second read.
  const runStarts = new Map<number, number>();
  for (const c of live)
    if (c.current_run_id !== null && c.run_started_at !== null) runStarts.set(c.current_run_id, c.run_started_at);
  const motions = await motionsOf(
    ctx,
    live as unknown as Task[],
    facts,
    { tenant: scopeTenant ?? null },
    { runStarts },
  );
  for (const card of cards) {
    const m = motions.get(card.id);
    card.motion = m && !m.moving ? { code: m.code, line: m.line } : null;
  }
}

export interface BoardViewOptions extends DiagnosticsJudging {
  /** The host's facts for the cards' `motion` (absent: cards carry no motion). */
  motionFacts?: HostFacts;
  doneLimit: number;
  columnLimit: number;
  scopeTenant: string | null;
}

export interface ColumnPageOptions extends DiagnosticsJudging {
  /** The host's facts for the cards' `motion` (absent: cards carry no motion). */
  motionFacts?: HostFacts;
  cursor?: string | null;
  limit: number;
  /** The caller's tenant, for the cards' link counts (null or absent = every tenant). */
  scopeTenant?: string | null;
}

/** How many tasks each column holds under the filters (the status index answers it), and each status's count. */
export async function columnTotals(
  ctx: BoardContext,
  filter: BoardFilter,
): Promise<{ byStatus: { status: string; n: number }[]; totals: Map<string, number> }> {
  const { sql: where, args } = whereClause(filter);
  const byStatus = (await ctx.all(
    `SELECT t.status AS status, COUNT(*) AS n FROM tasks t ${where} GROUP BY t.status`,
    ...args,
  )) as { status: string; n: number }[];
  const known = new Set<string>([...COLUMN_NAMES, "archived"]);
  const totals = new Map<string, number>();
  for (const { status, n } of byStatus) {
    // A status written by a newer Hermes is shown in todo, never lost.
    const bucket = known.has(status) ? status : "todo";
    totals.set(bucket, (totals.get(bucket) ?? 0) + Number(n));
  }
  return { byStatus, totals };
}

/**
 * The whole board in a fixed number of queries: one windowed read of the tasks (done and archived
 * cut to `doneLimit`, active ones to `columnLimit`, every column counted), the card extras, tenants, assignees,
 * the attention rows and the newest event id. Nothing here runs once per task, and the diagnostics
 * engine runs once: its board-wide result badges the cards and gives the attention rows and total.
 */
export async function boardView(
  ctx: BoardContext,
  slug: string,
  filter: BoardFilter,
  opts: BoardViewOptions,
): Promise<BoardView> {
  const now = ctx.now();
  const { sql: where, args } = whereClause(filter);
  // Counts first (the status index answers them), then each non-empty column as its first page:
  // active columns by priority then age (up to `columnLimit`, idx_tasks_status_priority), done and
  // archived newest-finished first (up to `doneLimit`, idx_tasks_status_finished). `board.column`
  // pages on. Card bodies are cut: the drawer loads the full text.
  const { byStatus, totals } = await columnTotals(ctx, filter);
  const cols = "t.*, substr(t.body, 1, 280) AS body";
  const and = where ? `${where} AND` : "WHERE";
  // The big columns name their partial index (migration 0001): the planner would otherwise pick the
  // plain status index and sort the whole column.
  const byPriority = "ORDER BY t.priority DESC, t.created_at ASC, t.id ASC LIMIT ?"; // the same order as board.column cursors
  const byFinish = `ORDER BY ${DONE_SORT} DESC, t.id DESC LIMIT ?`;
  const page = async (status: string): Promise<Task[]> => {
    if (status === "ready") {
      return await ctx.tasks(
        `SELECT ${cols} FROM tasks t INDEXED BY idx_tasks_ready_priority ${and} t.status = 'ready' ${byPriority}`,
        ...args,
        opts.columnLimit,
      );
    }
    if (status === "done" || status === "archived") {
      const index = status === "done" ? "idx_tasks_done_recent" : "idx_tasks_archived_recent";
      return await ctx.tasks(
        `SELECT ${cols} FROM tasks t INDEXED BY ${index} ${and} t.status = '${status}' ${byFinish}`,
        ...args,
        opts.doneLimit,
      );
    }
    return await ctx.tasks(
      `SELECT ${cols} FROM tasks t ${and} t.status = ? ${byPriority}`,
      ...args,
      status,
      opts.columnLimit,
    );
  };
  const names: string[] = [...COLUMN_NAMES, ...(filter.include_archived ? ["archived"] : [])];
  const byColumn = new Map<string, TaskDto[]>(names.map((n) => [n, []]));
  const pages: Task[] = [];
  for (const { status } of byStatus) pages.push(...(await page(status)));
  for (const task of pages) {
    const bucket = byColumn.has(task.status) ? task.status : "todo"; // a status from a newer Hermes shows in todo, never lost
    byColumn.get(bucket)?.push(cardDto(task));
  }
  const all = [...byColumn.values()].flat();
  // A scoped caller's cards are all its tenant's, so confining the run to the tenant loses nothing.
  const flagged = await boardDiagnostics(ctx, {
    failureLimit: opts.failureLimit,
    knownProfiles: opts.knownProfiles,
    tenant: opts.scopeTenant,
    onRun: opts.onDiagnosticsRun,
  });
  const cards = new Map(
    (
      await decorate(ctx, all, {
        now,
        summaryChars: CARD_SUMMARY_CHARS,
        diagnostics: new Map(flagged.map((d) => [d.task_id, d.diagnostics])),
        scopeTenant: opts.scopeTenant,
      })
    ).map((c) => [c.id, c]),
  );
  await addMotion(ctx, [...cards.values()], opts.motionFacts, opts.scopeTenant);
  const columns = names.map((name) => {
    const tasks = (byColumn.get(name) ?? []).sort(compareCards(name));
    const total = totals.get(name) ?? 0;
    const last = tasks[tasks.length - 1];
    return {
      name,
      tasks: tasks.map((t) => cards.get(t.id)).filter((c): c is BoardCard => c !== undefined),
      total,
      next_cursor: last && total > tasks.length ? cursorOf(name, last) : null,
    };
  });
  const { tenants, assignees } = await filterLists(ctx, opts.scopeTenant);
  return {
    board: slug,
    columns,
    tenants,
    assignees,
    attention: attentionRows(flagged),
    attention_total: flagged.length,
    latest_event_id: await latestEventId(ctx),
    now,
  };
}

/**
 * One page of one column, continuing from `cursor` (from `board.get` or a previous page), with the
 * same card extras.
 */
export async function columnPage(
  ctx: BoardContext,
  column: string,
  filter: BoardFilter,
  opts: ColumnPageOptions,
): Promise<BoardColumn> {
  const { sql: where, args } = whereClause({
    ...filter,
    include_archived: filter.include_archived || column === "archived",
  });
  const base = `FROM tasks t ${where}${where ? " AND" : "WHERE"} ${BUCKET} = ?`;
  const baseArgs = [...args, column];
  const total = Number(((await ctx.get(`SELECT COUNT(*) AS n ${base}`, ...baseArgs)) as { n: number }).n);
  let keyset = "";
  let keyArgs: unknown[] = [];
  if (opts.cursor) {
    if (isPaged(column)) {
      const [at, id] = decodeCursor(opts.cursor, ["n", "s"]);
      keyset = ` AND (${DONE_SORT} < ? OR (${DONE_SORT} = ? AND t.id < ?))`;
      keyArgs = [at, at, id];
    } else {
      const [priority, created, id] = decodeCursor(opts.cursor, ["n", "n", "s"]);
      keyset = " AND (t.priority < ? OR (t.priority = ? AND (t.created_at > ? OR (t.created_at = ? AND t.id > ?))))";
      keyArgs = [priority, priority, created, created, id];
    }
  }
  const order = isPaged(column) ? `${DONE_SORT} DESC, t.id DESC` : "t.priority DESC, t.created_at ASC, t.id ASC";
  const rows = await ctx.tasks(
    `SELECT t.* ${base}${keyset} ORDER BY ${order} LIMIT ?`,
    ...baseArgs,
    ...keyArgs,
    opts.limit + 1,
  );
  const more = rows.length > opts.limit;
  const tasks = rows.slice(0, opts.limit).map(cardDto);
  // The engine runs for this page's cards only, not for the board a second time.
  const cards = await decorate(ctx, tasks, {
    now: ctx.now(),
    failureLimit: opts.failureLimit,
    summaryChars: CARD_SUMMARY_CHARS,
    knownProfiles: opts.knownProfiles,
    onDiagnosticsRun: opts.onDiagnosticsRun,
    scopeTenant: opts.scopeTenant,
  });
  await addMotion(ctx, cards, opts.motionFacts, opts.scopeTenant);
  const last = tasks[tasks.length - 1];
  return { name: column, tasks: cards, total, next_cursor: more && last ? cursorOf(column, last) : null };
}
