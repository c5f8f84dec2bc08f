import { KanbanDbError, normaliseSlug } from "@kanban/db";
import { KernelError } from "@kanban/kernel";
import { exitWithSupervisor } from "@kanban/process";
import { type ConfigOverrides, DispatcherConfigError, loadConfig } from "./config.ts";
import { createDispatcher, type DispatcherDeps, DispatcherBusyError } from "./dispatcher.ts";
import { formatText, toJson } from "./format.ts";
import { openPgDispatch } from "./pg-dispatch.ts";
import { runRemoteHostCli } from "./remote/run.ts";

/**
 * The `kanban-dispatcher` command. Exit codes: 0 ok, 1 failure, 2 usage. Errors are one line
 * `kanban-dispatcher: <message>` on stderr, never a stack trace.
 */
export const USAGE = `Usage:
  kanban-dispatcher [--max N] [--failure-limit N] [--labels a,b]
      Run the dispatcher loop over every board of KANBAN_HOME (or the KANBAN_DB file alone)
      until SIGINT/SIGTERM. One dispatcher per home.
  kanban-dispatcher --once [--board <slug>] [--dry-run] [--max N] [--failure-limit N] [--labels a,b] [--json]
      Run one tick on one board (default: KANBAN_BOARD, else the current board) and report it.
  kanban-dispatcher --server <url> [--token <host token>] [--labels a,b] [--max-workers N]
      Run as a remote host of that server: claim, heartbeat, spawn and report through its API
      only (no board file). The token may come from KANBAN_HOST_TOKEN or config.json "remote".

Options:
  --once               one tick, then exit
  --board <slug>       the board of a --once tick
  --dry-run            recover and promote as usual, but only report what would be
                       claimed and spawned
  --max N              live concurrency cap per board (overrides kanban.max_spawn)
  --failure-limit N    circuit-breaker threshold (overrides kanban.failure_limit)
  --json               print the --once result as JSON
  --server <url>       the kanban serve this host works for (config.json remote.server)
  --token <token>      its host token (prefer KANBAN_HOST_TOKEN: a flag shows in ps)
  --labels a,b         the labels this dispatcher or host offers (a task created with --requires
                       is claimed only where all of them are offered; config.json kanban.labels
                       for a local dispatcher, remote.labels for a remote host)
  --max-workers N      workers this host runs at once (config.json remote.capacity)
  -h, --help           show this help

Configuration: <KANBAN_HOME>/config.json ("kanban" settings, "profiles"); see the package README.`;

class UsageError extends Error {}

interface Args {
  help: boolean;
  once: boolean;
  board?: string;
  dryRun: boolean;
  json: boolean;
  overrides: ConfigOverrides;
}

function positiveInt(flag: string, value: string | undefined): number {
  if (value === undefined) throw new UsageError(`${flag} needs a value`);
  if (!/^\d+$/.test(value) || Number(value) < 1)
    throw new UsageError(`${flag} must be a positive integer, got '${value}'`);
  return Number(value);
}

