import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { liveDispatcherPid } from "@kanban/db";
import { afterEach, describe, expect, it } from "vitest";
import { makeHome, type TempHome, waitFor } from "./support/env.ts";
import { isPidAlive, ProcessTracker } from "./support/processes.ts";
import { stablePort } from "@kanban/db/testing";

/**
 * What a supervisor (systemd, a container runtime, a terminal) does to the process it started:
 * SIGTERM must stop everything that process started, and when it has to resort to SIGKILL, the
 * children must notice and stop by themselves. Checked on the real chains: `node scripts/start.mjs`,
 * `npm start` (npm → sh -c → start.mjs → start-product → board, API, dispatcher) and
 * `npx kanban-dispatcher` (npm → sh -c → the bin). The whole tree's pids are collected from /proc
 * before the signal, so anything left behind, wherever it was re-parented, is found.
 */
const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const NPM = "npm";
const procs = new ProcessTracker();
const started: ChildProcess[] = [];
let home: TempHome | undefined;

afterEach(async () => {
  for (const c of started.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  await procs.killAll();
  home?.cleanup();
  home = undefined;
});

/** Whether nothing listens on 127.0.0.1:port (by listening there for a moment). */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once("error", () => resolve(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
  });
}

/** `pid` and every descendant, from /proc/<pid>/task/<tid>/children (Linux). */
function tree(pid: number): number[] {
  const out = [pid];
  let tasks: string[] = [];
  try {
    tasks = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tasks) {
    let children = "";
    try {
      children = fs.readFileSync(`/proc/${pid}/task/${tid}/children`, "utf8");
    } catch {
      continue;
    }
    for (const c of children.trim().split(/\s+/).filter(Boolean)) out.push(...tree(Number(c)));
  }
  return out;
}

/** The command lines of `pids` (for a failure message that says what was left). */
function describePids(pids: number[]): string {
  return pids
    .map((p) => {
      try {
        return `${p}: ${fs.readFileSync(`/proc/${p}/cmdline`, "utf8").replaceAll("\0", " ").trim()}`;
      } catch {
        return `${p}: ?`;
      }
    })
    .join("; ");
}

async function noneLeft(pids: number[], label: string, timeoutMs: number): Promise<void> {
  await waitFor(() => pids.every((p) => !isPidAlive(p)), label, timeoutMs, 100).catch((err: Error) => {
    throw new Error(`${err.message}; still running: ${describePids(pids.filter(isPidAlive))}`);
  });
}

/** The start script builds the runtime when its sources changed (scripts/build-runtime.mjs); do it first so a test times start-up, not a build. */
function ensureBuild(): void {
  const r = spawnSync(process.execPath, [path.join(ROOT, "scripts", "build-runtime.mjs")], {
    cwd: ROOT,
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" },
    encoding: "utf8",
  });
  expect(r.status, r.stderr.slice(-2000)).toBe(0);
}

/** The test's environment without npm's own variables (so only the npm we start sets them). */
function withoutNpm(env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter(([k]) => !k.toLowerCase().startsWith("npm_")));
}

