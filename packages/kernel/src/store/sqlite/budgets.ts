import type { SqlContext } from "./session.ts";

// Budgets (`kanban_budgets`, migration 0007/0008): the rows, the spend each limits (read from
// `kanban_usage`, never kept twice) and the cards of a scope that a budget pauses or resumes.

export type BudgetScope = "card" | "board" | "profile" | "tenant";

/** A `kanban_budgets` row as the kernel reads it; `tenant` '' is the operator's. */
export interface BudgetRow {
  id: number;
  scope: BudgetScope;
  scope_key: string;
  tenant: string;
  limit_micro_usd: number;
  warn_percent: number;
  allowance_micro_usd: number;
  allowance_period: number | null;
  warned_period: number | null;
  updated_at: number;
}

const COLUMNS =
  "id, scope, scope_key, tenant, limit_micro_usd, warn_percent, allowance_micro_usd, allowance_period, warned_period, updated_at";

function num(v: unknown): number {
  return typeof v === "number" ? v : Number(v);
}

function numOrNull(v: unknown): number | null {
  return v === null || v === undefined ? null : num(v);
}

function fromRaw(r: Record<string, unknown>): BudgetRow {
  return {
    ...(r as unknown as BudgetRow),
    id: num(r.id),
    limit_micro_usd: num(r.limit_micro_usd),
    warn_percent: num(r.warn_percent),
    allowance_micro_usd: num(r.allowance_micro_usd),
    allowance_period: numOrNull(r.allowance_period),
    warned_period: numOrNull(r.warned_period),
    updated_at: num(r.updated_at),
  };
}

/** Every budget, or one owner's (`tenant` given: '' the operator's, else that tenant's), in a stable order. */
export async function budgetRows(ctx: SqlContext, tenant: string | null): Promise<BudgetRow[]> {
  const order = " ORDER BY scope, scope_key, tenant";
  const rows = (await (tenant === null
    ? ctx.all(`SELECT ${COLUMNS} FROM kanban_budgets${order}`)
    : ctx.all(`SELECT ${COLUMNS} FROM kanban_budgets WHERE tenant = ?${order}`, tenant))) as Record<string, unknown>[];
  return rows.map(fromRaw);
}

export async function budgetRow(
  ctx: SqlContext,
  scope: BudgetScope,
  key: string,
  tenant: string,
): Promise<BudgetRow | null> {
  const r = (await ctx.get(
    `SELECT ${COLUMNS} FROM kanban_budgets WHERE scope = ? AND scope_key = ? AND tenant = ?`,
    scope,
    key,
    tenant,
  )) as Record<string, unknown> | undefined;
  return r ? fromRaw(r) : null;
}

/**
 * Sets a budget's limit and warning share, creating it when it is new. A new limit is a new
 * decision: the period's warning may be recorded again, and an earlier allowance stays.
 */
export async function upsertBudget(
  ctx: SqlContext,
  b: {
    scope: BudgetScope;
    scope_key: string;
    tenant: string;
    limit_micro_usd: number;
    warn_percent: number;
    now: number;
  },
): Promise<void> {
  await ctx.run(
    `INSERT INTO kanban_budgets (scope, scope_key, tenant, limit_micro_usd, warn_percent, updated_at)
     VALUES (:scope, :scope_key, :tenant, :limit_micro_usd, :warn_percent, :now)
     ON CONFLICT (scope, scope_key, tenant) DO UPDATE SET limit_micro_usd = excluded.limit_micro_usd,
       warn_percent = excluded.warn_percent, warned_period = NULL, updated_at = excluded.updated_at`,
    b,
  );
}

export async function deleteBudget(ctx: SqlContext, id: number): Promise<boolean> {
  return (await ctx.run("DELETE FROM kanban_budgets WHERE id = ?", id)).changes > 0;
}

export async function setAllowance(
  ctx: SqlContext,
  id: number,
  allowance: number,
  period: number,
  now: number,
): Promise<void> {
  await ctx.run(
    "UPDATE kanban_budgets SET allowance_micro_usd = ?, allowance_period = ?, updated_at = ? WHERE id = ?",
    allowance,
    period,
    now,
    id,
  );
}

export async function markWarned(ctx: SqlContext, id: number, period: number): Promise<void> {
  await ctx.run("UPDATE kanban_budgets SET warned_period = ? WHERE id = ?", period, id);
}

