import { READY_ENTRY_KINDS } from "../../constants.ts";
import type { SqlContext } from "./session.ts";

// The flow ledger's SQL (tables `kanban_flow_*`, migration 0010/0011; see flow-ledger.ts for what
// each holds and how it follows the event log). The same text runs on both engines; numbers are
// coerced here (PostgreSQL returns bigint columns as strings).

const num = (v: unknown): number => Number(v);
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/** A run that did work (not the zero-length run a block or a manual completion records; spec §1.6). */
export const WORKED = "(r.ended_at IS NULL OR r.ended_at > r.started_at OR r.status != r.outcome)";

/** Where the ledger stands: its format, the last event it has read, and a rebuild's progress. */
export interface FlowStateRow {
  version: number;
  event_id: number;
  /** The last task id a rebuild has done ('' before the first), or null when no rebuild is under way. */
  rebuild_after: string | null;
}

export async function flowState(ctx: SqlContext): Promise<FlowStateRow | null> {
  const r = (await ctx.get("SELECT version, event_id, rebuild_after FROM kanban_flow_state WHERE id = 1")) as
    | Record<string, unknown>
    | undefined;
  if (!r) return null;
  return { version: num(r.version), event_id: num(r.event_id), rebuild_after: (r.rebuild_after as string) ?? null };
}

export async function setFlowState(ctx: SqlContext, s: FlowStateRow): Promise<void> {
  await ctx.run(
    `INSERT INTO kanban_flow_state (id, version, event_id, rebuild_after) VALUES (1, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET version = excluded.version, event_id = excluded.event_id,
         rebuild_after = excluded.rebuild_after`,
    s.version,
    s.event_id,
    s.rebuild_after,
  );
}

/** Empties the ledger (its state row aside), before a rebuild. */
export async function clearFlowLedger(ctx: SqlContext): Promise<void> {
  for (const table of ["kanban_flow_cards", "kanban_flow_hist", "kanban_flow_ready", "kanban_flow_blocks"])
    await ctx.run(`DELETE FROM ${table}`);
}

/** The newest event id (0 on a board without events). */
export async function maxEventId(ctx: SqlContext): Promise<number> {
  return num(((await ctx.get("SELECT COALESCE(MAX(id), 0) AS id FROM task_events")) as { id: unknown }).id);
}

/** The tasks events (after, upTo] are about (a deleted task's tombstone included). */
export async function tasksTouched(ctx: SqlContext, after: number, upTo: number): Promise<string[]> {
  const rows = (await ctx.all("SELECT DISTINCT task_id FROM task_events WHERE id > ? AND id <= ?", after, upTo)) as {
    task_id: string;
  }[];
  return rows.map((r) => r.task_id);
}

/**
 * Of the tasks named by events `after < id <= upTo`, taken in the order they first appear, the first
 * event of the one at (0-based) position `n`; `n` must be below their number.
 */
export async function firstEventOfNthTask(ctx: SqlContext, after: number, upTo: number, n: number): Promise<number> {
  const row = (await ctx.get(
    "SELECT min(id) AS first FROM task_events WHERE id > ? AND id <= ? GROUP BY task_id ORDER BY first LIMIT 1 OFFSET ?",
    after,
    upTo,
    n,
  )) as { first: number | string } | undefined;
  if (row === undefined) throw new Error(`fewer than ${n + 1} tasks have events in (${after}, ${upTo}]`);
  return Number(row.first);
}

/** The next `limit` task ids after `after`, in id order (a rebuild walks the board with it). */
export async function taskIdsAfter(ctx: SqlContext, after: string, limit: number): Promise<string[]> {
  const rows = (await ctx.all("SELECT id FROM tasks WHERE id > ? ORDER BY id LIMIT ?", after, limit)) as {
    id: string;
  }[];
  return rows.map((r) => r.id);
}

/** What the ledger reads of a task. */
export interface FlowTaskRow {
  id: string;
  status: string;
  tenant: string;
  created_at: number;
  started_at: number | null;
  completed_at: number;
}

