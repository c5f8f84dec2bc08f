import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { hermesProfileExists, mintRunToken, type ProfileConfig } from "@kanban/db";
import {
  type Clock,
  type ExitStatus,
  nowSeconds,
  type PreviousRun,
  systemClock,
  type Task,
  type Termination,
} from "@kanban/kernel";
import {
  argvIntoCgroup,
  cgroupPids,
  isPidAlive,
  removeCgroup,
  signalProcessGroup,
  stopCgroup,
  terminateWorker,
} from "@kanban/process";

/**
 * How workers are launched (spec §3.3, with our names).
 *
 * - `profiles`: `<KANBAN_HOME>/config.json` names profiles, each with an argv template. Only those
 *   profiles are spawnable.
 * - `hermes`: no profiles are configured, so Hermes workers are launched as Hermes' own dispatcher
 *   does. A profile is spawnable iff `<hermes home>/profiles/<name>/config.yaml` exists or it is
 *   `default`.
 */
export type WorkerRuntime =
  | { kind: "profiles"; profiles: Record<string, ProfileConfig> }
  | { kind: "hermes"; bin: string; hermesHome: string };

export const WORKER_SKILL = "kanban-worker";

export function workerPrompt(taskId: string): string {
  return `work kanban task ${taskId}`;
}

export function isSpawnable(runtime: WorkerRuntime, profile: string | null | undefined): boolean {
  if (!profile) return false;
  if (runtime.kind === "profiles") return Object.hasOwn(runtime.profiles, profile);
  // The same rule as the API's create warning and the diagnostics (@kanban/db profiles.ts).
  return hermesProfileExists(runtime.hermesHome, profile);
}

/** The skill Hermes B loads into every reviewer run. */
export const HERMES_REVIEW_SKILL = "sdlc-review";

function skillList(profileSkills: readonly string[], taskSkills: readonly string[] | null): string[] {
  const out: string[] = [];
  for (const s of [WORKER_SKILL, ...profileSkills, ...(taskSkills ?? [])]) if (s && !out.includes(s)) out.push(s);
  return out;
}

export interface ArgvInput {
  task: Pick<Task, "id" | "skills" | "model_override">;
  profile: string;
  workspace: string;
  /** The task's previous ended run (Board.previousRun); absent or null on a first attempt. */
  previousRun?: Pick<PreviousRun, "session_id"> | null;
  /** A reviewer run: Hermes is force-loaded with its `sdlc-review` skill (Hermes B). */
  review?: boolean;
}

/**
 * The worker's argv: `[program, ...args]`, never a shell string. Placeholders in profile commands:
 * `{task_id}` `{profile}` `{workspace}` `{prompt}` (substituted inside any element), `{skills}`
 * (a whole element, replaced by one `--skills <s>` pair per skill: kanban-worker, the profile's,
 * then the task's) and `{resume}`: the agent session the previous run recorded (its metadata's
 * `session_id`, see PreviousRun). With no such session, every element holding `{resume}` is dropped,
 * so `--resume={resume}` disappears whole on a first attempt; a flag meant to carry it must therefore
 * be written in the same element (`--resume={resume}`), not as a `--resume`, `{resume}` pair, whose
 * flag would be left behind.
 */
export function buildWorkerArgv(runtime: WorkerRuntime, input: ArgvInput): string[] {
  const { task, profile, workspace } = input;
  if (runtime.kind === "hermes") {
    const skills = skillList(input.review === true ? [HERMES_REVIEW_SKILL] : [], task.skills);
    const argv = [runtime.bin, "-p", profile, "--accept-hooks"];
    for (const s of skills) argv.push("--skills", s);
    if (task.model_override) argv.push("-m", task.model_override);
    argv.push("chat", "-q", workerPrompt(task.id));
    return argv;
  }
  const config = runtime.profiles[profile];
  if (!config) throw new Error(`profile '${profile}' is not configured`);
  const session = input.previousRun?.session_id ?? null;
  const values: Record<string, string> = {
    task_id: task.id,
    profile,
    workspace,
    prompt: workerPrompt(task.id),
    resume: session ?? "",
  };
  const argv: string[] = [];
  for (const arg of config.command) {
    if (arg === "{skills}") {
      for (const s of skillList(config.skills, task.skills)) argv.push("--skills", s);
      continue;
    }
    // Nothing to resume: the element goes, rather than a `--resume=` that would name an empty session.
    if (session === null && arg.includes("{resume}")) continue;
    argv.push(arg.replace(/\{(task_id|profile|workspace|prompt|resume)\}/g, (_m, key: string) => values[key] ?? ""));
  }
  return argv;
}