/** The card and every card below it (the links form a DAG; UNION stops on a diamond or a cycle). */
const SUBTREE =
  "WITH RECURSIVE subtree(id) AS (SELECT id FROM tasks WHERE id = :key UNION SELECT l.child_id FROM task_links l JOIN subtree s ON l.parent_id = s.id) ";

/**
 * What a budget counts, as a WHERE over `alias`'s columns (`task_id` or `id`, `profile`/`assignee`,
 * `tenant`): a card's subtree, a profile, a tenant, or the board; a tenant's budget only its own.
 */
function scopeWhere(b: Pick<BudgetRow, "scope" | "tenant">, idCol: string, profileCol: string): string[] {
  const where: string[] = [];
  if (b.scope === "card") where.push(`${idCol} IN (SELECT id FROM subtree)`);
  if (b.scope === "profile") where.push(`${profileCol} = :key`);
  if (b.scope === "tenant") where.push("tenant = :key");
  if (b.tenant !== "") where.push("tenant = :tenant");
  return where;
}

/** The micro-dollars spent in a budget's scope since `since` (null: ever). Unpriced reports add nothing. */
export async function budgetSpend(
  ctx: SqlContext,
  b: Pick<BudgetRow, "scope" | "scope_key" | "tenant">,
  since: number | null,
): Promise<number> {
  const where = scopeWhere(b, "task_id", "profile");
  if (since !== null) where.push("reported_at >= :since");
  const args: Record<string, unknown> = {};
  if (b.scope !== "board") args.key = b.scope_key;
  if (b.tenant !== "") args.tenant = b.tenant;
  if (since !== null) args.since = since;
  const sql = `${b.scope === "card" ? SUBTREE : ""}SELECT COALESCE(SUM(cost_micro_usd), 0) AS spent FROM kanban_usage${
    where.length > 0 ? ` WHERE ${where.join(" AND ")}` : ""
  }`;
  const row = (await (Object.keys(args).length > 0 ? ctx.get(sql, args) : ctx.get(sql))) as { spent: unknown };
  return num(row?.spent ?? 0);
}

/**
 * The ids of a budget's cards in one state: `running` (to pause) or blocked by a budget (to resume),
 * oldest first.
 */
export async function budgetScopeTaskIds(
  ctx: SqlContext,
  b: Pick<BudgetRow, "scope" | "scope_key" | "tenant">,
  state: "running" | "budget_blocked",
): Promise<string[]> {
  const where = scopeWhere(b, "id", "assignee");
  where.push(state === "running" ? "status = 'running'" : "status = 'blocked' AND block_kind = 'budget'");
  const args: Record<string, unknown> = {};
  if (b.scope !== "board") args.key = b.scope_key;
  if (b.tenant !== "") args.tenant = b.tenant;
  const sql = `${b.scope === "card" ? SUBTREE : ""}SELECT id FROM tasks WHERE ${where.join(" AND ")} ORDER BY created_at, id`;
  const rows = (await (Object.keys(args).length > 0 ? ctx.all(sql, args) : ctx.all(sql))) as { id: string }[];
  return rows.map((r) => r.id);
}

/** The card and every card above it: the card budgets that count its spend. */
export async function taskAndAncestors(ctx: SqlContext, id: string): Promise<string[]> {
  const rows = (await ctx.all(
    "WITH RECURSIVE up(id) AS (SELECT id FROM tasks WHERE id = :id UNION SELECT l.parent_id FROM task_links l JOIN up u ON l.child_id = u.id) SELECT id FROM up",
    { id },
  )) as { id: string }[];
  return rows.map((r) => r.id);
}

/** Cards a budget paused (blocked with kind `budget`), to re-judge once budgets may have room again. */
export async function budgetBlockedTasks(
  ctx: SqlContext,
): Promise<{ id: string; assignee: string | null; tenant: string | null }[]> {
  return (await ctx.all(
    "SELECT id, assignee, tenant FROM tasks WHERE status = 'blocked' AND block_kind = 'budget' ORDER BY created_at, id",
  )) as { id: string; assignee: string | null; tenant: string | null }[];
}

/** Whether the board has any budget at all (the claim walk reads nothing more when it has none). */
export async function anyBudget(ctx: SqlContext): Promise<boolean> {
  return (await ctx.get("SELECT 1 AS one FROM kanban_budgets LIMIT 1")) !== undefined;
}
