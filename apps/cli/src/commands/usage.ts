import { type Command, InvalidArgumentError, Option } from "commander";
import { boardArg, type Deps, fenceFor } from "../deps.ts";
import { UsageError } from "../errors.ts";
import { table, toJson } from "../output.ts";
import { type CompleteOptions, type ParkOptions, runBlock, runComplete, runHeartbeat } from "./lifecycle.ts";
import { durationArg, intArg } from "./parse.ts";
import type { Register } from "./register.ts";

/** A usage report as the API takes it (routers/usage.ts); the CLI always sends whole micro-dollars. */
export interface UsageReport {
  model?: string;
  tokens_in?: number;
  tokens_out?: number;
  cache_read?: number;
  cache_write?: number;
  cost_micro_usd?: number;
}

/** The flags every usage-carrying verb takes. */
export interface UsageFlags {
  tokensIn?: number;
  tokensOut?: number;
  cacheRead?: number;
  cacheWrite?: number;
  model?: string;
  costUsd?: number;
}

/**
 * `--cost-usd 0.0125` as whole micro-dollars, read digit by digit (never through a float), so what
 * a worker says it spent is what the roll-ups add up. At most six decimals.
 */
export function dollarsArg(value: string): number {
  const m = /^\s*(\d{1,7})(?:\.(\d{0,6}))?\s*$/.exec(value);
  if (!m) throw new InvalidArgumentError("expected dollars with at most six decimals, e.g. 0.0125");
  return Number(m[1]) * 1_000_000 + Number((m[2] ?? "").padEnd(6, "0"));
}

/** Micro-dollars as dollars: `$0.0125`, `$3.00` (at least the cents, then only digits that count). */
export function dollars(micro: number): string {
  const frac = String(micro % 1_000_000)
    .padStart(6, "0")
    .replace(/0+$/, "")
    .padEnd(2, "0");
  return `$${Math.floor(micro / 1_000_000)}.${frac}`;
}

/** The report the flags make, or null when none was given. */
export function usageOf(flags: UsageFlags): UsageReport | null {
  const out: UsageReport = {};
  if (flags.model !== undefined) out.model = flags.model;
  if (flags.tokensIn !== undefined) out.tokens_in = flags.tokensIn;
  if (flags.tokensOut !== undefined) out.tokens_out = flags.tokensOut;
  if (flags.cacheRead !== undefined) out.cache_read = flags.cacheRead;
  if (flags.cacheWrite !== undefined) out.cache_write = flags.cacheWrite;
  if (flags.costUsd !== undefined) out.cost_micro_usd = flags.costUsd;
  return Object.keys(out).length === 0 ? null : out;
}

function withoutFlags<T extends object>(opts: T & UsageFlags): T {
  const { tokensIn: _i, tokensOut: _o, cacheRead: _r, cacheWrite: _w, model: _m, costUsd: _c, ...rest } = opts;
  return rest as T;
}

/** Declares the usage flags on one verb. */
function usageOptions(cmd: Command): Command {
  return cmd
    .option("--tokens-in <n>", "usage: input tokens since the last report", intArg(0))
    .option("--tokens-out <n>", "usage: output tokens since the last report", intArg(0))
    .option("--cache-read <n>", "usage: cache-read tokens since the last report", intArg(0))
    .option("--cache-write <n>", "usage: cache-write tokens since the last report", intArg(0))
    .option("--model <name>", "usage: the model the tokens went to (prices them from config.json)")
    .option(
      "--cost-usd <dollars>",
      "usage: what it cost, if the worker knows (else config.json prices it)",
      dollarsArg,
    );
}

/** `since` as a time: `YYYY-MM-DD` (UTC midnight) or a duration ago (`7d`, `24h`). */
function sinceArg(value: string): number {
  const day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value.trim());
  if (day) {
    const t = Date.parse(`${value.trim()}T00:00:00Z`);
    if (Number.isNaN(t)) throw new InvalidArgumentError("expected a date YYYY-MM-DD or a duration like 7d");
    return Math.floor(t / 1000);
  }
  try {
    return Math.floor(Date.now() / 1000) - durationArg(value);
  } catch {
    throw new InvalidArgumentError("expected a date YYYY-MM-DD or a duration like 7d or 24h");
  }
}

const GROUPS = ["task", "run", "profile", "model", "tenant", "day", "board"] as const;

export interface UsageSummaryOptions {
  by?: (typeof GROUPS)[number];
  task?: string;
  since?: number;
  json?: boolean;
}

/**
 * `kanban usage`: what the board's workers consumed, summed by task (default), run, profile,
 * model, tenant, day or the whole board; `--task` takes a task and everything below it.
 */
