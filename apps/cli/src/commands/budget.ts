import type { Command } from "commander";
import { boardArg, type Deps } from "../deps.ts";
import { UsageError } from "../errors.ts";
import { table, toJson } from "../output.ts";
import type { Register } from "./register.ts";
import { dollars, dollarsArg } from "./usage.ts";

const SCOPES = ["card", "board", "profile", "tenant"] as const;
type Scope = (typeof SCOPES)[number];

/** `<scope> [key] <usd>`: the board's budget has no key; every other scope names one. */
export function budgetTarget(
  words: readonly string[],
  verb: string,
): { scope: Scope; key: string | null; usd: string } {
  const [scope, ...rest] = words;
  if (scope === undefined || !(SCOPES as readonly string[]).includes(scope))
    throw new UsageError(
      `budget ${verb} needs a scope: ${SCOPES.join(", ")} (e.g. kanban budget ${verb} profile coder 5)`,
    );
  const want = scope === "board" ? 1 : 2;
  if (rest.length !== want)
    throw new UsageError(
      scope === "board"
        ? `budget ${verb} board takes one amount in dollars (e.g. kanban budget ${verb} board 20)`
        : `budget ${verb} ${scope} takes the ${scope === "card" ? "task id" : scope} and an amount in dollars`,
    );
  const usd = rest[rest.length - 1] as string;
  // Read here first, so a bad amount is refused before any call (and exactly, never through a float).
  try {
    dollarsArg(usd);
  } catch {
    throw new UsageError(`not a dollar amount with at most six decimals: ${usd}`);
  }
  return { scope: scope as Scope, key: scope === "board" ? null : (rest[0] as string), usd };
}

function stateText(b: { state: string; remaining_micro_usd: number }): string {
  if (b.state === "exhausted") return "spent: paused";
  return b.state === "warning" ? "warning" : "ok";
}

/** `kanban budget [list]`: every budget the caller sees, with this period's spend. */
export async function runBudgetList(deps: Deps, opts: { json?: boolean }): Promise<number> {
  const client = await deps.client();
  const { budgets } = await client.budgets.list.query({ ...boardArg(deps) });
  if (opts.json) {
    deps.io.out(toJson({ budgets }));
    return 0;
  }
  if (budgets.length === 0) {
    deps.io.out("(no budgets: set one with kanban budget set <scope> [key] <usd>)");
    return 0;
  }
  const rows = [["SCOPE", "KEY", "TENANT", "PERIOD", "SPENT", "LIMIT", "ALLOWED", "LEFT", "STATE"]];
  for (const b of budgets)
    rows.push([
      b.scope,
      b.key,
      b.tenant ?? "-",
      b.period === "day" ? "today (UTC)" : "card's life",
      dollars(b.spent_micro_usd),
      dollars(b.limit_micro_usd),
      b.allowance_micro_usd > 0 ? `+${dollars(b.allowance_micro_usd)}` : "-",
      b.remaining_micro_usd > 0 ? dollars(b.remaining_micro_usd) : "$0.00",
      stateText(b),
    ]);
  for (const line of table(rows)) deps.io.out(line);
  return 0;
}

function resumedText(resumed: readonly string[]): string {
  return resumed.length === 0 ? "" : ` Resumed: ${resumed.join(", ")}.`;
}

/** `kanban budget set <scope> [key] <usd> [--warn <percent>]`. */
export async function runBudgetSet(
  deps: Deps,
  words: readonly string[],
  opts: { warn?: string; json?: boolean },
): Promise<number> {
  const t = budgetTarget(words, "set");
  let warn: number | null = null;
  if (opts.warn !== undefined) {
    if (!/^\d{1,3}$/.test(opts.warn) || Number(opts.warn) < 1 || Number(opts.warn) > 100)
      throw new UsageError("--warn takes a whole percent from 1 to 100");
    warn = Number(opts.warn);
  }
  const client = await deps.client();
  const res = await client.budgets.set.mutate({
    ...boardArg(deps),
    scope: t.scope,
    key: t.key,
    limit_usd: t.usd,
    warn_percent: warn,
  });
  if (opts.json) deps.io.out(toJson(res));
  else
    deps.io.out(
      `Budget ${t.scope}${t.key === null ? "" : ` ${t.key}`}: ${dollars(res.budget.limit_micro_usd)}${
        res.budget.period === "day" ? " a day (UTC)" : ""
      }, warning at ${res.budget.warn_percent}%; spent ${dollars(res.budget.spent_micro_usd)}.${resumedText(res.resumed)}`,
    );
  return 0;
}

/** `kanban budget allow <scope> [key] <usd>`: one step, "allow N more" for the current period. */
export async function runBudgetAllow(deps: Deps, words: readonly string[], opts: { json?: boolean }): Promise<number> {
  const t = budgetTarget(words, "allow");
  const client = await deps.client();
  const res = await client.budgets.allow.mutate({ ...boardArg(deps), scope: t.scope, key: t.key, amount_usd: t.usd });
  if (opts.json) deps.io.out(toJson(res));
  else
    deps.io.out(
      `Allowed ${dollars(dollarsArg(t.usd))} more on budget ${t.scope}${t.key === null ? "" : ` ${t.key}`}: ${dollars(
        Math.max(0, res.budget.remaining_micro_usd),
      )} left.${resumedText(res.resumed)}`,
    );
  return 0;
}

/**
 * `kanban budget`: budgets that pause work (issue 21). One verb with an optional action, so a bare
 * `kanban budget` lists.
 */
export const registerBudget: Register = (program: Command, act) => {
  program
    .command("budget")
    .summary("budgets that pause work: list, `budget set <scope> [key] <usd>`, `budget allow <scope> [key] <usd>`")
    .description(
      "Budgets limit what the workers' runs may cost: a card's (with every card below it, for its whole life), " +
        "the board's, a profile's or a tenant's (per UTC day). At the warning share (default 80%) the card whose " +
        "report crossed it gets a budget_warning event; at the limit every running card of the scope is blocked " +
        "(kind budget) and no new one starts there. `kanban budget allow <scope> [key] <usd>` allows that much more " +
        "for the current period and resumes the paused cards. Scopes: card <task_id>, board, profile <name>, tenant <name>.",
    )
    .argument("[action]", "list (default), set or allow")
    .argument("[args...]", "set/allow: <scope> [key] <usd>")
    .option("--warn <percent>", "set: the warning share in whole percent (default 80)")
    .option("--json", "print the answer as JSON")
    .action(
      act(async (deps, action: string | undefined, args: string[], opts: { warn?: string; json?: boolean }) => {
        if (action === undefined || action === "list") {
          if (args.length > 0) throw new UsageError("budget list takes no arguments");
          return await runBudgetList(deps, opts);
        }
        if (action === "set") return await runBudgetSet(deps, args, opts);
        if (action === "allow") {
          if (opts.warn !== undefined) throw new UsageError("--warn goes with budget set");
          return await runBudgetAllow(deps, args, opts);
        }
        throw new UsageError(`unknown action '${action}': list, set or allow`);
      }),
    );
};
