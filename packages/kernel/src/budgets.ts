import { blockTask, unblockTask } from "./block.ts";
import type { BoardContext } from "./context.ts";
import { invalid, KernelError, notFound } from "./errors.ts";
import {
  anyBudget,
  type BudgetRow,
  type BudgetScope,
  budgetBlockedTasks,
  budgetRow,
  budgetRows,
  budgetScopeTaskIds,
  budgetSpend,
  markWarned,
  setAllowance,
  taskAndAncestors,
  upsertBudget,
} from "./store/sqlite/budgets.ts";
import { formatMicroUsd } from "./money.ts";
import { appendEvent } from "./store/sqlite/events.ts";
import { getTask } from "./store/sqlite/tasks.ts";

// Budgets that pause (issue 21). A budget limits the spend of one scope: a card (with every card
// below it, as `kanban usage --task` counts it, so a parent's budget covers the work it was split
// into), the board, a profile or a tenant, the last three per UTC day. The spend is always read
// from `kanban_usage`, so a budget can never drift from the roll-ups people see.
//
// It is judged at each usage report (writeUsage), in the report's transaction: at the warning share
// a `budget_warning` event, once per budget and period; at the limit every running card of the scope
// is blocked with kind `budget` (its run ends, so its next heartbeat is refused and the dispatcher's
// sweep stops its process), and the claim walk starts no card of the scope (BudgetHolds). A worker
// reports at least with each heartbeat, so nothing overspends by more than one heartbeat's worth.
// "Allow N more" raises the period's allowance and resumes the cards the budget paused.

export type { BudgetScope };

export const BUDGET_SCOPES = ["card", "board", "profile", "tenant"] as const satisfies readonly BudgetScope[];

/** The key of the board's own budget (one board, one key). */
export const BOARD_KEY = "*";

const DAY = 86_400;
/** The largest limit or allowance: one million dollars, as one usage report's largest cost. */
const MAX_MICRO = 1e12;

/** A budget as people read it: its limit, this period's spend and what is left. */
export interface BudgetView {
  scope: BudgetScope;
  key: string;
  /** Whose budget it is: null for the operator's (the whole board's spend), else the tenant's own. */
  tenant: string | null;
  limit_micro_usd: number;
  warn_percent: number;
  /** "Allow N more" granted for the current period (0 when none, or granted in an earlier one). */
  allowance_micro_usd: number;
  /** The period the spend is counted over: `day` (UTC, from `period_start`) or the card's whole `life`. */
  period: "day" | "life";
  period_start: number | null;
  spent_micro_usd: number;
  /** Limit plus allowance minus spend; 0 or less when the budget is spent. */
  remaining_micro_usd: number;
  state: "ok" | "warning" | "exhausted";
  updated_at: number;
}

function periodOf(scope: BudgetScope, now: number): number {
  return scope === "card" ? 0 : Math.floor(now / DAY);
}

function sinceOf(scope: BudgetScope, now: number): number | null {
  return scope === "card" ? null : periodOf(scope, now) * DAY;
}

/** The limit in force now: the configured one plus the allowance granted for this period. */
function effectiveLimit(b: BudgetRow, now: number): number {
  return b.limit_micro_usd + (b.allowance_period === periodOf(b.scope, now) ? b.allowance_micro_usd : 0);
}

function ownerOf(tenant: string | null | undefined): string {
  return tenant?.trim() ? tenant.trim() : "";
}

/** How a budget is named in a reason or a sentence: `profile coder (today, UTC)`. */
export function budgetLabel(b: { scope: BudgetScope; key: string; tenant: string | null }): string {
  const what = b.scope === "board" ? "board" : `${b.scope} ${b.key}`;
  const whose = b.tenant ? ` of tenant ${b.tenant}` : "";
  return `${what}${whose}${b.scope === "card" ? "" : " (today, UTC)"}`;
}

