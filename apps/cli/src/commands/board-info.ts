import { boardArg, type Deps } from "../deps.ts";
import { table, TASK_STATUSES, toJson } from "../output.ts";
import { UsageError } from "../errors.ts";
import { type FlowOptions, runFlow, whenArg } from "./flow.ts";
import { choiceArg, intArg } from "./parse.ts";
import type { Register } from "./register.ts";

export const SEVERITIES = ["warning", "error", "critical"] as const;

/** `ready=1, blocked=2` in the board's column order. */
function counts(c: Record<string, number>): string {
  const rank = (s: string) => {
    const i = (TASK_STATUSES as readonly string[]).indexOf(s);
    return i === -1 ? TASK_STATUSES.length : i;
  };
  const parts = Object.entries(c)
    .filter(([, n]) => n > 0)
    .sort(([a], [b]) => rank(a) - rank(b))
    .map(([k, n]) => `${k}=${n}`);
  return parts.length === 0 ? "-" : parts.join(", ");
}

/** `kanban init`: opens (creating or upgrading) the board's database and says where it is. */
export async function runInit(deps: Deps): Promise<number> {
  const client = await deps.client();
  await client.stats.get.query(boardArg(deps));
  const { boards, current } = await client.boards.list.query({ include_archived: true });
  const slug = deps.config.board ?? current;
  const board = boards.find((b) => b.slug === slug);
  deps.io.out(`Kanban DB initialized at ${board?.db_path ?? slug}`);
  const { profiles } = await client.profiles.list.query();
  if (profiles.length === 0)
    deps.io.out('No worker profiles configured yet (config.json in KANBAN_HOME, key "profiles").');
  else deps.io.out(`Profiles: ${profiles.map((p) => p.name).join(", ")}`);
  deps.io.out("Next: start the dispatcher with `kanban dispatcher` so that ready tasks get workers.");
  return 0;
}

export async function runStats(deps: Deps, opts: { json?: boolean }): Promise<number> {
  const client = await deps.client();
  const stats = await client.stats.get.query(boardArg(deps));
  if (opts.json) {
    deps.io.out(toJson(stats));
    return 0;
  }
  deps.io.out("By status:");
  for (const s of TASK_STATUSES) if (s !== "archived") deps.io.out(`  ${s.padEnd(10)} ${stats.by_status[s] ?? 0}`);
  deps.io.out("By assignee:");
  const names = Object.keys(stats.by_assignee).sort();
  if (names.length === 0) deps.io.out("  (none)");
  for (const name of names) deps.io.out(`  ${name}  ${counts(stats.by_assignee[name] ?? {})}`);
  deps.io.out(
    `Oldest ready task age: ${stats.oldest_ready_age_seconds === null ? "-" : `${stats.oldest_ready_age_seconds}s`}`,
  );
  return 0;
}

export async function runAssignees(deps: Deps, opts: { json?: boolean }): Promise<number> {
  const client = await deps.client();
  const { assignees } = await client.assignees.list.query(boardArg(deps));
  if (opts.json) {
    deps.io.out(toJson(assignees));
    return 0;
  }
  if (assignees.length === 0) {
    deps.io.out("(no assignees: configure profiles in config.json or assign a task)");
    return 0;
  }
  for (const line of table([
    ["NAME", "ON DISK", "COUNTS"],
    ...assignees.map((a) => [a.name, a.on_disk ? "yes" : "no", counts(a.counts)]),
  ])) {
    deps.io.out(line);
  }
  return 0;
}

export interface DiagnosticsOptions {
  severity?: (typeof SEVERITIES)[number];
  task?: string;
  json?: boolean;
}

export async function runDiagnostics(deps: Deps, opts: DiagnosticsOptions): Promise<number> {
  const client = await deps.client();
  const res = await client.diagnostics.list.query({
    ...boardArg(deps),
    severity: opts.severity ?? null,
    task_id: opts.task ?? null,
  });
  if (opts.json) {
    deps.io.out(toJson(res.diagnostics));
    return 0;
  }
  if (res.diagnostics.length === 0) {
    deps.io.out("(no diagnostics)");
    return 0;
  }
  for (const t of res.diagnostics) {
    deps.io.out(
      `${t.task_id}  ${t.task_status.padEnd(8)}  ${(t.task_assignee ?? "(unassigned)").padEnd(20)}  ${t.task_title}`,
    );
    for (const d of t.diagnostics) {
      deps.io.out(`  [${d.severity}] ${d.kind}: ${d.title}`);
      for (const l of d.detail.split("\n")) if (l.trim() !== "") deps.io.out(`      ${l}`);
      for (const a of d.actions) deps.io.out(`      → ${a.label}`);
    }
  }
  return 0;
}

export interface GcOptions {
  eventRetentionDays: number;
  logRetentionDays: number;
}

/** `kanban gc`: old events of finished tasks, old worker logs, archived tasks' scratch workspaces. */
export async function runGc(deps: Deps, opts: GcOptions): Promise<number> {
  const client = await deps.client();
  const r = await client.maintenance.gc.mutate({
    ...boardArg(deps),
    event_retention_days: opts.eventRetentionDays,
    log_retention_days: opts.logRetentionDays,
  });
  deps.io.out(`GC complete: ${r.workspaces} workspace(s), ${r.events} event row(s), ${r.logs} log file(s) removed`);
  return 0;
}

export const registerBoardInfo: Register = (program, act) => {
  program
    .command("init")
    .summary("create (or upgrade) the board's database")
    .action(act((deps) => runInit(deps)));

  program
    .command("stats")
    .summary("counts per status and assignee, and the oldest ready task's age; --flow: where the time goes")
    .option("--flow", "throughput, cycle and lead times, time in status, the ready queue, blocked time, rework")
    .option(
      "--since <when>",
      "with --flow: window start (7d, 12h, 2026-11-01, ISO time, unix seconds; default 30d)",
      whenArg,
    )
    .option("--until <when>", "with --flow: window end, exclusive (default now)", whenArg)
    .option("--json", "print the stats as JSON")
    .action(
      act((deps, opts: FlowOptions & { flow?: boolean }) => {
        if (opts.flow) return runFlow(deps, opts);
        if (opts.since !== undefined || opts.until !== undefined)
          throw new UsageError("--since and --until go with --flow");
        return runStats(deps, opts);
      }),
    );

  program
    .command("assignees")
    .summary("profiles that can take work, and the board's assignees, with task counts")
    .option("--json", "print the list as JSON")
    .action(act((deps, opts: { json?: boolean }) => runAssignees(deps, opts)));

  program
    .command("gc")
    .summary("remove old events, worker logs and finished scratch workspaces")
    .option("--event-retention-days <n>", "keep events of finished tasks this long", intArg(0), 30)
    .option("--log-retention-days <n>", "keep worker logs this long", intArg(0), 30)
    .action(act((deps, opts: GcOptions) => runGc(deps, opts)));

  program
    .command("diagnostics")
    .alias("diag")
    .summary("what is wrong on the board, worst first")
    .option("--severity <level>", SEVERITIES.join(" | "), choiceArg(SEVERITIES))
    .option("--task <id>", "only this task")
    .option("--json", "print the diagnostics as JSON")
    .action(act((deps, opts: DiagnosticsOptions) => runDiagnostics(deps, opts)));
};
