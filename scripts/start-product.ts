// `npm start`: runs the product on the embedded SQLite default (or on PostgreSQL with
// KANBAN_DATABASE_URL or config.json's "database") — the web board (port 3000, with the
// API mounted at /api/trpc), the standalone API for the CLI (port 4100) and the dispatcher — as
// supervised child processes of this one. It says "Kanban is running" only once every part answers,
// restarts a part that dies (with backoff, giving up on one that keeps failing at start), and says
// in one line what is wrong with a busy port or an invalid config.json. Ctrl-C, SIGTERM or the
// death of scripts/start.mjs stops them all: each part runs in a process group of its own, which gets
// SIGTERM, a grace, then SIGKILL; the parts also stop by themselves should this process die.
// `--demo` also seeds a demo board worked by a fake worker profile, fed new cards for a while.
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import {
  boardLocationFromEnv,
  createBoard,
  type DatabaseTarget,
  databaseLabel,
  homeConfigPath,
  type KanbanPostgres,
  liveDispatcherPid,
  migrateBoardSchema,
  openPostgres,
  readHomeConfigSnapshot,
  resolveDatabaseTarget,
} from "@kanban/db";
import { pgDispatcherEntries } from "@kanban/kernel";
import { exitWithSupervisor, PARENT_PID_ENV, processGroupAlive, signalProcessGroup } from "@kanban/process";
import { DEMO_FEED_MINUTES, seedDemo, startDemoFeeder } from "./demo.ts";

// Run as built (dist/runtime/bin/start-product.js, by scripts/start.mjs or `kanban start`): every
// part is a built file of the same runtime directory (scripts/build-runtime.mjs), nothing runs tsx.
const here = path.dirname(fileURLToPath(import.meta.url));
const runtime = path.basename(here) === "bin" ? path.dirname(here) : path.resolve(here, "..", "dist", "runtime");
const bin = path.join(runtime, "bin");
// Started by scripts/start.mjs: if it dies (even by SIGKILL), stop everything as on SIGTERM.
exitWithSupervisor({ log: (line) => process.stderr.write(`kanban: ${line}\n`) });
const args = process.argv.slice(2);
const demo = args.includes("--demo");

/** One line to the terminal, then exit: the whole report of a problem the person can fix. */
function die(message: string): never {
  process.stderr.write(`kanban: ${message}\n`);
  process.exit(1);
}

function portFrom(name: string, fallback: number): number {
  const raw = process.env[name]?.trim();
  if (!raw) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 65_535) die(`${name}='${raw}' is not a port number (1-65535)`);
  return n;
}

const webPort = portFrom("KANBAN_WEB_PORT", 3000);
const apiPort = portFrom("KANBAN_API_PORT", 4100);
if (webPort === apiPort) die(`KANBAN_WEB_PORT and KANBAN_API_PORT are both ${webPort}: give them different ports`);
const loc = boardLocationFromEnv(process.env);
const env: NodeJS.ProcessEnv = {
  ...process.env,
  KANBAN_HOME: loc.home,
  NEXT_TELEMETRY_DISABLED: "1",
  // `kanban dispatch` (and anything else that looks for the dispatcher) runs the built one.
  KANBAN_DISPATCHER_BIN: path.join(bin, "dispatcher.js"),
};
// The parts are built JavaScript: no source condition, no loader.
delete env.NODE_OPTIONS;
const exitWithParentPreload = ["--import", pathToFileURL(path.join(bin, "exit-with-parent.js")).href];

/** Resolves when nothing listens on 127.0.0.1:port (by listening there for a moment). */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once("error", () => resolve(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
  });
}

for (const [port, what, variable] of [
  [webPort, "the board", "KANBAN_WEB_PORT"],
  [apiPort, "the API", "KANBAN_API_PORT"],
] as const) {
  if (!(await portFree(port))) {
    die(
      `port ${port} (${what}) is already in use: is another \`npm start\` running? Stop it, or pick another port, e.g. ${variable}=${port + 1} npm start`,
    );
  }
}