async function viewOf(ctx: BoardContext, b: BudgetRow, now: number, spent?: number): Promise<BudgetView> {
  const s = spent ?? (await budgetSpend(ctx, b, sinceOf(b.scope, now)));
  const limit = effectiveLimit(b, now);
  const exhausted = s >= limit;
  return {
    scope: b.scope,
    key: b.scope_key,
    tenant: b.tenant === "" ? null : b.tenant,
    limit_micro_usd: b.limit_micro_usd,
    warn_percent: b.warn_percent,
    allowance_micro_usd: limit - b.limit_micro_usd,
    period: b.scope === "card" ? "life" : "day",
    period_start: sinceOf(b.scope, now),
    spent_micro_usd: s,
    remaining_micro_usd: limit - s,
    state: exhausted ? "exhausted" : s * 100 >= limit * b.warn_percent ? "warning" : "ok",
    updated_at: b.updated_at,
  };
}

function money(name: string, v: number): number {
  if (!Number.isSafeInteger(v) || v < 0 || v > MAX_MICRO)
    throw invalid(`${name} must be from 0 to 1,000,000 dollars in whole micro-dollars`, { field: name });
  return v;
}

/** The scope and key checked; the board's key is always `*`. */
async function scopeKey(ctx: BoardContext, scope: string, key: string | null | undefined, owner: string) {
  if (!(BUDGET_SCOPES as readonly string[]).includes(scope))
    throw invalid(`scope must be one of ${BUDGET_SCOPES.join(", ")} (got '${scope}')`, { scope });
  const s = scope as BudgetScope;
  if (s === "board") return { scope: s, key: BOARD_KEY };
  const k = key?.trim() ?? "";
  if (k === "") throw invalid(`a ${s} budget needs a key (the ${s === "card" ? "task id" : s})`, { scope: s });
  if (s === "card") {
    const task = await getTask(ctx, k);
    if (!task || (owner !== "" && task.tenant !== owner)) throw notFound(`task ${k} not found`, { task_id: k });
  }
  // A tenant's budget counts only its own spend, so a tenant budget of another tenant would count nothing.
  if (s === "tenant" && owner !== "" && k !== owner)
    throw invalid(`a tenant sets only its own tenant budget (${owner})`, { scope: s, key: k });
  return { scope: s, key: k };
}

export interface SetBudgetInput {
  scope: string;
  key?: string | null;
  limit_micro_usd: number;
  /** The warning share in whole percent (1-100); default 80, or the budget's current one. */
  warn_percent?: number | null;
}

/**
 * Sets (or creates) one budget of `tenant` (null: the operator's), then resumes what a higher limit
 * lets go on. Answers the budget as it now stands.
 */
export async function setBudget(
  ctx: BoardContext,
  input: SetBudgetInput,
  tenant: string | null,
): Promise<{ budget: BudgetView; resumed: string[] }> {
  const owner = ownerOf(tenant);
  const limit = money("limit_micro_usd", input.limit_micro_usd);
  const warn = input.warn_percent ?? null;
  if (warn !== null && (!Number.isInteger(warn) || warn < 1 || warn > 100))
    throw invalid("warn_percent must be a whole percent from 1 to 100", { field: "warn_percent" });
  return await ctx.tx(async () => {
    const { scope, key } = await scopeKey(ctx, input.scope, input.key, owner);
    const now = ctx.now();
    const existing = await budgetRow(ctx, scope, key, owner);
    await upsertBudget(ctx, {
      scope,
      scope_key: key,
      tenant: owner,
      limit_micro_usd: limit,
      warn_percent: warn ?? existing?.warn_percent ?? 80,
      now,
    });
    const row = (await budgetRow(ctx, scope, key, owner)) as BudgetRow;
    const resumed = await resumeBudgetPaused(ctx, owner);
    return { budget: await viewOf(ctx, row, now), resumed };
  });
}