export interface WorkerEnvInput {
  runtime: WorkerRuntime;
  baseEnv: Record<string, string>;
  task: Pick<Task, "id" | "tenant" | "max_runtime_seconds" | "model_override">;
  profile: string;
  runId: number;
  claimLock: string;
  workspace: string;
  branch: string | null;
  dbPath: string;
  board: string;
  home: string;
  workspacesRoot: string;
  /** The API the worker talks to (KANBAN_URL of the dispatcher); null = local mode, through the board file. */
  apiUrl: string | null;
  /**
   * The board is on PostgreSQL at this URL (null: an SQLite file, `dbPath`). Only a local-mode worker
   * receives it, since that is how its CLI opens the board; an API-mode worker never does.
   */
  databaseUrl?: string | null;
  /**
   * API mode: the run token to give the worker. A remote host passes the one the server minted in
   * `hosts.claim` (it holds no secret to mint one); absent, it is minted here from the home's secret.
   */
  runToken?: string | null;
  /**
   * The task's previous ended run (Board.previousRun), handed to a retry as KANBAN_PREVIOUS_RUN_*;
   * absent or null on a first attempt (and on a remote host, whose claims do not carry it).
   */
  previousRun?: PreviousRun | null;
  /** A reviewer run (claimed from `review`): the worker is told with KANBAN_REVIEW=1 (HERMES_KANBAN_REVIEW=1 for Hermes). */
  review?: boolean;
}

/** Longest KANBAN_PREVIOUS_RUN_SUMMARY / _ERROR, in characters: a hint for the agent, well under exec's per-string limit. */
export const PREVIOUS_RUN_TEXT_MAX = 4000;
const PREVIOUS_RUN_PREFIXES = ["KANBAN_PREVIOUS_RUN_", "HERMES_KANBAN_PREVIOUS_RUN_"];

/**
 * `text` cut to at most `max` characters (code points, so no half of a surrogate pair), marked by
 * "…" where it was cut; NUL bytes removed (an environment value cannot hold one).
 * `keep: "head"` for a summary (an agent writes the gist first), `"tail"` for an error (what
 * finally failed is at its end, e.g. the last lines of a crash's output).
 */
export function boundedText(text: string, max: number, keep: "head" | "tail"): string {
  const clean = text.replaceAll("\0", "");
  if (clean.length <= max) return clean;
  const chars = Array.from(clean);
  if (chars.length <= max) return clean;
  return keep === "head"
    ? `${chars.slice(0, max - 1).join("")}…`
    : `…${chars.slice(chars.length - (max - 1)).join("")}`;
}

/**
 * The previous run under `prefix` (KANBAN_ or HERMES_KANBAN_): always removed first, so a first
 * attempt never sees one inherited from the dispatcher's own environment or a profile's env.
 */
function applyPreviousRun(env: Record<string, string>, prefix: string, previous: PreviousRun | null): void {
  for (const key of Object.keys(env)) if (key.startsWith(`${prefix}PREVIOUS_RUN_`)) delete env[key];
  if (previous === null) return;
  const set = (name: string, value: string | null) => {
    if (value !== null && value !== "") env[`${prefix}PREVIOUS_RUN_${name}`] = value;
  };
  set("ID", String(previous.run_id));
  set("OUTCOME", previous.outcome);
  set("SUMMARY", previous.summary === null ? null : boundedText(previous.summary, PREVIOUS_RUN_TEXT_MAX, "head"));
  set("ERROR", previous.error === null ? null : boundedText(previous.error, PREVIOUS_RUN_TEXT_MAX, "tail"));
  set("SESSION", previous.session_id);
}

