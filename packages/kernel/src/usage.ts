import { enforceBudgets } from "./budgets.ts";
import type { BoardContext } from "./context.ts";
import { invalid, notFound, wrongState } from "./errors.ts";
import { checkFence, type Fence } from "./fencing.ts";
import { getTask } from "./store/sqlite/tasks.ts";
import {
  insertUsage,
  type UsageGroupBy,
  type UsageRow,
  type UsageSums,
  usageRowsOfTask,
  usageSums,
} from "./store/sqlite/usage.ts";
import type { Task } from "./types.ts";

export { formatMicroUsd } from "./money.ts";

// Cost (issue 21): what each run consumed, reported by its worker, priced by the worker or by the
// board's price table, and summed per run, task (with its descendants), profile, model, tenant,
// board and day. Money is whole micro-dollars (1 USD = 1,000,000) from the first input to the last
// sum, so every roll-up is exact; only the edges (CLI, API) show or read dollars.

export type { UsageGroupBy, UsageRow, UsageSums };

/** What a worker reports: the usage since its previous report of the same run. */
export interface UsageInput {
  model?: string | null;
  tokens_in?: number | null;
  tokens_out?: number | null;
  cache_read?: number | null;
  cache_write?: number | null;
  /** The worker's own figure for this report, when it knows it (wins over the price table). */
  cost_micro_usd?: number | null;
}

/** A report after {@link normaliseUsage}: every count a whole number, the model trimmed. */
export interface NormalisedUsage {
  model: string | null;
  tokens_in: number;
  tokens_out: number;
  cache_read: number;
  cache_write: number;
  cost_micro_usd: number | null;
}

/** A model's prices in US dollars per million tokens (as providers publish them). */
export interface ModelPrice {
  input_per_mtok: number;
  output_per_mtok: number;
  cache_read_per_mtok?: number;
  cache_write_per_mtok?: number;
}

/**
 * config.json's price table: by model, and per profile by model (a profile's own price wins, for
 * a profile that runs through a different account or provider). `"*"` prices any model not named.
 */
export interface PriceTable {
  models?: Readonly<Record<string, ModelPrice>>;
  profiles?: Readonly<Record<string, Readonly<Record<string, ModelPrice>>>>;
  /** Each profile's configured model (config.json `profiles.<name>.model`): what a report naming none ran on. */
  profileModels?: Readonly<Record<string, string>>;
}

/**
 * The model a report ran on: the one it names, else the card's own model override, else its
 * profile's configured model (what the dispatcher started the worker with), else unknown.
 */
export function reportedModel(
  reported: string | null,
  task: { assignee: string | null; model_override?: string | null },
  prices: PriceTable | null | undefined,
): string | null {
  if (reported !== null) return reported;
  if (task.model_override) return task.model_override;
  return task.assignee === null ? null : (prices?.profileModels?.[task.assignee] ?? null);
}

/** Which call carried a report. */
export type UsageVia = "heartbeat" | "complete" | "block" | "report";

/** The most tokens one report may carry (far above any real run, well inside exact integers). */
const MAX_TOKENS = 1e12;
/** The most one report may cost: one million dollars. */
const MAX_COST_MICRO = 1e12;

function count(name: string, v: number | null | undefined): number {
  if (v === null || v === undefined) return 0;
  if (!Number.isSafeInteger(v) || v < 0 || v > MAX_TOKENS)
    throw invalid(`usage.${name} must be a whole number from 0 to ${MAX_TOKENS}`, { field: name });
  return v;
}

