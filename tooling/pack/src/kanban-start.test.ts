import { type ChildProcess, type SpawnSyncOptions, spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * The product as a user installs it: scripts/pack-kanban.mjs packs the `kanban` package, npm
 * installs it globally into a temporary prefix (offline: the package has no dependencies to
 * fetch), and from there `kanban start` runs the board, the API and the dispatcher on plain Node,
 * until a supervisor's SIGTERM, or its SIGKILL, after which nothing it started may be left.
 */

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of ["NODE_OPTIONS", "KANBAN_DB", "KANBAN_BOARD", "KANBAN_URL", "KANBAN_TOKEN", "KANBAN_DISPATCHER_BIN"])
    delete env[k];
  for (const k of Object.keys(env)) if (k.toLowerCase().startsWith("npm_")) delete env[k];
  // Never the machine's own ~/.kanban: every command gets a home (the remote client's is unused).
  // The compiled-code cache of this temporary install goes away with it too.
  return { KANBAN_HOME: path.join(work, "no-home"), ...env, XDG_CACHE_HOME: path.join(work, "cache"), ...extra };
}

function run(cmd: string, args: string[], opts: SpawnSyncOptions): string {
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 64 * 1024 * 1024, ...opts });
  if (r.status !== 0)
    throw new Error(`${cmd} ${args.join(" ")} exited ${r.status ?? r.signal}\n${r.stdout}\n${r.stderr}`);
  return String(r.stdout);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once("error", () => resolve(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
  });
}

/** Every live pid with its parent pid, from /proc. */
function processTable(): Map<number, number> {
  const table = new Map<number, number>();
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      // The command name (field 2) may hold spaces and parentheses: the fields after it start at the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      table.set(Number(entry), ppid);
    } catch {
      // It exited while we looked.
    }
  }
  return table;
}

function descendants(root: number): number[] {
  const table = processTable();
  const found = [root];
  for (let i = 0; i < found.length; i++)
    for (const [pid, ppid] of table) if (ppid === found[i] && !found.includes(pid)) found.push(pid);
  return found;
}