/** Variables of the dispatcher's own environment that are never a worker's business. */
const NOT_INHERITED = new Set([
  "KANBAN_TOKEN",
  "KANBAN_URL",
  "KANBAN_BRANCH",
  "KANBAN_TENANT",
  "KANBAN_REVIEW",
  "HERMES_KANBAN_REVIEW",
]);
/**
 * In API mode the worker reaches the board through the API only: no file locations, and no database
 * URL (it would open every board of the database, with the dispatcher's own credentials).
 */
const LOCAL_ONLY = [
  "KANBAN_DB",
  "KANBAN_HOME",
  "KANBAN_WORKSPACES_ROOT",
  "KANBAN_DATABASE_URL",
  "KANBAN_DATABASE_LISTEN",
  "KANBAN_DATABASE_LISTEN_URL",
];

/**
 * The worker's environment: the dispatcher's, plus the task's coordinates under KANBAN_* (and
 * HERMES_* for Hermes). A worker gets only what its own run needs:
 * - never the admin token (KANBAN_TOKEN of the dispatcher, or one set in a profile's env);
 * - API mode (the dispatcher knows KANBAN_URL): KANBAN_URL and a run token as KANBAN_TOKEN, which
 *   the API accepts only for this task's worker calls while this run lasts; no board file or home;
 * - local mode: KANBAN_DB and KANBAN_HOME, as the CLI and MCP need them to open the board in-process;
 *   on PostgreSQL KANBAN_DATABASE_URL (the dispatcher's, wherever it came from) and KANBAN_HOME, and
 *   no KANBAN_DB (the CLI refuses both at once: they name two databases).
 */