// An invalid config.json is reported in one line here and as a banner on the board; the parts keep
// running on the last valid settings (the defaults when none was ever seen).
const configFile = homeConfigPath(loc.home);
const snapshot = readHomeConfigSnapshot(loc.home);
if (snapshot.error)
  process.stderr.write(
    `kanban: ${snapshot.error} (${configFile}); running on default settings until it is fixed; the board shows this too\n`,
  );
for (const w of snapshot.warnings) process.stderr.write(`kanban: config.json: ${w}\n`);

// Which database: KANBAN_DATABASE_URL, else config.json's "database", else the SQLite files (the
// one rule every part applies). On PostgreSQL the default board is opened here, before any part
// starts: a bad URL, an unreachable server or a wrong password is one line, and nothing starts.
let database: DatabaseTarget = { engine: "sqlite" };
/** PostgreSQL: one connection, kept to see the dispatcher's row appear (its readiness there). */
let catalog: KanbanPostgres | null = null;
try {
  database = resolveDatabaseTarget(process.env, loc.home);
} catch (err) {
  die(`cannot open the board database: ${err instanceof Error ? err.message : String(err)}`);
}
fs.mkdirSync(loc.home, { recursive: true });
if (database.engine === "postgres") {
  if (demo) die("--demo seeds an SQLite board: run it without KANBAN_DATABASE_URL (and config.json's database)");
  try {
    catalog = await openPostgres(database.url, { poolSize: 1, applicationName: "kanban-start" });
    await migrateBoardSchema(catalog, "default");
  } catch (err) {
    await catalog?.close();
    die(`cannot open the board database: ${err instanceof Error ? err.message : String(err)}`);
  }
} else {
  try {
    createBoard(loc, "default");
  } catch (err) {
    die(err instanceof Error ? err.message : String(err));
  }
}
if (demo) {
  if (!fs.existsSync(path.resolve(runtime, "..", "..", "scripts", "demo-worker.mjs")))
    die("--demo runs the checkout's demo worker: use npm start -- --demo in the repository");
  if (snapshot.error)
    die(`--demo adds the 'demo-worker' profile to ${configFile}, which has an error: fix the file first`);
  const { board, tasks, first } = await seedDemo(loc, path.resolve(runtime, "..", ".."));
  env.KANBAN_BOARD = board;
  console.log(
    `Demo board '${board}' ${first ? "seeded with" : "given"} ${tasks} new cards, more every minute or so for ${DEMO_FEED_MINUTES} minutes; profile 'demo-worker' in ${configFile}`,
  );
}

// The board: Next's standalone server (scripts/build-runtime.mjs put it there).
const web = path.join(runtime, "web", "apps", "web");
if (!fs.existsSync(path.join(web, "server.cjs")))
  die(`the board is not built (${path.join(web, "server.cjs")} is missing): run node scripts/build-runtime.mjs`);

// ---------------------------------------------------------------- supervision

/** A part that exits within this long of starting counts as failing to start. */
const FAST_FAILURE_MS = 20_000;
/** Consecutive fast failures after which a part is left down (with a clear line). */
const GIVE_UP_AFTER = 4;
const READY_TIMEOUT_MS = 90_000;
/**
 * On stop, how long the parts get after SIGTERM before their process groups are killed: the
 * dispatcher finishes its tick, then stops its workers (SIGTERM, terminate_grace_seconds, SIGKILL)
 * before it exits, so it gets that grace on top. Read when stopping: config.json may have changed.
 */
function stopGraceMs(): number {
  const workerGrace = readHomeConfigSnapshot(loc.home).config.kanban.terminate_grace_seconds;
  return 20_000 + workerGrace * 1000;
}