/** Starts `cmd args` as its own process group, as a supervisor would, collecting its output. */
function startTop(cmd: string, args: string[], env: Record<string, string>) {
  const child = spawn(cmd, args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  if (child.pid === undefined) throw new Error(`could not start ${cmd}`);
  started.push(child);
  procs.adoptGroup(child.pid);
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
  return { child, pid: child.pid, stdout: () => out, stderr: () => err, exited };
}

/** Starts the product through `how`, waits for "Kanban is running" and returns the whole tree's pids. */
async function startProduct(how: "node" | "npm") {
  ensureBuild();
  home = makeHome(`supervise-${how}`);
  const [webPort, apiPort] = [await stablePort(), await stablePort()];
  const env = withoutNpm({ ...home.env, KANBAN_WEB_PORT: String(webPort), KANBAN_API_PORT: String(apiPort) });
  const top = how === "node" ? startTop(process.execPath, ["scripts/start.mjs"], env) : startTop(NPM, ["start"], env);
  await waitFor(() => top.stdout().includes("Kanban is running:"), "the product to say it is running", 120_000, 250);
  const pids = tree(top.pid);
  // The board, the API and the dispatcher run in process groups of their own: adopt them for cleanup.
  for (const p of pids) procs.adoptPid(p);
  const dispatcher = liveDispatcherPid(home.home);
  expect(dispatcher).not.toBeNull();
  expect(pids).toContain(dispatcher);
  expect(await portFree(webPort)).toBe(false);
  expect(await portFree(apiPort)).toBe(false);
  return { top, pids, webPort, apiPort, home: home.home };
}

async function expectAllStopped(run: Awaited<ReturnType<typeof startProduct>>, timeoutMs: number) {
  await noneLeft(run.pids, "every process of the tree to stop", timeoutMs);
  expect(await portFree(run.webPort)).toBe(true);
  expect(await portFree(run.apiPort)).toBe(true);
  expect(liveDispatcherPid(run.home)).toBeNull();
  expect(fs.existsSync(path.join(run.home, "kanban", ".dispatcher.lock"))).toBe(false);
}

describe("the product under a supervisor", () => {
  it("SIGTERM to `node scripts/start.mjs` stops the board, the API and the dispatcher and frees their ports and the lock", async () => {
    const run = await startProduct("node");
    // start.mjs, start-product, three parts (plus tsx's esbuild helpers).
    expect(run.pids.length).toBeGreaterThanOrEqual(5);
    run.top.child.kill("SIGTERM");
    expect((await run.top.exited).code).toBe(0);
    await expectAllStopped(run, 30_000);
  }, 240_000);

  it("SIGKILL to `node scripts/start.mjs`: everything it started notices and stops by itself", async () => {
    const run = await startProduct("node");
    run.top.child.kill("SIGKILL");
    await run.top.exited;
    await expectAllStopped(run, 60_000);
    expect(run.top.stderr()).toMatch(/parent process \d+ is gone: stopping/);
  }, 240_000);

  it("SIGTERM to `npm start` (npm → sh → start.mjs → …) stops everything", async () => {
    const run = await startProduct("npm");
    run.top.child.kill("SIGTERM");
    await run.top.exited;
    await expectAllStopped(run, 60_000);
  }, 240_000);

  it("SIGKILL to `npm start`: the shell npm left behind and everything under it stop by themselves", async () => {
    const run = await startProduct("npm");
    run.top.child.kill("SIGKILL");
    await run.top.exited;
    await expectAllStopped(run, 60_000);
  }, 240_000);
});

describe("npx kanban-dispatcher under a supervisor", () => {
  async function startDispatcher() {
    home = makeHome("supervise-npx");
    const top = startTop(NPM, ["exec", "--", "kanban-dispatcher"], withoutNpm(home.env));
    const h = home.home;
    const dispatcher = await waitFor(() => liveDispatcherPid(h), "the dispatcher to hold the home's lock", 60_000, 100);
    const pids = tree(top.pid);
    for (const p of pids) procs.adoptPid(p);
    expect(pids).toContain(dispatcher);
    return { top, pids };
  }

  // SIGINT to npm alone is not in the list: npm passes it to its `sh -c`, which ignores it while it
  // waits, so nothing below ever hears of it and nothing changes that a child could notice.
  // Ctrl-C in a terminal signals the whole foreground group, which is the "group" case.
  for (const [signal, group] of [
    ["SIGTERM", false],
    ["SIGKILL", false],
    ["SIGINT", true],
  ] as const) {
    it(`${signal} to npx${group ? "'s process group (Ctrl-C)" : ""} (npm → sh → the bin) stops the dispatcher and releases the home's lock`, async () => {
      const { top, pids } = await startDispatcher();
      process.kill(group ? -top.pid : top.pid, signal);
      await top.exited;
      await noneLeft(pids, "the dispatcher's tree to stop", 30_000);
      const h = home?.home ?? "";
      expect(liveDispatcherPid(h)).toBeNull();
      expect(fs.existsSync(path.join(h, "kanban", ".dispatcher.lock"))).toBe(false);
      expect(top.stderr() + top.stdout()).not.toMatch(/^\s+at /m);
    }, 120_000);
  }
});