export function buildWorkerEnv(input: WorkerEnvInput): Record<string, string> {
  const env: Record<string, string> = { ...input.baseEnv };
  // A dispatcher started from inside a worker must not leak that worker's coordinates, nor its own credentials.
  for (const key of Object.keys(env)) {
    if (key.startsWith("KANBAN_TASK") || NOT_INHERITED.has(key)) delete env[key];
    if (PREVIOUS_RUN_PREFIXES.some((prefix) => key.startsWith(prefix))) delete env[key];
  }
  const apiMode = input.apiUrl !== null && input.apiUrl.trim() !== "";
  if (apiMode) for (const key of LOCAL_ONLY) delete env[key];
  const set = (key: string, value: string | null | undefined) => {
    if (value !== null && value !== undefined && value !== "") env[key] = value;
  };
  set("KANBAN_TASK", input.task.id);
  set("KANBAN_RUN_ID", String(input.runId));
  set("KANBAN_CLAIM_LOCK", input.claimLock);
  set("KANBAN_WORKSPACE", input.workspace);
  set("KANBAN_TENANT", input.task.tenant);
  set("KANBAN_BOARD", input.board);
  set("KANBAN_PROFILE", input.profile);
  set("KANBAN_BRANCH", input.branch);
  set("KANBAN_REVIEW", input.review === true ? "1" : null);
  const runToken = apiMode
    ? (input.runToken ?? mintRunToken(input.home, { board: input.board, task: input.task.id, run: input.runId }))
    : null;
  const pgUrl = input.databaseUrl ?? null;
  if (apiMode) {
    set("KANBAN_URL", input.apiUrl);
  } else if (pgUrl !== null) {
    delete env.KANBAN_DB;
    set("KANBAN_DATABASE_URL", pgUrl);
    set("KANBAN_HOME", input.home);
  } else {
    set("KANBAN_DB", input.dbPath);
    set("KANBAN_HOME", input.home);
  }
  if (input.runtime.kind === "profiles") {
    const profile = input.runtime.profiles[input.profile];
    set("KANBAN_MODEL", input.task.model_override ?? profile?.model ?? null);
    Object.assign(env, profile?.env ?? {});
    // Whatever a profile's env says, the only token a worker holds is its run's, and the previous run is the task's.
    delete env.KANBAN_TOKEN;
    set("KANBAN_TOKEN", runToken);
    applyPreviousRun(env, "KANBAN_", input.previousRun ?? null);
    return env;
  }
  set("KANBAN_TOKEN", runToken);
  delete env.HERMES_TUI;
  set("HERMES_KANBAN_TASK", input.task.id);
  set("HERMES_KANBAN_WORKSPACE", input.workspace);
  set("HERMES_KANBAN_BRANCH", input.branch);
  set("HERMES_KANBAN_RUN_ID", String(input.runId));
  set("HERMES_KANBAN_CLAIM_LOCK", input.claimLock);
  set("HERMES_KANBAN_REVIEW", input.review === true ? "1" : null);
  // Hermes' own kanban tools open an SQLite file; a PostgreSQL label is no file for them.
  if (pgUrl === null) set("HERMES_KANBAN_DB", input.dbPath);
  set("HERMES_KANBAN_WORKSPACES_ROOT", input.workspacesRoot);
  set("HERMES_KANBAN_BOARD", input.board);
  set("HERMES_TENANT", input.task.tenant);
  set("HERMES_PROFILE", input.profile);
  applyPreviousRun(env, "KANBAN_", input.previousRun ?? null);
  applyPreviousRun(env, "HERMES_KANBAN_", input.previousRun ?? null);
  const max = input.task.max_runtime_seconds;
  if (max !== null && max - 30 > 0) {
    // Let the worker's own terminal tool run as long as the task may (never shorten it).
    for (const key of ["TERMINAL_TIMEOUT", "TERMINAL_MAX_FOREGROUND_TIMEOUT"]) {
      const current = Number.parseInt(env[key] ?? "", 10);
      if (!Number.isFinite(current) || max - 30 > current) env[key] = String(max - 30);
    }
  }
  return env;
}