interface Part {
  name: string;
  /** How the part is named in a sentence. */
  label: string;
  cmd: string;
  argv: string[];
  cwd: string;
  /** Its own variables, on top of the shared ones. */
  env?: NodeJS.ProcessEnv;
  /** Resolves true once the part answers (HTTP, or the dispatcher's lock). */
  ready: (proc: ChildProcess) => Promise<boolean>;
  proc: ChildProcess | null;
  startedAt: number;
  fastFailures: number;
  state: "starting" | "up" | "restarting" | "given-up" | "elsewhere" | "waiting-config";
  /** The last lines it printed (for the report when it fails). */
  tail: string[];
  note: string | null;
}

let stopping = false;
/** The headline last printed ("Kanban is running", or "only partly"), null before the first. */
let announced: string | null = null;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function httpOk(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
    await res.body?.cancel();
    return res.status < 500;
  } catch {
    return false;
  }
}

/** Polls `probe` until it holds, the process exits, or the time is up. */
async function waitReady(proc: ChildProcess, probe: () => Promise<boolean> | boolean): Promise<boolean> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null || proc.signalCode !== null || stopping) return false;
    if (await probe()) return true;
    await sleep(250);
  }
  return false;
}

/** Node prints an uncaught error with its stack: the terminal gets the message, not the frames. */
const STACK_FRAME = /^\s+at\s|^\s*\^+\s*$|^Node\.js v\d/;

function pipeLines(part: Part, stream: NodeJS.ReadableStream | null, out: NodeJS.WriteStream) {
  if (!stream) return;
  let buf = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => {
    buf += chunk;
    let nl = buf.indexOf("\n");
    while (nl >= 0) {
      const line = buf.slice(0, nl).replace(/\r$/, "");
      buf = buf.slice(nl + 1);
      nl = buf.indexOf("\n");
      if (line.trim() === "" || STACK_FRAME.test(line)) continue;
      part.tail.push(line.trim());
      if (part.tail.length > 5) part.tail.shift();
      out.write(`[${part.name}] ${line}\n`);
    }
  });
}

function lastWords(part: Part): string {
  return part.tail.at(-1) ?? "no output";
}