/** The usage checked and with every count filled in; null when it reports nothing at all. */
export function normaliseUsage(u: UsageInput): NormalisedUsage | null {
  const model = typeof u.model === "string" && u.model.trim() !== "" ? u.model.trim() : null;
  if (model !== null && model.length > 200) throw invalid("usage.model is longer than 200 characters");
  const cost = u.cost_micro_usd ?? null;
  if (cost !== null && (!Number.isSafeInteger(cost) || cost < 0 || cost > MAX_COST_MICRO))
    throw invalid("usage cost must be from 0 to 1,000,000 dollars in whole micro-dollars", {
      field: "cost_micro_usd",
    });
  const out = {
    model,
    tokens_in: count("tokens_in", u.tokens_in),
    tokens_out: count("tokens_out", u.tokens_out),
    cache_read: count("cache_read", u.cache_read),
    cache_write: count("cache_write", u.cache_write),
    cost_micro_usd: cost,
  };
  const empty = out.tokens_in + out.tokens_out + out.cache_read + out.cache_write === 0 && cost === null;
  return empty ? null : out;
}

/** The price of `model` for `profile`: the profile's own, else the board's, else the `"*"` entry. */
export function priceFor(table: PriceTable | null | undefined, profile: string | null, model: string | null) {
  if (!table) return null;
  const own = profile === null ? undefined : table.profiles?.[profile];
  if (model !== null) {
    const exact = own?.[model] ?? table.models?.[model];
    if (exact) return exact;
  }
  return own?.["*"] ?? table.models?.["*"] ?? null;
}

/** A dollars-per-million-tokens price in millionths of a micro-dollar per token (an exact integer). */
function perTokenPico(usdPerMtok: number | undefined): bigint {
  return BigInt(Math.round((usdPerMtok ?? 0) * 1e6));
}

/**
 * Tokens times prices in micro-dollars, rounded half up once per report. One dollar per million
 * tokens is one micro-dollar per token, so the sum is taken in millionths of that (prices have at
 * most six decimals) with BigInt, and no float ever touches the money.
 */
export function costFromPrice(
  u: Pick<NormalisedUsage, "tokens_in" | "tokens_out" | "cache_read" | "cache_write">,
  p: ModelPrice,
): number {
  const pico =
    BigInt(u.tokens_in) * perTokenPico(p.input_per_mtok) +
    BigInt(u.tokens_out) * perTokenPico(p.output_per_mtok) +
    BigInt(u.cache_read) * perTokenPico(p.cache_read_per_mtok) +
    BigInt(u.cache_write) * perTokenPico(p.cache_write_per_mtok);
  return Number((pico + 500_000n) / 1_000_000n);
}

/**
 * Dollars as whole micro-dollars. A string (the CLI's `--cost-usd 0.0125`) is read digit by digit,
 * exactly; a number is rounded to the nearest micro-dollar. At most six decimals.
 */
export function usdToMicro(usd: string | number): number {
  if (typeof usd === "number") {
    if (!Number.isFinite(usd) || usd < 0) throw invalid("a cost in dollars must be a number of 0 or more");
    return Math.round(usd * 1e6);
  }
  const m = /^\s*(\d{1,7})(?:\.(\d{0,6}))?\s*$/.exec(usd);
  if (!m) throw invalid(`not a dollar amount with at most six decimals: ${JSON.stringify(usd.slice(0, 40))}`);
  return Number(m[1]) * 1_000_000 + Number((m[2] ?? "").padEnd(6, "0"));
}

/** Writes one report of `task`'s run `runId`, pricing it from the table when the worker gave no cost. */
export async function writeUsage(
  ctx: BoardContext,
  task: Pick<Task, "id" | "assignee" | "tenant"> & { model_override?: string | null },
  runId: number | null,
  usage: NormalisedUsage,
  via: UsageVia,
  prices: PriceTable | null | undefined,
): Promise<UsageRow> {
  const model = reportedModel(usage.model, task, prices);
  let cost = usage.cost_micro_usd;
  let source: UsageRow["cost_source"] = cost === null ? null : "worker";
  if (cost === null) {
    const price = priceFor(prices, task.assignee, model);
    if (price) {
      cost = costFromPrice(usage, price);
      source = "price_table";
    }
  }
  const row = await insertUsage(ctx, {
    task_id: task.id,
    run_id: runId,
    profile: task.assignee,
    model,
    tokens_in: usage.tokens_in,
    tokens_out: usage.tokens_out,
    cache_read: usage.cache_read,
    cache_write: usage.cache_write,
    cost_micro_usd: cost,
    cost_source: source,
    via,
    tenant: task.tenant,
    reported_at: ctx.now(),
  });
  // Each report is where a budget is judged (budgets.ts), so a spent budget pauses its scope before
  // the next report can add to it.
  await enforceBudgets(ctx, task);
  return row;
}