export async function flowTaskRows(ctx: SqlContext, ids: readonly string[]): Promise<FlowTaskRow[]> {
  const rows = (await ctx.all(
    `SELECT id, status, COALESCE(tenant, '') AS tenant, created_at, started_at,
            COALESCE(completed_at, created_at) AS completed_at
       FROM tasks WHERE id IN (SELECT value FROM json_each(?))`,
    JSON.stringify(ids),
  )) as Record<string, unknown>[];
  return rows.map((r) => ({
    id: r.id as string,
    status: r.status as string,
    tenant: r.tenant as string,
    created_at: num(r.created_at),
    started_at: numOrNull(r.started_at),
    completed_at: num(r.completed_at),
  }));
}

/** Per task: the runs that did work, and every run's summed duration (an open run counts to now). */
export async function runTotals(
  ctx: SqlContext,
  ids: readonly string[],
): Promise<Map<string, { runs: number; running: number }>> {
  if (ids.length === 0) return new Map();
  const rows = (await ctx.all(
    `SELECT r.task_id, SUM(CASE WHEN ${WORKED} THEN 1 ELSE 0 END) AS runs,
            COALESCE(SUM(COALESCE(r.ended_at, ?) - r.started_at), 0) AS running
       FROM task_runs r WHERE r.task_id IN (SELECT value FROM json_each(?)) GROUP BY r.task_id`,
    ctx.now(),
    JSON.stringify(ids),
  )) as Record<string, unknown>[];
  return new Map(rows.map((r) => [r.task_id as string, { runs: num(r.runs), running: num(r.running) }]));
}

/** One event that starts or ends a blocked episode. */
export interface BlockEventRow {
  task_id: string;
  kind: string;
  payload: string | null;
  created_at: number;
}

/** Events that put a task into `blocked`. */
export const BLOCK_START_KINDS = ["blocked", "gave_up", "dependency_wait", "block_loop_detected"] as const;
/** Events that take a task out of `blocked` (or end it some other way). */
export const BLOCK_END_KINDS = [
  "unblocked",
  "promoted",
  "promoted_manual",
  "claimed",
  "completed",
  "status",
  "archived",
  "auto_revived",
] as const;

const quoted = (kinds: readonly string[]) => kinds.map((k) => `'${k}'`).join(", ");

/** The tasks' block starts and ends, in order per task (payloads of starts only: they name the kind). */
export async function blockEventRows(ctx: SqlContext, ids: readonly string[]): Promise<BlockEventRow[]> {
  const starts = quoted(BLOCK_START_KINDS);
  const rows = (await ctx.all(
    `SELECT task_id, kind, CASE WHEN kind IN (${starts}) THEN payload END AS payload, created_at
       FROM task_events
      WHERE task_id IN (SELECT value FROM json_each(?)) AND kind IN (${starts}, ${quoted(BLOCK_END_KINDS)})
      ORDER BY task_id, id`,
    JSON.stringify(ids),
  )) as Record<string, unknown>[];
  return rows.map((r) => ({
    task_id: r.task_id as string,
    kind: r.kind as string,
    payload: (r.payload as string | null) ?? null,
    created_at: num(r.created_at),
  }));
}

/** Event kinds after which a task is (again) in the ready lane (any status change counts here). */
export const LANE_ENTRY_KINDS = [...READY_ENTRY_KINDS, "status"] as const;

/** Per task, when it last entered the ready lane (tasks with no such event are left out). */
export async function laneEntries(ctx: SqlContext, ids: readonly string[]): Promise<Map<string, number>> {
  if (ids.length === 0) return new Map();
  const rows = (await ctx.all(
    `SELECT task_id, MAX(created_at) AS at FROM task_events
      WHERE task_id IN (SELECT value FROM json_each(?)) AND kind IN (${quoted(LANE_ENTRY_KINDS)})
      GROUP BY task_id`,
    JSON.stringify(ids),
  )) as Record<string, unknown>[];
  return new Map(rows.map((r) => [r.task_id as string, num(r.at)]));
}

/** A done card's figures as the ledger keeps them (seconds, clamped at 0; runs a count). */
export interface FlowCardRow {
  task_id: string;
  tenant: string;
  completed_at: number;
  cycle: number | null;
  lead: number;
  running: number;
  blocked: number;
  waiting: number;
  runs: number;
}

const CARD_COLUMNS = "task_id, tenant, completed_at, cycle, lead, running, blocked, waiting, runs";

