import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Deps } from "../deps.ts";
import { CliFailure } from "../errors.ts";
import { intArg } from "./parse.ts";
import type { Register } from "./register.ts";

const BIN = "kanban-dispatcher";

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/**
 * Finds the dispatcher's executable without importing its package (the CLI sits above the API
 * and may not depend on the dispatcher's code): KANBAN_DISPATCHER_BIN, else the workspace bin
 * link or the package's bin file in a node_modules up the tree, else the monorepo's source path,
 * else `kanban-dispatcher` on PATH.
 */
export function locateDispatcher(deps: Deps): { command: string; viaNode: boolean } {
  if (deps.config.dispatcherBin !== null) {
    const bin = deps.config.dispatcherBin;
    return { command: bin, viaNode: /\.(mjs|cjs|js)$/.test(bin) };
  }
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (let dir = here; ; dir = path.dirname(dir)) {
    for (const candidate of [
      path.join(dir, "node_modules", ".bin", BIN),
      path.join(dir, "node_modules", "@kanban", "dispatcher", "bin", `${BIN}.mjs`),
      path.join(dir, "packages", "dispatcher", "bin", `${BIN}.mjs`),
    ]) {
      if (isFile(candidate)) return { command: candidate, viaNode: true };
    }
    if (path.dirname(dir) === dir) break;
  }
  for (const dir of (deps.config.env.PATH ?? "").split(path.delimiter)) {
    if (dir !== "" && isFile(path.join(dir, BIN))) return { command: path.join(dir, BIN), viaNode: false };
  }
  throw new CliFailure(`cannot find ${BIN}: install @kanban/dispatcher or set KANBAN_DISPATCHER_BIN`);
}

/** Forwards a child's output line by line to the CLI's own streams. */
function pipeLines(stream: NodeJS.ReadableStream, write: (line: string) => void): Promise<void> {
  let buf = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => {
    buf += chunk;
    let nl = buf.indexOf("\n");
    while (nl !== -1) {
      write(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
      nl = buf.indexOf("\n");
    }
  });
  return new Promise((resolve) =>
    stream.on("end", () => {
      if (buf !== "") write(buf);
      resolve();
    }),
  );
}

/** Runs the dispatcher with `args`; its exit code is ours. Ctrl-C/SIGTERM are passed on to it. */
export async function execDispatcher(deps: Deps, args: string[]): Promise<number> {
  const { command, viaNode } = locateDispatcher(deps);
  const child = spawn(viaNode ? process.execPath : command, viaNode ? [command, ...args] : args, {
    env: { ...deps.config.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const signal = deps.stopSignal();
  const forward = () => child.kill("SIGTERM");
  signal.addEventListener("abort", forward, { once: true });
  const done = Promise.all([pipeLines(child.stdout, deps.io.out), pipeLines(child.stderr, deps.io.err)]);
  const code = await new Promise<number>((resolve, reject) => {
    child.once("error", (err) => reject(new CliFailure(`cannot run ${command}: ${err.message}`)));
    child.once("close", (c, sig) => resolve(c ?? (sig === "SIGTERM" || sig === "SIGINT" ? 0 : 1)));
  });
  signal.removeEventListener("abort", forward);
  await done;
  return code;
}

export interface DispatchOptions {
  dryRun?: boolean;
  max?: number;
  failureLimit?: number;
  json?: boolean;
}

/** `kanban dispatcher`'s remote host flags (issue 15): passed on as `kanban-dispatcher` takes them. */
export interface RemoteHostOptions {
  server?: string;
  token?: string;
  labels?: string;
  maxWorkers?: number;
}

export function dispatchArgs(deps: Deps, opts: DispatchOptions, once: boolean): string[] {
  const args = once ? ["--once"] : [];
  if (once && deps.config.board !== null) args.push("--board", deps.config.board);
  if (opts.dryRun) args.push("--dry-run");
  if (opts.max !== undefined) args.push("--max", String(opts.max));
  if (opts.failureLimit !== undefined) args.push("--failure-limit", String(opts.failureLimit));
  if (opts.json) args.push("--json");
  return args;
}

/**
 * The loop's arguments: the local flags, then the remote host's. Their checks (a URL, labels, a
 * token without a server) are the dispatcher's own, so both commands refuse the same things in the
 * same words. The token is passed as given (it already shows in this process's argv; the README
 * recommends KANBAN_HOST_TOKEN, which reaches the dispatcher through the environment).
 */
export function dispatcherLoopArgs(deps: Deps, opts: DispatchOptions & RemoteHostOptions): string[] {
  const args = dispatchArgs(deps, opts, false);
  if (opts.server !== undefined) args.push("--server", opts.server);
  if (opts.token !== undefined) args.push("--token", opts.token);
  if (opts.labels !== undefined) args.push("--labels", opts.labels);
  if (opts.maxWorkers !== undefined) args.push("--max-workers", String(opts.maxWorkers));
  return args;
}

export const registerDispatch: Register = (program, act) => {
  program
    .command("dispatch")
    .summary("run one dispatcher tick on this machine's board: recover, promote, claim, spawn")
    .option("--dry-run", "recover and promote as usual; only report what would be claimed and spawned")
    .option("--max <n>", "live workers per board (overrides kanban.max_spawn)", intArg(1))
    .option("--failure-limit <n>", "failures before the breaker blocks a task (default 2)", intArg(1))
    .option("--json", "print the tick's result as JSON")
    .action(act((deps, opts: DispatchOptions) => execDispatcher(deps, dispatchArgs(deps, opts, true))));

  program
    .command("dispatcher")
    .summary("run the dispatcher loop over every board of this machine (or as a remote host) until Ctrl-C")
    .description(
      "Run the dispatcher loop over every board of this machine until Ctrl-C. With --server it runs as a " +
        "remote host of that `kanban serve` instead: no board file, claims and reports through its API " +
        "(the token: --token, else KANBAN_HOST_TOKEN, else config.json remote.token).",
    )
    .option("--max <n>", "live workers per board (overrides kanban.max_spawn)", intArg(1))
    .option("--failure-limit <n>", "failures before the breaker blocks a task (default 2)", intArg(1))
    .option("--server <url>", "run as a remote host of this kanban serve (config.json remote.server)")
    .option("--token <token>", "its host token (prefer KANBAN_HOST_TOKEN: a flag shows in ps)")
    .option("--labels <a,b>", "labels this dispatcher or host offers (tasks created with --requires need them)")
    .option("--max-workers <n>", "workers this remote host runs at once (config.json remote.capacity)", intArg(1))
    .action(
      act((deps, opts: DispatchOptions & RemoteHostOptions) => execDispatcher(deps, dispatcherLoopArgs(deps, opts))),
    );
};