export function parseArgs(argv: string[]): Args {
  const args: Args = { help: false, once: false, dryRun: false, json: false, overrides: {} };
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i] ?? "";
    const eq = raw.startsWith("--") ? raw.indexOf("=") : -1;
    const flag = eq > 0 ? raw.slice(0, eq) : raw;
    const inline = eq > 0 ? raw.slice(eq + 1) : undefined;
    const value = () => {
      if (inline !== undefined) return inline;
      i++;
      return argv[i];
    };
    const noValue = () => {
      if (inline !== undefined) throw new UsageError(`${flag} takes no value`);
    };
    switch (flag) {
      case "-h":
      case "--help":
        noValue();
        args.help = true;
        break;
      case "--once":
        noValue();
        args.once = true;
        break;
      case "--dry-run":
        noValue();
        args.dryRun = true;
        break;
      case "--json":
        noValue();
        args.json = true;
        break;
      case "--board": {
        const v = value();
        if (v === undefined || v === "") throw new UsageError("--board needs a value");
        try {
          args.board = normaliseSlug(v);
        } catch (err) {
          throw new UsageError((err as Error).message);
        }
        break;
      }
      case "--max":
        args.overrides.maxSpawn = positiveInt("--max", value());
        break;
      case "--failure-limit":
        args.overrides.failureLimit = positiveInt("--failure-limit", value());
        break;
      case "--server":
      case "--token": {
        const v = value();
        if (v === undefined || v.trim() === "") throw new UsageError(`${flag} needs a value`);
        if (flag === "--server") args.overrides.server = v.trim();
        else args.overrides.token = v.trim();
        break;
      }
      case "--labels": {
        const v = value();
        if (v === undefined) throw new UsageError("--labels needs a value (comma-separated)");
        args.overrides.labels = v.split(",");
        break;
      }
      case "--max-workers":
        args.overrides.maxWorkers = positiveInt("--max-workers", value());
        break;
      default:
        throw new UsageError(`unknown argument '${raw}'`);
    }
  }
  if (args.once && args.overrides.server !== undefined)
    throw new UsageError("--server runs the remote host loop; it has no --once");
  if (!args.once) {
    for (const [set, name] of [
      [args.dryRun, "--dry-run"],
      [args.json, "--json"],
      [args.board !== undefined, "--board"],
    ] as const) {
      if (set)
        throw new UsageError(
          `${name} only applies to --once (the loop covers every board; pin one file with KANBAN_DB)`,
        );
    }
  }
  return args;
}

function fail(message: string, code: number): number {
  process.stderr.write(`kanban-dispatcher: ${message.split("\n")[0]}\n`);
  return code;
}

export async function main(argv: string[]): Promise<number> {
  let args: Args;
  try {
    args = parseArgs(argv);
  } catch (err) {
    return fail(`${(err as Error).message} (see --help)`, 2);
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  try {
    const config = loadConfig(undefined, args.overrides);
    if (config.remote) {
      if (args.once) return fail("a remote host (config.json remote.server) has no --once", 2);
      // A remote host never opens a board: everything goes through the server's API.
      return await runRemoteHostCli(config, config.remote);
    }
    let deps: DispatcherDeps = {};
    if (config.database.engine === "postgres") {
      // Before anything starts: a database we cannot reach is one line and exit 1, not a loop
      // that warns every tick. The message names host:port/database, never the password.
      try {
        deps = await openPgDispatch(config, {
          warn: (line) => process.stderr.write(`kanban-dispatcher: warning: ${line.split("\n")[0]}\n`),
        });
      } catch (err) {
        if (err instanceof KanbanDbError) return fail(`cannot open the board database: ${err.message}`, 1);
        throw err;
      }
    }
    const dispatcher = createDispatcher(config, deps);
    if (args.once) {
      let result: Awaited<ReturnType<typeof dispatcher.once>>;
      try {
        result = await dispatcher.once({ board: args.board, dryRun: args.dryRun });
        await dispatcher.pool.drain();
      } finally {
        // `run()` releases these itself; a one-shot gives back its connections here.
        await dispatcher.boards.close();
        await dispatcher.coordination.release();
      }
      process.stdout.write(
        args.json ? `${JSON.stringify(toJson(result), null, 2)}\n` : `${formatText(result, { dryRun: args.dryRun })}\n`,
      );
      return 0;
    }
    // Ctrl-C under a supervisor (npm start) delivers SIGINT and then the supervisor's SIGTERM: both
    // mean "stop after this tick". Shutdown is bounded (one tick plus the termination grace), and a
    // supervisor that cannot wait sends SIGKILL, which the next dispatcher recovers from.
    const onSignal = () => dispatcher.stop();
    // Under `npm start` (its pid in KANBAN_PARENT_PID) or `npx`, a dead supervisor means SIGTERM:
    // an orphaned loop would hold the home's lock for good.
    exitWithSupervisor({ log: (line) => process.stderr.write(`kanban-dispatcher: ${line}\n`) });
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    await dispatcher.run();
    return 0;
  } catch (err) {
    if (
      err instanceof DispatcherBusyError ||
      err instanceof DispatcherConfigError ||
      err instanceof KanbanDbError ||
      err instanceof KernelError
    ) {
      return fail(err.message, 1);
    }
    return fail(`unexpected error: ${err instanceof Error ? err.message : String(err)}`, 1);
  }
}