function cardOf(r: Record<string, unknown>): FlowCardRow {
  return {
    task_id: r.task_id as string,
    tenant: r.tenant as string,
    completed_at: num(r.completed_at),
    cycle: numOrNull(r.cycle),
    lead: num(r.lead),
    running: num(r.running),
    blocked: num(r.blocked),
    waiting: num(r.waiting),
    runs: num(r.runs),
  };
}

export async function ledgerCards(ctx: SqlContext, ids: readonly string[]): Promise<FlowCardRow[]> {
  const rows = (await ctx.all(
    `SELECT ${CARD_COLUMNS} FROM kanban_flow_cards WHERE task_id IN (SELECT value FROM json_each(?))`,
    JSON.stringify(ids),
  )) as Record<string, unknown>[];
  return rows.map(cardOf);
}

/** Forgets what the ledger held of these tasks (cards, ready entries, episodes). */
export async function deleteLedgerRows(ctx: SqlContext, ids: readonly string[]): Promise<void> {
  const list = JSON.stringify(ids);
  for (const table of ["kanban_flow_cards", "kanban_flow_ready", "kanban_flow_blocks"])
    await ctx.run(`DELETE FROM ${table} WHERE task_id IN (SELECT value FROM json_each(?))`, list);
}

/** Rows per multi-row INSERT: few statements, well under either engine's parameter limit. */
const ROWS_PER_INSERT = 100;

async function insertMany(
  ctx: SqlContext,
  head: string,
  width: number,
  rows: readonly unknown[][],
  tail = "",
): Promise<void> {
  for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
    const chunk = rows.slice(i, i + ROWS_PER_INSERT);
    const one = `(${new Array(width).fill("?").join(", ")})`;
    await ctx.run(`${head} VALUES ${chunk.map(() => one).join(", ")}${tail}`, ...chunk.flat());
  }
}

export async function insertCards(ctx: SqlContext, cards: readonly FlowCardRow[]): Promise<void> {
  await insertMany(
    ctx,
    `INSERT INTO kanban_flow_cards (${CARD_COLUMNS})`,
    9,
    cards.map((c) => [c.task_id, c.tenant, c.completed_at, c.cycle, c.lead, c.running, c.blocked, c.waiting, c.runs]),
  );
}

export interface ReadyRow {
  task_id: string;
  tenant: string;
  ready_since: number;
}

export async function insertReady(ctx: SqlContext, rows: readonly ReadyRow[]): Promise<void> {
  await insertMany(
    ctx,
    "INSERT INTO kanban_flow_ready (task_id, tenant, ready_since)",
    3,
    rows.map((r) => [r.task_id, r.tenant, r.ready_since]),
  );
}

/** One blocked episode of a card. */
export interface EpisodeRow {
  task_id: string;
  seq: number;
  tenant: string;
  reason: string;
  started_at: number;
  ended_at: number | null;
}

export async function insertEpisodes(ctx: SqlContext, rows: readonly EpisodeRow[]): Promise<void> {
  await insertMany(
    ctx,
    "INSERT INTO kanban_flow_blocks (task_id, seq, tenant, reason, started_at, ended_at)",
    6,
    rows.map((r) => [r.task_id, r.seq, r.tenant, r.reason, r.started_at, r.ended_at]),
  );
}

/** One histogram bucket of one day and metric: how many values, their sum, the smallest and largest. */
export interface HistRow {
  day: number;
  metric: number;
  bucket: number;
  n: number;
  total: number;
  min: number;
  max: number;
}

/**
 * A change to one tenant's bucket: counts and sums to add (negative to take away); `min` and `max`
 * are the values added, or for a bucket only taken from, its range's far ends (no-ops).
 */
export interface HistDelta extends HistRow {
  tenant: string;
}

export async function applyHistDeltas(ctx: SqlContext, deltas: readonly HistDelta[]): Promise<void> {
  const h = "kanban_flow_hist";
  await insertMany(
    ctx,
    `INSERT INTO ${h} (tenant, day, metric, bucket, n, total, min_value, max_value)`,
    8,
    deltas.map((d) => [d.tenant, d.day, d.metric, d.bucket, d.n, d.total, d.min, d.max]),
    ` ON CONFLICT (tenant, day, metric, bucket) DO UPDATE SET n = ${h}.n + excluded.n,
        total = ${h}.total + excluded.total,
        min_value = CASE WHEN excluded.min_value < ${h}.min_value THEN excluded.min_value ELSE ${h}.min_value END,
        max_value = CASE WHEN excluded.max_value > ${h}.max_value THEN excluded.max_value ELSE ${h}.max_value END`,
  );
}