export interface ReportUsageOptions extends Fence {
  via?: UsageVia;
  prices?: PriceTable | null;
}

/**
 * A worker's report on its own running attempt: fenced like a heartbeat (a reclaimed worker's
 * report is refused with STALE_RUN), and refused (WRONG_STATE) when the task has no active run.
 * An empty report writes nothing and answers null.
 */
export async function reportUsage(
  ctx: BoardContext,
  id: string,
  input: UsageInput,
  opts: ReportUsageOptions = {},
): Promise<UsageRow | null> {
  const usage = normaliseUsage(input);
  return await ctx.tx(async () => {
    const task = await getTask(ctx, id);
    if (!task) throw notFound(`task ${id} not found`, { task_id: id });
    checkFence(task, opts);
    if (task.current_run_id === null)
      throw wrongState(`cannot report usage on ${id}: it has no active run`, { task_id: id, status: task.status });
    if (usage === null) return null;
    return await writeUsage(ctx, task, task.current_run_id, usage, opts.via ?? "report", opts.prices);
  });
}

export interface UsageSummaryQuery {
  by: UsageGroupBy;
  since?: number | null;
  tenant?: string | null;
  task_id?: string | null;
}

/** One group of a summary; `day` groups are keyed `YYYY-MM-DD` (UTC). */
export type UsageGroup = Omit<UsageSums, "key"> & { key: string | number | null };

export interface UsageSummary {
  by: UsageGroupBy;
  groups: UsageGroup[];
  /** Everything the query matched, in one sum (a task's total includes its descendants). */
  total: Omit<UsageSums, "key">;
}

function dayKey(day: number): string {
  return new Date(day * 86_400_000).toISOString().slice(0, 10);
}

/**
 * The roll-up `by` one key: days oldest first, every other key costliest first (then by key), so
 * the answer's order never depends on the engine.
 */
export async function usageSummary(ctx: BoardContext, q: UsageSummaryQuery): Promise<UsageSummary> {
  const base = { since: q.since ?? null, tenant: q.tenant ?? null, task_id: q.task_id ?? null };
  if (base.task_id !== null && !(await getTask(ctx, base.task_id)))
    throw notFound(`task ${base.task_id} not found`, { task_id: base.task_id });
  const sums = await usageSums(ctx, { ...base, by: q.by });
  const [all] = await usageSums(ctx, { ...base, by: "board" });
  const groups: UsageGroup[] = sums
    .filter((s) => q.by !== "board" || s.reports > 0)
    .map((s) => ({ ...s, key: q.by === "day" && typeof s.key === "number" ? dayKey(s.key) : s.key }));
  groups.sort((a, b) => {
    if (q.by === "day") return String(a.key).localeCompare(String(b.key));
    if (a.cost_micro_usd !== b.cost_micro_usd) return b.cost_micro_usd - a.cost_micro_usd;
    return String(a.key ?? "").localeCompare(String(b.key ?? ""));
  });
  const { key: _key, ...total } = all ?? {
    key: null,
    reports: 0,
    tokens_in: 0,
    tokens_out: 0,
    cache_read: 0,
    cache_write: 0,
    cost_micro_usd: 0,
    unpriced: 0,
  };
  return { by: q.by, groups, total };
}

/** Every report of one task, oldest first (the card's own, not its descendants'). */
export async function usageOfTask(ctx: BoardContext, id: string): Promise<UsageRow[]> {
  return await usageRowsOfTask(ctx, id);
}
