import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { boardLocationFromEnv, createBoard, type DispatcherStatus, readDispatcherStatus } from "@kanban/db";
import { cleanChildEnv } from "@kanban/db/testing";
import { type Board, openBoard } from "@kanban/kernel";
import { type DispatcherConfig, loadConfig } from "../src/config.ts";
import { isPidAlive, processGroupAlive, signalProcessGroup } from "@kanban/process";
import type { WorkerPool } from "../src/worker.ts";
import { afterEach } from "vitest";

/** Shared fixtures for the dispatcher's tests: temp homes, fake-worker profiles, process tracking. */
const here = path.dirname(fileURLToPath(import.meta.url));
export const FAKE_WORKER = path.join(here, "fake-worker.mjs");
export const BIN = path.resolve(here, "..", "bin", "kanban-dispatcher.mjs");

export type FakeMode = "complete" | "heartbeat-then-complete" | "crash" | "exit0" | "hang" | "ignore-sigterm" | "relay";

export function fakeProfile(mode: FakeMode, extra: { env?: Record<string, string>; skills?: string[] } = {}) {
  return {
    command: [process.execPath, FAKE_WORKER, mode, "{task_id}"],
    env: extra.env ?? {},
    skills: extra.skills ?? [],
  };
}

/** The environment for a process a test starts (cleanChildEnv, without FAKE_WORKER_* either), plus `extra`. */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { ...cleanChildEnv(["FAKE_WORKER"]), ...extra };
}

export interface TestHome {
  home: string;
  env: Record<string, string>;
  writeConfig(config: Record<string, unknown>): void;
  config(extraEnv?: Record<string, string>): DispatcherConfig;
  board(slug?: string): Board;
  cleanup(): void;
}

export function makeHome(config: Record<string, unknown> = {}): TestHome {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "kanban-dispatcher-"));
  const env = cleanEnv({ KANBAN_HOME: home, HERMES_HOME: path.join(home, "hermes-home") });
  const opened: Board[] = [];
  const writeConfig = (c: Record<string, unknown>) =>
    fs.writeFileSync(path.join(home, "config.json"), JSON.stringify(c, null, 2));
  writeConfig(config);
  return {
    home,
    env,
    writeConfig,
    config: (extraEnv = {}) => loadConfig({ ...env, ...extraEnv }),
    board: (slug = "default") => {
      const loc = boardLocationFromEnv(env);
      if (slug !== "default") createBoard(loc, slug);
      const b = openBoard({ board: slug, location: loc, warn: () => {} });
      opened.push(b);
      return b;
    },
    cleanup: () => {
      for (const b of opened) b.close();
      fs.rmSync(home, { recursive: true, force: true });
    },
  };
}

/**
 * Polls `check` (awaited: it may read the board) until it gives a truthy value or the deadline passes.
 * The default deadline is a hang guard, not a speed bound: on a loaded 2-core CI machine a worker
 * process can take many seconds to start (10 s was too short there).
 */
export async function waitFor<T>(
  check: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  label: string,
  timeoutMs = 30_000,
  everyMs = 50,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${label}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Every process group a test started (workers, dispatchers), killed in afterEach. */
const groups = new Set<number>();
const children = new Set<ChildProcess>();

export function track(pid: number | null | undefined): void {
  if (pid) groups.add(pid);
}

export async function killAll(): Promise<void> {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  for (const pid of groups) {
    signalProcessGroup(pid, "SIGKILL");
    if (isPidAlive(pid)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  }
  await waitFor(() => [...groups].every((g) => !processGroupAlive(g)), "test processes to die", 5000).catch(
    () => undefined,
  );
  groups.clear();
  children.clear();
}

export interface BinRun {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts the real bin as its own process group (so a SIGKILL takes it down alone, like a crash). */
export function startBin(args: string[], env: Record<string, string>): BinRun {
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  children.add(child);
  track(child.pid);
  let out = "";
  let err = "";
  child.stdout?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    err += d.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal })),
  );
  return { child, stdout: () => out, stderr: () => err, exited };
}

/**
 * Waits until a started dispatcher has finished its first tick, and returns that status. The
 * deadline is long because a loop's start compiles or loads every package; on a CI machine running
 * three suites on two cores that took more than 15 s once. A dispatcher that never ticks fails
 * with what it printed, so the cause is in the failure rather than lost with the process.
 */
export async function firstTick(home: string, run: BinRun, timeoutMs = 45_000): Promise<DispatcherStatus> {
  try {
    return await waitFor(
      () => {
        const s = readDispatcherStatus(home);
        return s !== null && s.ticks >= 1 ? s : null;
      },
      "the first tick",
      timeoutMs,
    );
  } catch (err) {
    const said = `${run.stdout()}${run.stderr()}`.trim().split("\n").slice(-10).join("\n");
    throw new Error(`${(err as Error).message}; the dispatcher printed: ${said === "" ? "(nothing)" : said}`);
  }
}

export async function runBin(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const run = startBin(args, env);
  const { code } = await run.exited;
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}

export function readPids(workspace: string): { worker: number; grandchild: number } | null {
  try {
    return JSON.parse(fs.readFileSync(path.join(workspace, "pids.json"), "utf8")) as {
      worker: number;
      grandchild: number;
    };
  } catch {
    return null;
  }
}

/** A git repository with one commit on `main` (the workspace package's helper). */
export { gitRepo } from "@kanban/workspace/testing";

/** Records every worker a pool spawns, so afterEach can kill their process groups. */
export function trackPool(pool: WorkerPool): void {
  const spawnWorker = pool.spawn.bind(pool);
  pool.spawn = async (req) => {
    const pid = await spawnWorker(req);
    track(pid);
    return pid;
  };
}

/** Tracks the pids fake workers appended to a $FAKE_WORKER_RECORD file. */
export function trackRecorded(
  file: string,
): { pid: number; argv: string[]; cwd: string; env: Record<string, string> }[] {
  let lines: string[] = [];
  try {
    lines = fs.readFileSync(file, "utf8").split("\n").filter(Boolean);
  } catch {
    return [];
  }
  const records = lines.map(
    (l) => JSON.parse(l) as { pid: number; argv: string[]; cwd: string; env: Record<string, string> },
  );
  for (const r of records) track(r.pid);
  return records;
}

/**
 * For tests of the real bin: `setup(config)` makes this test's home; after each test its fake
 * workers' record is collected for tracking, every process is killed and the home removed.
 */
export function useBinHomes(): (config: Record<string, unknown>) => TestHome {
  let home: TestHome | null = null;
  afterEach(async () => {
    if (home) trackRecorded(path.join(home.home, "record.jsonl"));
    await killAll();
    home?.cleanup();
    home = null;
  });
  return (config) => {
    home = makeHome(config);
    return home;
  };
}

/** The home's environment plus `FAKE_WORKER_RECORD`, so the fake workers record what they saw. */
export function recordingEnv(h: TestHome, extra: Record<string, string> = {}): Record<string, string> {
  return { ...h.env, FAKE_WORKER_RECORD: path.join(h.home, "record.jsonl"), ...extra };
}
