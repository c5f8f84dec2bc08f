import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createClient, type KanbanClient } from "../client.ts";
import { loadConfig } from "../config.ts";
import { runCli } from "../main.ts";

/** The real `kanban` executable of this package. */
export const KANBAN_BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "bin", "kanban.mjs");

export interface TempHome {
  home: string;
  /** A minimal environment for the CLI: this home, no ambient KANBAN_* variables. */
  env: Record<string, string>;
  cleanup(): void;
}

/**
 * The caller's environment without any KANBAN_* variable, so that a developer's settings never leak
 * into a test. KANBAN_RUNTIME_BIN stays: it is `npm test`'s own (the `kanban` and `kanban-dispatcher`
 * the test starts run its bundles, not tsx: ~2 CPU-s less a start), and changes no behaviour.
 */
export function cleanEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && ((!k.startsWith("KANBAN_") && !k.startsWith("HERMES_")) || k === "KANBAN_RUNTIME_BIN"))
      out[k] = v;
  return out;
}

export function tempHome(config?: Record<string, unknown>): TempHome {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "kanban-cli-"));
  if (config) fs.writeFileSync(path.join(home, "config.json"), JSON.stringify(config));
  return {
    home,
    env: { ...cleanEnv(), KANBAN_HOME: home },
    cleanup: () => fs.rmSync(home, { recursive: true, force: true }),
  };
}

export interface CliResult {
  code: number;
  out: string;
  err: string;
}

/** Runs a command line in this process (the same code path as the binary, minus process start-up). */
export async function cli(
  argv: string[],
  env: Record<string, string | undefined>,
  stopSignal?: AbortSignal,
): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { env, io: { out: (l) => out.push(l), err: (l) => err.push(l) }, stopSignal });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

/** Parses the `--json` output of a successful command. */
export async function cliJson<T = Record<string, unknown>>(
  argv: string[],
  env: Record<string, string | undefined>,
): Promise<T> {
  const r = await cli([...argv, "--json"], env);
  if (r.code !== 0) throw new Error(`kanban ${argv.join(" ")} failed (${r.code}): ${r.err}`);
  return JSON.parse(r.out) as T;
}

/** A typed API client on the same boards as `env` (to arrange state and check results). */
export function apiClient(env: Record<string, string | undefined>): Promise<KanbanClient> {
  return createClient(loadConfig(env), () => {});
}

export interface SpawnResult extends CliResult {
  signal: NodeJS.Signals | null;
}

/** Runs the real binary to completion. */
export function runBinary(
  argv: string[],
  env: Record<string, string | undefined>,
  timeoutMs = 30_000,
): Promise<SpawnResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [KANBAN_BIN, ...argv], { env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`kanban ${argv.join(" ")} timed out; stderr: ${err}`));
    }, timeoutMs);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, signal, out: out.replace(/\n$/, ""), err: err.replace(/\n$/, "") });
    });
  });
}

/** A long-running binary (serve, tail, watch) whose output can be awaited line by line. */
export function startBinary(argv: string[], env: Record<string, string | undefined>) {
  const child = spawn(process.execPath, [KANBAN_BIN, ...argv], { env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("close", (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    /** Resolves with the first stdout match of `re`; fails after `timeoutMs` with what was printed. */
    async waitFor(re: RegExp, timeoutMs = 15_000): Promise<RegExpMatchArray> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const m = out.match(re);
        if (m) return m;
        if (Date.now() > deadline || child.exitCode !== null) {
          throw new Error(
            `no ${re} in stdout after ${timeoutMs} ms (exit ${child.exitCode}); stdout: ${out}; stderr: ${err}`,
          );
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    kill(signal: NodeJS.Signals = "SIGKILL") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
}

/** A task id out of `Created <id>  (…)`. */
export function createdId(out: string): string {
  const m = /Created (\S+)/.exec(out);
  if (!m?.[1]) throw new Error(`no task id in: ${out}`);
  return m[1];
}