/** Finds a program the way execvp would, so a missing binary is reported before forking. */
export function resolveProgram(program: string, envPath: string | undefined): string | null {
  const usable = (p: string) => {
    try {
      const st = fs.statSync(p);
      if (!st.isFile()) return false;
      fs.accessSync(p, fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  if (program.includes("/")) return usable(program) ? program : null;
  for (const dir of (envPath ?? "").split(path.delimiter)) {
    if (dir === "" || !path.isAbsolute(dir)) continue; // never the cwd
    const candidate = path.join(dir, program);
    if (usable(candidate)) return candidate;
  }
  return null;
}

/** Rotates `<log>` → `<log>.1` … `<log>.N` when it is larger than `maxBytes` (N = 0 deletes it). */
export function rotateLog(logPath: string, maxBytes: number, backups: number): void {
  let size: number;
  try {
    size = fs.statSync(logPath).size;
  } catch {
    return;
  }
  if (maxBytes <= 0 || size <= maxBytes) return;
  if (backups <= 0) {
    fs.rmSync(logPath, { force: true });
    return;
  }
  fs.rmSync(`${logPath}.${backups}`, { force: true });
  for (let i = backups - 1; i >= 1; i--) {
    if (fs.existsSync(`${logPath}.${i}`)) fs.renameSync(`${logPath}.${i}`, `${logPath}.${i + 1}`);
  }
  fs.renameSync(logPath, `${logPath}.1`);
}

export interface SpawnRequest {
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  logPath: string;
  logRotateBytes: number;
  logBackupCount: number;
  /** What the pool remembers about the worker (for status and exit classification). */
  meta: { task_id: string; board: string; run_id: number };
  /** Message when the program cannot be found (the Hermes runtime has its own wording). */
  notFoundMessage?: string;
  /**
   * cgroup containment: the worker's own cgroup (made, limits written), which it enters before its
   * program runs (argvIntoCgroup); its whole tree is then stopped through it. Null: process tree.
   */
  cgroup?: string | null;
}

export interface LiveWorker {
  pid: number;
  task_id: string;
  board: string;
  run_id: number;
  started_at: number;
  /** Its cgroup in cgroup containment, else null. */
  cgroup: string | null;
}

/**
 * The dispatcher's children: spawns workers in their own process group (so they outlive the
 * dispatcher and can be terminated as a group), reaps them (Node's child handling waits on every
 * child, so none is left a zombie) and remembers how each ended, for crash classification.
 */
export class WorkerPool {
  private readonly live = new Map<number, LiveWorker>();
  private readonly exits = new Map<number, ExitStatus & { at: number }>();
  private readonly pending = new Set<Promise<void>>();
  private readonly exitListeners: ((worker: LiveWorker, status: ExitStatus) => void)[] = [];
  /**
   * Worker pid → its cgroup, kept after the worker exits while the cgroup may still hold its
   * descendants: a termination of that pid is then a stop of the cgroup.
   */
  private readonly cgroups = new Map<number, string>();
  private static readonly EXIT_TTL_MS = 600_000;
  private static readonly EXIT_MAX = 4096;

  constructor(
    private readonly log: (line: string) => void = () => {},
    /** Dates the log header, a worker's start and its exit record (ages of exit records come from it too). */
    private readonly clock: Clock = systemClock,
  ) {}

  /**
   * Spawns a worker and returns its pid once the process exists. Throws with a one-line message
   * when the program is missing or cannot be started.
   */
  async spawn(req: SpawnRequest): Promise<number> {
    const [program, ...args] = req.argv;
    if (program === undefined) throw new Error("empty worker command");
    const resolved = resolveProgram(program, req.env.PATH);
    if (resolved === null) throw new Error(req.notFoundMessage ?? `worker program not found: ${program}`);
    fs.mkdirSync(path.dirname(req.logPath), { recursive: true });
    rotateLog(req.logPath, req.logRotateBytes, req.logBackupCount);
    const fd = fs.openSync(req.logPath, "a");
    try {
      fs.writeSync(
        fd,
        `--- ${new Date(this.clock.now()).toISOString()} kanban-dispatcher: run ${req.meta.run_id} of ${req.meta.task_id}: ${JSON.stringify(req.argv)}\n`,
      );
      const cgroup = req.cgroup ?? null;
      // In a cgroup the worker is started by `sh`, which enters the cgroup and then execs it.
      const [file, ...fileArgs] = cgroup !== null ? argvIntoCgroup(cgroup, [resolved, ...args]) : [resolved, ...args];
      const child = spawn(file as string, fileArgs, {
        argv0: cgroup !== null ? "sh" : program,
        cwd: req.cwd,
        env: req.env,
        stdio: ["ignore", fd, fd],
        detached: true,
        windowsHide: true,
      });
      const pid = child.pid;
      if (pid === undefined) {
        const err = await new Promise<Error>((resolve) => child.once("error", resolve));
        throw new Error(`cannot start ${program}: ${err.message}`);
      }
      this.exits.delete(pid); // a recycled pid must not inherit an older worker's exit
      this.live.set(pid, { pid, ...req.meta, started_at: nowSeconds(this.clock), cgroup });
      if (cgroup !== null) this.cgroups.set(pid, cgroup);
      child.on("error", (err) => this.log(`worker ${pid} (${req.meta.task_id}): ${err.message}`));
      child.on("exit", (code, signal) => {
        const worker = this.live.get(pid);
        this.live.delete(pid);
        this.recordExit(pid, { code, signal });
        // A worker that ended with nothing left in its cgroup leaves no cgroup behind.
        const dir = this.cgroups.get(pid);
        if (dir !== undefined && cgroupPids(dir).length === 0 && removeCgroup(dir)) this.cgroups.delete(pid);
        if (worker !== undefined) for (const listener of this.exitListeners) listener(worker, { code, signal });
      });
      // The dispatcher may exit while workers run on.
      child.unref();
      return pid;
    } finally {
      fs.closeSync(fd);
    }
  }

  private recordExit(pid: number, status: ExitStatus): void {
    const now = this.clock.now();
    this.exits.set(pid, { ...status, at: now });
    if (this.exits.size > WorkerPool.EXIT_MAX) {
      for (const [p, e] of this.exits) {
        if (this.exits.size <= WorkerPool.EXIT_MAX && now - e.at < WorkerPool.EXIT_TTL_MS) break;
        this.exits.delete(p);
      }
    }
  }

  /** Called with every worker of ours that exits, as soon as it is reaped. */
  onExit(listener: (worker: LiveWorker, status: ExitStatus) => void): void {
    this.exitListeners.push(listener);
  }

  /** How a reaped child ended (undefined for pids that are not ours, or are still running). */
  exitStatus(pid: number): ExitStatus | undefined {
    const e = this.exits.get(pid);
    if (!e || this.clock.now() - e.at > WorkerPool.EXIT_TTL_MS) return undefined;
    return { code: e.code, signal: e.signal };
  }

  /**
   * Liveness probe for the kernel: a child of ours that has not been reaped yet is still "alive"
   * (its exit status is about to arrive, and the crash sweep must see it); anything else is asked
   * of the operating system (a reaped pid may already belong to another process).
   */
  isAlive(pid: number): boolean {
    return this.live.has(pid) || isPidAlive(pid);
  }

  running(): LiveWorker[] {
    return [...this.live.values()];
  }

  /** The cgroup of one of our workers (also after its leader exited, until the cgroup is gone). */
  cgroupOf(pid: number): string | null {
    return this.cgroups.get(pid) ?? null;
  }

  /**
   * Terminates workers the kernel reported: SIGTERM to each process group now, SIGKILL to any
   * group still alive after `graceSeconds`. Does not block: the escalation runs on timers, and
   * {@link drain} waits for it.
   */
  terminate(targets: readonly Termination[], graceSeconds: number): void {
    for (const t of targets) {
      // A worker in its own cgroup is stopped through it: every process of its tree, wherever it went.
      const dir = this.cgroups.get(t.pid);
      const stop =
        dir !== undefined
          ? this.stopInCgroup(t.pid, dir, graceSeconds).then((r) => {
              this.cgroups.delete(t.pid);
              this.log(
                r.killed
                  ? `worker pid ${t.pid} survived SIGTERM for ${graceSeconds}s: cgroup.kill stopped its ${r.pids.length} process(es)`
                  : `worker pid ${t.pid} stopped through its cgroup: ${r.pids.length} process(es) left after SIGTERM`,
              );
            })
          : terminateWorker(t, { graceMs: graceSeconds * 1000, log: this.log });
      const done = stop.then(
        () => {},
        (err: unknown) => this.log(`terminating worker pid ${t.pid} failed: ${(err as Error).message}`),
      );
      this.pending.add(done);
      void done.then(() => this.pending.delete(done));
    }
  }

  /**
   * Stops a worker through its cgroup. A worker started a moment ago may still be the `sh` that
   * enters the cgroup (argvIntoCgroup), not yet among its processes, and would go on to start the
   * worker after the stop looked: its group is signalled too while it is our unreaped child (so its
   * pid is not anyone else's), and the cgroup is stopped again if the worker is still there after.
   */
  private async stopInCgroup(pid: number, dir: string, graceSeconds: number) {
    const opts = { graceMs: graceSeconds * 1000, log: this.log };
    if (this.live.has(pid)) signalProcessGroup(pid, "SIGTERM");
    let r = await stopCgroup(dir, opts);
    for (let again = 0; again < 3 && this.live.has(pid) && isPidAlive(pid); again++) r = await stopCgroup(dir, opts);
    return r;
  }

  /** Waits for every pending termination to finish (at most the grace period). */
  async drain(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }
}