/** The budgets `tenant` sees (null: the operator, every budget), with this period's spend. */
export async function listBudgets(ctx: BoardContext, tenant: string | null): Promise<BudgetView[]> {
  const rows = await budgetRows(ctx, tenant === null ? null : ownerOf(tenant));
  const now = ctx.now();
  const out: BudgetView[] = [];
  for (const r of rows) out.push(await viewOf(ctx, r, now));
  return out;
}

export interface AllowBudgetInput {
  scope: string;
  key?: string | null;
  amount_micro_usd: number;
}

/**
 * "Allow N more": raises the current period's allowance of one budget of `tenant` by the amount
 * (an allowance of an earlier day is gone; a card's lasts its life), then resumes the cards no
 * spent budget holds any more. NOT_FOUND when the budget does not exist.
 */
export async function allowBudget(
  ctx: BoardContext,
  input: AllowBudgetInput,
  tenant: string | null,
): Promise<{ budget: BudgetView; resumed: string[] }> {
  const owner = ownerOf(tenant);
  const amount = money("amount_micro_usd", input.amount_micro_usd);
  if (amount === 0) throw invalid("allow a positive amount", { field: "amount_micro_usd" });
  return await ctx.tx(async () => {
    const { scope, key } = await scopeKey(ctx, input.scope, input.key, owner);
    const row = await budgetRow(ctx, scope, key, owner);
    if (!row) throw notFound(`no ${scope} budget ${scope === "board" ? "" : `for ${key} `}is set`, { scope, key });
    const now = ctx.now();
    const period = periodOf(scope, now);
    const current = row.allowance_period === period ? row.allowance_micro_usd : 0;
    await setAllowance(ctx, row.id, money("allowance", current + amount), period, now);
    const after = (await budgetRow(ctx, scope, key, owner)) as BudgetRow;
    const resumed = await resumeBudgetPaused(ctx, owner);
    return { budget: await viewOf(ctx, after, now), resumed };
  });
}

/** What a card's scopes are: who runs it and whose it is. */
interface CardFacts {
  id: string;
  assignee: string | null;
  tenant: string | null;
}

/**
 * The budgets that count a card's spend, among `rows`: the board's, its profile's, its tenant's, and
 * the card budgets of it and every card above it; a tenant's only for that tenant's cards.
 */
async function budgetsOf(ctx: BoardContext, rows: readonly BudgetRow[], card: CardFacts): Promise<BudgetRow[]> {
  const mine = rows.filter((r) => r.tenant === "" || r.tenant === card.tenant);
  const cards = mine.some((r) => r.scope === "card") ? new Set(await taskAndAncestors(ctx, card.id)) : new Set();
  return mine.filter(
    (r) =>
      r.scope === "board" ||
      (r.scope === "profile" && r.scope_key === card.assignee) ||
      (r.scope === "tenant" && r.scope_key === card.tenant) ||
      (r.scope === "card" && cards.has(r.scope_key)),
  );
}

function pauseReason(v: BudgetView): string {
  const limit = v.limit_micro_usd + v.allowance_micro_usd;
  return `Budget ${budgetLabel(v)} is spent: ${formatMicroUsd(v.spent_micro_usd)} of ${formatMicroUsd(limit)}. Allow more: kanban budget allow ${v.scope}${v.scope === "board" ? "" : ` ${v.key}`} <usd>`;
}

/**
 * Judges every budget that counts `card`'s spend, right after one of its usage reports was written
 * (inside that transaction): a `budget_warning` on the card once per budget and period at the
 * warning share, and at the limit every running card of the spent scope blocked with kind `budget`.
 * Answers the ids it paused.
 */