/** The ledger column of each metric, by metric number (flow-ledger.ts METRICS). */
export const METRIC_COLUMNS = ["cycle", "lead", "running", "blocked", "waiting", "runs"] as const;

/**
 * Counts a bucket again from the cards (after values were taken from it, its smallest or largest may
 * have gone), and drops it when it is empty.
 */
export async function recountBucket(
  ctx: SqlContext,
  key: { tenant: string; day: number; metric: number; lo: number; hi: number; bucket: number },
): Promise<void> {
  const col = METRIC_COLUMNS[key.metric];
  const r = (await ctx.get(
    `SELECT COUNT(*) AS n, COALESCE(SUM(${col}), 0) AS total, MIN(${col}) AS lo, MAX(${col}) AS hi
       FROM kanban_flow_cards
      WHERE tenant = ? AND completed_at >= ? AND completed_at < ? AND ${col} >= ? AND ${col} <= ?`,
    key.tenant,
    key.day * 86_400,
    (key.day + 1) * 86_400,
    key.lo,
    key.hi,
  )) as Record<string, unknown>;
  const where = "tenant = ? AND day = ? AND metric = ? AND bucket = ?";
  const at = [key.tenant, key.day, key.metric, key.bucket];
  if (num(r.n) === 0) await ctx.run(`DELETE FROM kanban_flow_hist WHERE ${where}`, ...at);
  else
    await ctx.run(
      `UPDATE kanban_flow_hist SET n = ?, total = ?, min_value = ?, max_value = ? WHERE ${where}`,
      num(r.n),
      num(r.total),
      num(r.lo),
      num(r.hi),
      ...at,
    );
}

// ---- reads for flow.ts ----

/** The histograms of days [firstDay, lastDay], summed over tenants unless one is named. */
export async function histRows(
  ctx: SqlContext,
  firstDay: number,
  lastDay: number,
  tenant: string | null,
): Promise<HistRow[]> {
  const rows = (await ctx.all(
    `SELECT day, metric, bucket, SUM(n) AS n, SUM(total) AS total, MIN(min_value) AS lo, MAX(max_value) AS hi
       FROM kanban_flow_hist WHERE day >= ? AND day <= ?${tenant === null ? "" : " AND tenant = ?"}
      GROUP BY day, metric, bucket`,
    ...(tenant === null ? [firstDay, lastDay] : [firstDay, lastDay, tenant]),
  )) as Record<string, unknown>[];
  return rows.map((r) => ({
    day: num(r.day),
    metric: num(r.metric),
    bucket: num(r.bucket),
    n: num(r.n),
    total: num(r.total),
    min: num(r.lo),
    max: num(r.hi),
  }));
}

/** The earliest and latest completion among the cards done in [from, to) (nulls when none). */
export async function completionSpan(
  ctx: SqlContext,
  from: number,
  to: number,
  tenant: string | null,
): Promise<{ first: number | null; last: number | null }> {
  // Two single-aggregate reads: each is one step down the completion index, where MIN and MAX
  // together would scan the range.
  const t = tenant === null ? "" : " AND tenant = ?";
  const args = tenant === null ? [from, to] : [from, to, tenant];
  const first = (await ctx.get(
    `SELECT MIN(completed_at) AS v FROM kanban_flow_cards WHERE completed_at >= ? AND completed_at < ?${t}`,
    ...args,
  )) as { v: unknown };
  const last = (await ctx.get(
    `SELECT MAX(completed_at) AS v FROM kanban_flow_cards WHERE completed_at >= ? AND completed_at < ?${t}`,
    ...args,
  )) as { v: unknown };
  return { first: numOrNull(first.v), last: numOrNull(last.v) };
}

/** The cards done in [from, to). */
export async function cardsDoneIn(
  ctx: SqlContext,
  from: number,
  to: number,
  tenant: string | null,
): Promise<FlowCardRow[]> {
  const rows = (await ctx.all(
    `SELECT ${CARD_COLUMNS} FROM kanban_flow_cards
      WHERE completed_at >= ? AND completed_at < ?${tenant === null ? "" : " AND tenant = ?"}`,
    ...(tenant === null ? [from, to] : [from, to, tenant]),
  )) as Record<string, unknown>[];
  return rows.map(cardOf);
}

