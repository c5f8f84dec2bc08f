import type { SqlContext } from "./session.ts";

// Usage reports (`kanban_usage`, migration 0006/0007): one row per report of a worker's run, and
// the sums the roll-ups read. Money is whole micro-dollars everywhere; SUM over integers is exact
// on both engines (PostgreSQL answers a bigint SUM as numeric, read back here as a number).

/** A `kanban_usage` row as the kernel reads it. */
export interface UsageRow {
  id: number;
  task_id: string;
  run_id: number | null;
  profile: string | null;
  model: string | null;
  tokens_in: number;
  tokens_out: number;
  cache_read: number;
  cache_write: number;
  cost_micro_usd: number | null;
  cost_source: "worker" | "price_table" | null;
  via: string;
  tenant: string | null;
  reported_at: number;
}

export type NewUsageRow = Omit<UsageRow, "id">;

const COLUMNS =
  "id, task_id, run_id, profile, model, tokens_in, tokens_out, cache_read, cache_write, cost_micro_usd, cost_source, via, tenant, reported_at";

function num(v: unknown): number {
  return typeof v === "number" ? v : Number(v);
}

function numOrNull(v: unknown): number | null {
  return v === null || v === undefined ? null : num(v);
}

function fromRaw(r: Record<string, unknown>): UsageRow {
  return {
    ...(r as unknown as UsageRow),
    id: num(r.id),
    run_id: numOrNull(r.run_id),
    tokens_in: num(r.tokens_in),
    tokens_out: num(r.tokens_out),
    cache_read: num(r.cache_read),
    cache_write: num(r.cache_write),
    cost_micro_usd: numOrNull(r.cost_micro_usd),
    reported_at: num(r.reported_at),
  };
}

export async function insertUsage(ctx: SqlContext, u: NewUsageRow): Promise<UsageRow> {
  const id = await ctx.insert(
    `INSERT INTO kanban_usage (task_id, run_id, profile, model, tokens_in, tokens_out, cache_read, cache_write, cost_micro_usd, cost_source, via, tenant, reported_at)
     VALUES (:task_id, :run_id, :profile, :model, :tokens_in, :tokens_out, :cache_read, :cache_write, :cost_micro_usd, :cost_source, :via, :tenant, :reported_at)`,
    u,
  );
  return { id, ...u };
}

/** Every report of one task, oldest first. */
export async function usageRowsOfTask(ctx: SqlContext, taskId: string): Promise<UsageRow[]> {
  const rows = (await ctx.all(`SELECT ${COLUMNS} FROM kanban_usage WHERE task_id = ? ORDER BY id`, taskId)) as Record<
    string,
    unknown
  >[];
  return rows.map(fromRaw);
}

export type UsageGroupBy = "run" | "task" | "profile" | "model" | "tenant" | "day" | "board";

/** The sums of one group. `unpriced`: reports whose cost nobody knew (they add tokens, not money). */
export interface UsageSums {
  key: string | number | null;
  reports: number;
  tokens_in: number;
  tokens_out: number;
  cache_read: number;
  cache_write: number;
  cost_micro_usd: number;
  unpriced: number;
}

export interface UsageQuery {
  by: UsageGroupBy;
  /** Only reports at or after this time (unix seconds). */
  since: number | null;
  /** Only this tenant's reports (null: every tenant, the operator). */
  tenant: string | null;
  /** Only this task's reports and its descendants' (through task_links). */
  task_id: string | null;
}

/** The grouping expression of each roll-up; a day is the UTC day number (seconds / 86400). */
const GROUP_KEY: Record<Exclude<UsageGroupBy, "board">, string> = {
  run: "run_id",
  task: "task_id",
  profile: "profile",
  model: "model",
  tenant: "tenant",
  day: "reported_at / 86400",
};

/**
 * The roll-up of the reports that match `q`, one row per group (one row in all for `board`). The
 * SQL text varies only with which filters are present, so each variant is one cached statement.
 */
export async function usageSums(ctx: SqlContext, q: UsageQuery): Promise<UsageSums[]> {
  const where: string[] = [];
  const args: Record<string, unknown> = {};
  // The task and every card below it: the links form a DAG, and UNION (not UNION ALL) stops on
  // a diamond as well as on any cycle a hand-edited board might hold.
  const subtree =
    q.task_id === null
      ? ""
      : "WITH RECURSIVE subtree(id) AS (SELECT id FROM tasks WHERE id = :task_id UNION SELECT l.child_id FROM task_links l JOIN subtree s ON l.parent_id = s.id) ";
  if (q.task_id !== null) {
    where.push("task_id IN (SELECT id FROM subtree)");
    args.task_id = q.task_id;
  }
  if (q.since !== null) {
    where.push("reported_at >= :since");
    args.since = q.since;
  }
  if (q.tenant !== null) {
    where.push("tenant = :tenant");
    args.tenant = q.tenant;
  }
  const key = q.by === "board" ? null : GROUP_KEY[q.by];
  const sql = `${subtree}SELECT ${key ?? "NULL"} AS key, COUNT(*) AS reports, COALESCE(SUM(tokens_in), 0) AS tokens_in,
      COALESCE(SUM(tokens_out), 0) AS tokens_out, COALESCE(SUM(cache_read), 0) AS cache_read,
      COALESCE(SUM(cache_write), 0) AS cache_write, COALESCE(SUM(cost_micro_usd), 0) AS cost_micro_usd,
      COALESCE(SUM(CASE WHEN cost_micro_usd IS NULL THEN 1 ELSE 0 END), 0) AS unpriced
    FROM kanban_usage${where.length > 0 ? ` WHERE ${where.join(" AND ")}` : ""}${key === null ? "" : ` GROUP BY ${key}`}`;
  const rows = (await (Object.keys(args).length > 0 ? ctx.all(sql, args) : ctx.all(sql))) as Record<string, unknown>[];
  return rows.map((r) => ({
    key: r.key === null || r.key === undefined ? null : typeof r.key === "string" ? r.key : num(r.key),
    reports: num(r.reports),
    tokens_in: num(r.tokens_in),
    tokens_out: num(r.tokens_out),
    cache_read: num(r.cache_read),
    cache_write: num(r.cache_write),
    cost_micro_usd: num(r.cost_micro_usd),
    unpriced: num(r.unpriced),
  }));
}