export async function enforceBudgets(ctx: BoardContext, card: CardFacts): Promise<string[]> {
  if (!(await anyBudget(ctx))) return [];
  const now = ctx.now();
  const paused: string[] = [];
  for (const row of await budgetsOf(ctx, await budgetRows(ctx, null), card)) {
    const v = await viewOf(ctx, row, now);
    const period = periodOf(row.scope, now);
    if (v.state !== "ok" && row.warned_period !== period) {
      await appendEvent(ctx, card.id, "budget_warning", {
        scope: v.scope,
        key: v.key,
        tenant: v.tenant,
        spent_micro_usd: v.spent_micro_usd,
        limit_micro_usd: v.limit_micro_usd + v.allowance_micro_usd,
        warn_percent: v.warn_percent,
      });
      await markWarned(ctx, row.id, period);
    }
    if (v.state !== "exhausted") continue;
    for (const id of await budgetScopeTaskIds(ctx, row, "running")) {
      if (paused.includes(id)) continue;
      await blockTask(ctx, id, { kind: "budget", reason: pauseReason(v) });
      paused.push(id);
    }
  }
  return paused;
}

/** The spent budget that holds a ready card back (the first, in the budgets' order). */
export interface BudgetHold {
  scope: BudgetScope;
  key: string;
  tenant: string | null;
  spent_micro_usd: number;
  limit_micro_usd: number;
  /** When the hold ends by itself: the next UTC midnight for a daily budget; null for a card's. */
  until: number | null;
}

/**
 * The spent budgets, read once for a walk of the ready lane (and for `kanban why`), so that both
 * hold the same cards: a card that a spent budget counts is not started.
 */
export class BudgetHolds {
  private constructor(
    private readonly spent: readonly { row: BudgetRow; view: BudgetView }[],
    private readonly now: number,
  ) {}

  static readonly none = new BudgetHolds([], 0);

  static async read(ctx: BoardContext): Promise<BudgetHolds> {
    if (!(await anyBudget(ctx))) return BudgetHolds.none;
    const now = ctx.now();
    const spent: { row: BudgetRow; view: BudgetView }[] = [];
    for (const row of await budgetRows(ctx, null)) {
      const view = await viewOf(ctx, row, now);
      if (view.state === "exhausted") spent.push({ row, view });
    }
    return new BudgetHolds(spent, now);
  }

  get empty(): boolean {
    return this.spent.length === 0;
  }

  /** The spent budget that holds `card` (run by `assignee`, which may be the default one), or null. */
  async holding(ctx: BoardContext, card: CardFacts): Promise<BudgetHold | null> {
    if (this.spent.length === 0) return null;
    const counting = await budgetsOf(
      ctx,
      this.spent.map((s) => s.row),
      card,
    );
    const first = counting[0];
    const hit = first === undefined ? undefined : this.spent.find((s) => s.row.id === first.id);
    if (hit === undefined) return null;
    const v = hit.view;
    return {
      scope: v.scope,
      key: v.key,
      tenant: v.tenant,
      spent_micro_usd: v.spent_micro_usd,
      limit_micro_usd: v.limit_micro_usd + v.allowance_micro_usd,
      until: v.scope === "card" ? null : (Math.floor(this.now / DAY) + 1) * DAY,
    };
  }
}

/**
 * Unblocks every card a budget paused that no spent budget holds any more (after an allowance, a
 * higher limit, or a new UTC day); with `owner` (a tenant, not '') only that tenant's cards, so a
 * tenant's allowance never answers with another tenant's ids. Answers the ids it resumed.
 */
export async function resumeBudgetPaused(ctx: BoardContext, owner = ""): Promise<string[]> {
  const all = await budgetBlockedTasks(ctx);
  const blocked = owner === "" ? all : all.filter((t) => t.tenant === owner);
  if (blocked.length === 0) return [];
  const holds = await BudgetHolds.read(ctx);
  const resumed: string[] = [];
  for (const card of blocked) {
    if ((await holds.holding(ctx, card)) !== null) continue;
    try {
      await unblockTask(ctx, card.id);
      resumed.push(card.id);
    } catch (e) {
      // Another walk (PostgreSQL runs several side by side) or a person moved it first.
      if (!(e instanceof KernelError && e.code === "WRONG_STATE")) throw e;
    }
  }
  return resumed;
}