/** How many cards are ready, and when the one longest in the lane entered it. */
export async function readyCount(
  ctx: SqlContext,
  tenant: string | null,
): Promise<{ count: number; oldest: number | null }> {
  const t = tenant === null ? "" : " WHERE tenant = ?";
  const args = tenant === null ? [] : [tenant];
  const c = (await ctx.get(`SELECT COUNT(*) AS n FROM kanban_flow_ready${t}`, ...args)) as { n: unknown };
  const o = (await ctx.get(`SELECT MIN(ready_since) AS v FROM kanban_flow_ready${t}`, ...args)) as { v: unknown };
  return { count: num(c.n), oldest: numOrNull(o.v) };
}

/** The `rank`-th most recent lane entry (1 = the newest): the ready card with the rank-th shortest wait. */
export async function readySinceAtRank(ctx: SqlContext, rank: number, tenant: string | null): Promise<number> {
  const r = (await ctx.get(
    `SELECT ready_since FROM kanban_flow_ready${tenant === null ? "" : " WHERE tenant = ?"}
      ORDER BY ready_since DESC LIMIT 1 OFFSET ?`,
    ...(tenant === null ? [rank - 1] : [tenant, rank - 1]),
  )) as { ready_since: unknown };
  return num(r.ready_since);
}

/** The blocked episodes that began in [since, until). */
export async function episodesBegunIn(
  ctx: SqlContext,
  since: number,
  until: number,
  tenant: string | null,
): Promise<{ reason: string; started_at: number; ended_at: number | null }[]> {
  const rows = (await ctx.all(
    `SELECT reason, started_at, ended_at FROM kanban_flow_blocks
      WHERE started_at >= ? AND started_at < ?${tenant === null ? "" : " AND tenant = ?"}`,
    ...(tenant === null ? [since, until] : [since, until, tenant]),
  )) as Record<string, unknown>[];
  return rows.map((r) => ({
    reason: r.reason as string,
    started_at: num(r.started_at),
    ended_at: numOrNull(r.ended_at),
  }));
}

/**
 * The cards with an episode of `reason` begun in [since, until), each once with its first such start,
 * in that order (ties by id); at most `limit`.
 */
export async function cardsBlockedFor(
  ctx: SqlContext,
  reason: string,
  since: number,
  until: number,
  tenant: string | null,
  limit: number,
): Promise<{ id: string; title: string; assignee: string | null; status: string; blocked_at: number }[]> {
  const rows = (await ctx.all(
    `SELECT t.id, t.title, t.assignee, t.status, b.first AS blocked_at
       FROM (SELECT task_id, MIN(started_at) AS first FROM kanban_flow_blocks
              WHERE reason = ? AND started_at >= ? AND started_at < ?${tenant === null ? "" : " AND tenant = ?"}
              GROUP BY task_id) b
       JOIN tasks t ON t.id = b.task_id
      ORDER BY b.first, t.id
      LIMIT ?`,
    ...(tenant === null ? [reason, since, until, limit] : [reason, since, until, tenant, limit]),
  )) as Record<string, unknown>[];
  return rows.map((r) => ({
    id: r.id as string,
    title: r.title as string,
    assignee: (r.assignee as string | null) ?? null,
    status: r.status as string,
    blocked_at: num(r.blocked_at),
  }));
}

/** Runs that ended within [since, until), counted per profile and outcome. */
export interface RunOutcomeRow {
  profile: string | null;
  outcome: string | null;
  n: number;
}

export async function runOutcomes(
  ctx: SqlContext,
  since: number,
  until: number,
  tenant: string | null,
): Promise<RunOutcomeRow[]> {
  const rows = (await ctx.all(
    `SELECT r.profile, r.outcome, COUNT(*) AS n
       FROM task_runs r
      WHERE r.ended_at >= :since AND r.ended_at < :until AND ${WORKED}
        AND (:tenant IS NULL OR r.task_id IN (SELECT id FROM tasks WHERE tenant = :tenant))
      GROUP BY r.profile, r.outcome`,
    { since, until, tenant },
  )) as Record<string, unknown>[];
  return rows.map((r) => ({
    profile: (r.profile as string) ?? null,
    outcome: (r.outcome as string) ?? null,
    n: num(r.n),
  }));
}
