import type { Command } from "commander";
import { createClient, type KanbanClient, settleLocalApi } from "./client.ts";
import type { Act } from "./commands/register.ts";
import { loadConfig } from "./config.ts";
import type { Deps } from "./deps.ts";
import { describeError } from "./errors.ts";
import type { Io } from "./output.ts";
import { buildProgram } from "./program.ts";

export interface RunCliOptions {
  env?: Record<string, string | undefined>;
  io?: Io;
  /** Replaces Ctrl-C/SIGTERM (tests stop long-running verbs with it). */
  stopSignal?: AbortSignal;
}

const processIo: Io = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  drained: () =>
    process.stdout.writableNeedDrain
      ? new Promise((resolve) => process.stdout.once("drain", resolve))
      : Promise.resolve(),
};

/** A reader that went away (`kanban list | head -1`) ends the command quietly instead of crashing it. */
function quietOnClosedPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "EPIPE") process.exit(0);
      throw err;
    });
  }
}

/** The first SIGINT/SIGTERM stops a long-running verb cleanly; a second one kills as usual. */
function signalOnInterrupt(): AbortSignal {
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  return controller.signal;
}

/**
 * Runs one `kanban …` command line and returns its exit code (0 ok, 1 failed, 2 usage). Every
 * error ends here and becomes one `kanban: <message>` line on stderr; nothing below exits the process.
 */
export async function runCli(argv: string[], opts: RunCliOptions = {}): Promise<number> {
  if (!opts.io) quietOnClosedPipe();
  const io = opts.io ?? processIo;
  const env = opts.env ?? process.env;
  let exitCode = 0;
  let program: Command | null = null;
  let apiUrl: string | null = null;
  let stop: AbortSignal | null = opts.stopSignal ?? null;

  const makeDeps = (): Deps => {
    const board = (program?.opts() as { board?: string } | undefined)?.board ?? null;
    const config = loadConfig(env, { board });
    apiUrl = config.url;
    let client: Promise<KanbanClient> | null = null;
    return {
      io,
      config,
      client: () => {
        client ??= createClient(config, io.err);
        return client;
      },
      stopSignal: () => {
        stop ??= signalOnInterrupt();
        return stop;
      },
    };
  };

  const act: Act =
    <P extends unknown[]>(fn: (deps: Deps, ...args: P) => Promise<number>) =>
    async (...args: unknown[]) => {
      // commander passes the Command itself last; run functions get the deps first instead.
      exitCode = await fn(makeDeps(), ...(args.slice(0, -1) as P));
    };

  try {
    program = buildProgram(act, io);
    if (argv.length === 0) {
      io.out(program.helpInformation().replace(/\n$/, ""));
      return 0;
    }
    await program.parseAsync(argv, { from: "user" });
    return exitCode;
  } catch (err) {
    const { message, exitCode: code } = describeError(err, apiUrl);
    // Messages may quote user input: control characters (ANSI escapes, newlines) never reach the terminal.
    if (code !== 0 && message !== "") io.err(`kanban: ${message.replace(/[\u0000-\u001f\u007f-\u009f]/g, "?")}`);
    return code;
  } finally {
    await settleLocalApi();
  }
}