/** Processes whose environment names this home: whatever the run started, even reparented. */
function processesOfHome(home: string): number[] {
  const mine: number[] = [];
  for (const pid of processTable().keys()) {
    try {
      if (fs.readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").includes(`KANBAN_HOME=${home}`)) mine.push(pid);
    } catch {
      // Gone, or not ours to read.
    }
  }
  return mine.filter((pid) => pid !== process.pid);
}

function alive(pid: number): boolean {
  try {
    // A zombie has exited; only its parent's wait is missing.
    return !/^\S+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

let work: string;
let prefix: string;
let kanban: string;

beforeAll(() => {
  const t0 = performance.now();
  work = fs.mkdtempSync(path.join(os.tmpdir(), "kanban-global-"));
  prefix = path.join(work, "prefix");
  // Builds only what changed since the last build (scripts/build-runtime.mjs), then packs.
  const tarball = run(process.execPath, [path.join(REPO, "scripts", "pack-kanban.mjs"), path.join(work, "tarballs")], {
    cwd: REPO,
    env: cleanEnv({}),
    stdio: ["ignore", "pipe", "inherit"],
  })
    .trim()
    .split("\n")
    .at(-1) as string;
  const t1 = performance.now();
  run(
    "npm",
    ["install", "-g", tarball, "--prefix", prefix, "--offline", "--no-audit", "--no-fund", "--loglevel=error"],
    {
      cwd: work,
      env: cleanEnv({}),
    },
  );
  kanban = path.join(prefix, "bin", "kanban");
  console.log(
    `kanban-start: build and pack ${((t1 - t0) / 1000).toFixed(1)} s, global install ${((performance.now() - t1) / 1000).toFixed(1)} s`,
  );
});

afterAll(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

interface Started {
  child: ChildProcess;
  home: string;
  webPort: number;
  apiPort: number;
  output: () => string;
  exited: Promise<number | null>;
}

async function startProduct(): Promise<Started> {
  const home = fs.mkdtempSync(path.join(work, "home-"));
  const [webPort, apiPort] = [await freePort(), await freePort()];
  // Started the way a supervisor starts it: the installed command, in the foreground.
  const child = spawn(kanban, ["start"], {
    cwd: work,
    env: cleanEnv({ KANBAN_HOME: home, KANBAN_WEB_PORT: String(webPort), KANBAN_API_PORT: String(apiPort) }),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout?.on("data", (d) => {
    out += String(d);
  });
  child.stderr?.on("data", (d) => {
    out += String(d);
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  await waitFor(
    "Kanban is running",
    () => {
      if (child.exitCode !== null) throw new Error(`kanban start exited ${child.exitCode}:\n${out}`);
      return out.includes("Kanban is running");
    },
    60_000,
  ).catch((err: Error) => {
    throw new Error(`${err.message}\n${out}`);
  });
  return { child, home, webPort, apiPort, output: () => out, exited };
}

/** Everything `run` started is gone, its ports are free, and no process is left on its home. */
async function expectNothingLeft(run: Started, pids: number[]): Promise<void> {
  await waitFor("every process it started to exit", () => pids.every((p) => !alive(p)), 30_000).catch((err: Error) => {
    throw new Error(`${err.message}: still alive ${pids.filter(alive).join(", ")}\n${run.output()}`);
  });
  expect(processesOfHome(run.home)).toEqual([]);
  expect(await portFree(run.webPort)).toBe(true);
  expect(await portFree(run.apiPort)).toBe(true);
}

describe("the kanban package installed globally", () => {
  it("ships built JavaScript only, needs no TypeScript loader, and its dispatcher verbs run the built dispatcher", () => {
    const pkg = path.join(prefix, "lib", "node_modules", "kanban");
    const files = fs.readdirSync(pkg, { recursive: true, encoding: "utf8" });
    expect(files.filter((f) => /\.tsx?$/.test(f) && !f.endsWith(".d.ts"))).toEqual([]);
    expect(fs.existsSync(path.join(pkg, "node_modules"))).toBe(false);
    expect(files.some((f) => f.split(path.sep).includes("tsx"))).toBe(false);
    // Nor the image optimizer's native library, which the board never loads (next.config.ts).
    expect(files.filter((f) => f.split(path.sep).some((part) => part === "sharp" || part === "@img"))).toEqual([]);
    expect(run(kanban, ["--version"], { env: cleanEnv({}) }).trim()).toBe("0.1.0");
    expect(run(kanban, ["--help"], { env: cleanEnv({}) })).toContain("start");
    // The dispatcher verbs run the package's built dispatcher (no workspace bin to find here).
    const home = cleanEnv({ KANBAN_HOME: path.join(work, "verbs-home") });
    run(kanban, ["create", "For a dry tick", "--json"], { env: home });
    const tick = JSON.parse(run(kanban, ["dispatch", "--dry-run", "--json"], { env: home })) as Record<string, unknown>;
    expect(tick).toHaveProperty("reclaimed", 0);
    const direct = path.join(prefix, "bin", "kanban-dispatcher");
    expect(JSON.parse(run(direct, ["--once", "--dry-run", "--json"], { env: home }))).toHaveProperty("reclaimed", 0);
  });

  it("kanban start serves the board and the API, a task created through the API shows, and SIGTERM stops every process it started", async () => {
    const started = await startProduct();
    const pids = descendants(started.child.pid as number);
    // Read at once: a short-lived helper of a part can be gone a moment later.
    const cmdlines = pids.map((pid) => {
      try {
        return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
      } catch {
        return null;
      }
    });
    // kanban, start-product, the board, the API, the dispatcher.
    expect(cmdlines.filter((c) => c !== null).length).toBeGreaterThanOrEqual(5);
    expect((await fetch(`http://127.0.0.1:${started.webPort}/`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${started.apiPort}/healthz`)).status).toBe(200);
    // The installed CLI as a remote client of the running API.
    const remote = cleanEnv({ KANBAN_URL: `http://127.0.0.1:${started.apiPort}` });
    const created = JSON.parse(run(kanban, ["create", "Through the API", "--json"], { env: remote })) as { id: string };
    const shown = JSON.parse(run(kanban, ["show", created.id, "--json"], { env: remote })) as {
      task: { title: string };
    };
    expect(shown.task.title).toBe("Through the API");
    // …on the board the parts serve (the local CLI reads the same home's database).
    const local = cleanEnv({ KANBAN_HOME: started.home });
    const onDisk = JSON.parse(run(kanban, ["show", created.id, "--json"], { env: local })) as { task: { id: string } };
    expect(onDisk.task.id).toBe(created.id);
    // No process of the running product loads TypeScript.
    for (const cmdline of cmdlines) expect(cmdline ?? "").not.toMatch(/tsx|\.ts\0/);

    started.child.kill("SIGTERM");
    expect(await started.exited).toBe(0);
    await expectNothingLeft(started, pids);
  });

  it("SIGKILL to kanban start: everything it started notices and stops by itself", async () => {
    const started = await startProduct();
    const pids = descendants(started.child.pid as number);
    expect(pids.length).toBeGreaterThanOrEqual(5);
    started.child.kill("SIGKILL");
    await started.exited;
    await expectNothingLeft(started, pids);
  });
});