export async function runUsageSummary(deps: Deps, opts: UsageSummaryOptions): Promise<number> {
  const client = await deps.client();
  const summary = await client.usage.summary.query({
    ...boardArg(deps),
    by: opts.by ?? "task",
    since: opts.since ?? null,
    task_id: opts.task ?? null,
  });
  if (opts.json) {
    deps.io.out(toJson(summary));
    return 0;
  }
  const rows = [[summary.by.toUpperCase(), "REPORTS", "TOKENS IN", "TOKENS OUT", "CACHE READ", "CACHE WRITE", "COST"]];
  const line = (key: string, s: (typeof summary)["total"]) => [
    key,
    String(s.reports),
    String(s.tokens_in),
    String(s.tokens_out),
    String(s.cache_read),
    String(s.cache_write),
    dollars(s.cost_micro_usd) + (s.unpriced > 0 ? ` (+${s.unpriced} unpriced)` : ""),
  ];
  if (summary.by !== "board") for (const g of summary.groups) rows.push(line(g.key === null ? "-" : String(g.key), g));
  rows.push(line("TOTAL", summary.total));
  for (const l of table(rows)) deps.io.out(l);
  return 0;
}

/** `kanban usage report <task_id> --tokens-in …`: a report on its own, between heartbeats. */
export async function runUsageReport(deps: Deps, id: string, flags: UsageFlags & { json?: boolean }): Promise<number> {
  const usage = usageOf(flags);
  if (usage === null)
    throw new UsageError(
      "usage report needs at least one of --tokens-in, --tokens-out, --cache-read, --cache-write, --cost-usd",
    );
  const client = await deps.client();
  const res = await client.usage.report.mutate({ ...boardArg(deps), id, usage, ...fenceFor(deps, id) });
  if (flags.json) deps.io.out(toJson(res));
  else {
    const cost = res.usage?.cost_micro_usd;
    deps.io.out(
      `Usage recorded for ${id}${cost === null || cost === undefined ? " (unpriced)" : `: ${dollars(cost)}`}`,
    );
  }
  return 0;
}

/**
 * `kanban usage` and the usage flags of heartbeat, complete and block (issue 21). Registered after
 * the lifecycle verbs: it adds its flags to them and hands each call on with the report attached.
 */
export const registerUsage: Register = (program, act) => {
  const verb = (name: string) => {
    const cmd = program.commands.find((c) => c.name() === name);
    if (cmd === undefined) throw new Error("registerUsage runs after the lifecycle verbs");
    return usageOptions(cmd);
  };
  verb("heartbeat").action(
    act((deps, id: string, opts: { note?: string } & UsageFlags) =>
      runHeartbeat(deps, id, { ...withoutFlags(opts), usage: usageOf(opts) }),
    ),
  );
  verb("complete").action(
    act((deps, ids: string[], opts: CompleteOptions & UsageFlags) =>
      runComplete(deps, ids, { ...withoutFlags(opts), usage: usageOf(opts) }),
    ),
  );
  verb("block").action(
    act((deps, id: string, reason: string[], opts: ParkOptions & UsageFlags) =>
      runBlock(deps, id, reason, { ...withoutFlags(opts), usage: usageOf(opts) }),
    ),
  );

  usageOptions(
    program
      .command("usage")
      .summary("what the workers' runs cost, by task, run, profile, model, tenant, day or board")
      .description(
        "Sum the usage workers reported (tokens, cache, cost) by task (default), run, profile, model, tenant, day " +
          "(UTC) or the whole board. --task takes a task with every card below it. A report without a cost is priced " +
          "from config.json's `prices`; one nobody could price counts its tokens and shows as unpriced. " +
          "`kanban usage report <task_id> --tokens-in N ...` reports on its own (a worker: fenced to its run).",
      )
      .argument("[action]", "report: record usage on <task_id>'s running attempt")
      .argument("[task_id]", "the task (with report)")
      .addOption(new Option("--by <key>", "group by").choices(GROUPS).default("task"))
      .option("--task <id>", "only this task and the cards below it")
      .option("--since <when>", "only reports since a date (YYYY-MM-DD, UTC) or a duration ago (7d, 24h)", sinceArg)
      .option("--json", "print the summary as JSON"),
  ).action(
    act(async (deps, action: string | undefined, id: string | undefined, opts: UsageSummaryOptions & UsageFlags) => {
      if (action === undefined) {
        if (usageOf(opts) !== null) throw new UsageError("usage flags report usage: kanban usage report <task_id> ...");
        return await runUsageSummary(deps, opts);
      }
      if (action !== "report") throw new UsageError(`unknown action '${action}': the only one is report <task_id>`);
      const task = id ?? deps.config.task ?? undefined;
      if (task === undefined) throw new UsageError("usage report needs a task id (or KANBAN_TASK)");
      return await runUsageReport(deps, task, opts);
    }),
  );
};