function launch(part: Part): void {
  // Its own process group, so that stopping it reaches whatever it started too (Next's helpers);
  // Ctrl-C therefore reaches only us, and we stop the parts in order.
  const proc = spawn(part.cmd, part.argv, {
    cwd: part.cwd,
    // Told our pid, the part exits by itself once we are gone (the preload watches).
    env: { ...env, ...part.env, [PARENT_PID_ENV]: String(process.pid) },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  part.proc = proc;
  part.startedAt = Date.now();
  part.tail = [];
  pipeLines(part, proc.stdout, process.stdout);
  pipeLines(part, proc.stderr, process.stderr);
  proc.on("error", (err) => part.tail.push(err.message));
  proc.on("exit", (code, signal) => {
    // What the part started must not outlive it and hold its port against the restart.
    if (!stopping && proc.pid !== undefined && processGroupAlive(proc.pid)) signalProcessGroup(proc.pid, "SIGKILL");
    // A signal to the whole group of a supervisor reaches us too: give our own handler the first word.
    setTimeout(() => void onExit(part, proc, code, signal), 200);
  });
  void part.ready(proc).then((ok) => {
    if (!ok || part.proc !== proc || stopping) return;
    const wasRestart = part.state === "restarting";
    part.state = "up";
    if (wasRestart) console.log(`kanban: ${part.label} is back (pid ${proc.pid})`);
    else if (announced !== null) console.log(`kanban: ${part.label} is up (pid ${proc.pid})`);
    announceWhenSettled();
  });
}

async function onExit(part: Part, proc: ChildProcess, code: number | null, signal: NodeJS.Signals | null) {
  if (stopping || part.proc !== proc) return;
  const how = signal ?? `exit ${code}`;
  // The dispatcher is a singleton per home: another one already serving it is fine, not a failure.
  const other = part.name === "dispatcher" ? liveDispatcherPid(loc.home) : null;
  if (other !== null && other !== proc.pid) {
    part.state = "elsewhere";
    part.note = `another dispatcher (pid ${other}) already serves this home`;
    console.log(`kanban: ${part.note}; not starting a second one`);
    announceWhenSettled();
    return;
  }
  // A part that cannot start on an invalid config.json (the dispatcher refuses one it never saw
  // valid) waits for the file to be fixed instead of failing over and over.
  const cfg = readHomeConfigSnapshot(loc.home);
  if (cfg.error !== null) {
    part.state = "waiting-config";
    part.note = "waiting for a valid config.json";
    process.stderr.write(
      `kanban: ${part.label} cannot run while config.json is invalid; it starts by itself once the file is fixed\n`,
    );
    announceWhenSettled();
    waitForValidConfig(part, cfg.version);
    return;
  }
  const fast = Date.now() - part.startedAt < FAST_FAILURE_MS;
  part.fastFailures = fast ? part.fastFailures + 1 : 0;
  if (part.fastFailures >= GIVE_UP_AFTER) {
    part.state = "given-up";
    part.note = `gave up after ${part.fastFailures} failed starts in a row; last said: ${lastWords(part)}`;
    if (part.name === "web") {
      process.stderr.write(
        `kanban: ${part.label} keeps stopping at start (${how}); last said: ${lastWords(part)}. Stopping everything.\n`,
      );
      stop(1);
      return;
    }
    process.stderr.write(
      `kanban: ${part.label} keeps stopping at start (${how}): ${part.note}. Not restarting it: fix that, then run npm start again.\n`,
    );
    announceWhenSettled();
    return;
  }
  const delay = Math.min(30_000, 1000 * 2 ** Math.max(0, part.fastFailures - 1));
  part.state = "restarting";
  process.stderr.write(
    `kanban: ${part.label} stopped (${how}; last said: ${lastWords(part)}); restarting it in ${Math.round(delay / 1000)} s\n`,
  );
  await sleep(delay);
  if (!stopping) launch(part);
}

/** Polls config.json (by content) and starts `part` again once it changed and is valid. */
function waitForValidConfig(part: Part, version: string) {
  let seen = version;
  const timer = setInterval(() => {
    if (stopping) return clearInterval(timer);
    const snap = readHomeConfigSnapshot(loc.home);
    if (snap.version === seen) return;
    seen = snap.version;
    if (snap.error !== null) {
      process.stderr.write(`kanban: ${snap.error} (${configFile})\n`);
      return;
    }
    clearInterval(timer);
    part.fastFailures = 0;
    part.state = "restarting";
    console.log(`kanban: config.json is valid again; starting ${part.label}`);
    launch(part);
  }, 1000);
}

const parts: Part[] = [
  {
    name: "web",
    label: "the board",
    cmd: process.execPath,
    argv: [...exitWithParentPreload, path.join(web, "server.cjs")],
    cwd: web,
    // Next's standalone server listens where these say.
    env: { PORT: String(webPort), HOSTNAME: "127.0.0.1" },
    ready: (proc: ChildProcess) => waitReady(proc, () => httpOk(`http://127.0.0.1:${webPort}/`)),
  },
  {
    name: "api",
    label: "the API",
    cmd: process.execPath,
    argv: [...exitWithParentPreload, path.join(bin, "kanban.js"), "serve", "--port", String(apiPort)],
    cwd: runtime,
    ready: (proc: ChildProcess) => waitReady(proc, () => httpOk(`http://127.0.0.1:${apiPort}/healthz`)),
  },
  {
    name: "dispatcher",
    label: "the dispatcher",
    cmd: process.execPath,
    // The dispatcher watches for our death itself (exitWithSupervisor in its loop).
    argv: [path.join(bin, "dispatcher.js")],
    cwd: runtime,
    // Up once it holds the home's dispatcher lock (it takes it before its first tick); on
    // PostgreSQL once the default board lists it among its dispatchers (it registers before ticking).
    ready: (proc: ChildProcess) =>
      waitReady(proc, () =>
        catalog ? dispatcherRegistered(catalog, proc.pid) : liveDispatcherPid(loc.home) === proc.pid,
      ),
  },
].map((p) => ({ ...p, proc: null, startedAt: 0, fastFailures: 0, state: "starting" as const, tail: [], note: null }));

async function dispatcherRegistered(db: KanbanPostgres, pid: number | undefined): Promise<boolean> {
  try {
    const entries = await pgDispatcherEntries(db, "default", Math.floor(Date.now() / 1000));
    return entries.some((e) => e.pid === pid && e.host === os.hostname());
  } catch {
    return false;
  }
}

function describe(part: Part): string {
  if (part.state === "up") return `pid ${part.proc?.pid}`;
  if (part.state === "elsewhere") return part.note ?? "elsewhere";
  if (part.state === "given-up") return `DOWN: ${part.note}`;
  if (part.state === "waiting-config") return `DOWN: ${part.note}`;
  return part.state;
}

function printStatus(headline: string) {
  const [w, a, d] = parts as [Part, Part, Part];
  console.log(
    `\n${headline}:\n` +
      `  board       http://127.0.0.1:${webPort}  (${describe(w)})\n` +
      `  API (CLI)   http://127.0.0.1:${apiPort}/trpc  (${describe(a)}; KANBAN_URL for a remote CLI)\n` +
      `  dispatcher  ${describe(d)}\n` +
      `  home        ${loc.home}\n` +
      (database.engine === "postgres" ? `  database    ${databaseLabel(database.url)}\n` : "") +
      "Ctrl-C stops everything; a part that stops is restarted.\n",
  );
}

/**
 * Prints where everything is once every part has settled (up, served elsewhere, or down for a
 * stated reason), and again whenever that headline changes: never "running" while a part is down.
 */
function announceWhenSettled() {
  const settled = (p: Part) =>
    p.state === "up" || p.state === "elsewhere" || p.state === "given-up" || p.state === "waiting-config";
  if (announced === null && !parts.every(settled)) return;
  const down = parts.some((p) => p.state === "given-up" || p.state === "waiting-config");
  const headline = down ? "Kanban is only partly running" : "Kanban is running";
  if (headline === announced || (!down && !parts.every(settled))) return;
  announced = headline;
  printStatus(headline);
}

/**
 * Stops every part: SIGTERM to each part's process group, up to {@link stopGraceMs} for the groups
 * to leave, then SIGKILL to whatever is left; exits once every group is gone. The dispatcher's
 * workers are not in its group: it stops them itself on SIGTERM.
 */
function stop(code: number) {
  if (stopping) return;
  stopping = true;
  feeder?.stop();
  const groups = parts
    .map((p) => p.proc?.pid)
    .filter((pid): pid is number => pid !== undefined && processGroupAlive(pid));
  for (const pgid of groups) signalProcessGroup(pgid, "SIGTERM");
  const graceMs = stopGraceMs();
  const deadline = Date.now() + graceMs;
  let killed = false;
  const check = setInterval(() => {
    const left = groups.filter((pgid) => processGroupAlive(pgid));
    if (left.length === 0) {
      clearInterval(check);
      process.exit(code);
    }
    if (!killed && Date.now() > deadline) {
      killed = true;
      process.stderr.write(`kanban: still running after ${graceMs / 1000} s: killing (pids ${left.join(", ")})\n`);
      for (const pgid of left) signalProcessGroup(pgid, "SIGKILL");
    }
  }, 100);
}

for (const sig of ["SIGINT", "SIGTERM"] as const) process.on(sig, () => stop(0));
const feeder = demo && env.KANBAN_BOARD ? startDemoFeeder(loc, env.KANBAN_BOARD) : null;
for (const part of parts) launch(part);
