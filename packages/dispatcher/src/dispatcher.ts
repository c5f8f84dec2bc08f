import fs from "node:fs";
import path from "node:path";
import {
  currentBoard,
  databaseLabel,
  type DispatcherStatus,
  type DispatcherTickSummary,
  forgetInitialised,
  listHermesProfiles,
  type HomeConfigReader,
  homeConfigReader,
  KanbanDbError,
  logsDir,
  normaliseSlug,
  readBoardMetadata,
  workspacesRoot,
} from "@kanban/db";
import { type Board, type Clock, systemClock } from "@kanban/kernel";
import {
  boardKey,
  byRun,
  cgroupOf,
  FootprintSampler,
  isPidAlive,
  processTrees,
  runKey,
  scanRunProcesses,
} from "@kanban/process";
import { allowedRootsFor, cleanupScratch, resolveWorkspace, scratchPath } from "@kanban/workspace";
import { Admission, type ContainmentState, describeHold, toHold, WorkerContainment } from "./admission/index.ts";
import { type BoardPorts, type BoardSet, SqliteBoardSet, type Target } from "./board-set.ts";
import { type DispatcherConfig, withHomeConfig } from "./config.ts";
import { checkCoordinationFor } from "./coordination/choose.ts";
import type { DispatcherCoordination } from "./coordination/coordination.ts";
import { SqliteCoordination } from "./coordination/sqlite.ts";
import {
  type DispatchDeps,
  type DispatchOptions,
  type DispatchResult,
  dispatchOnce,
  emptyResult,
  hasSpawnableReady,
  runningCount,
} from "./dispatch-once.ts";
import { buildWorkerArgv, buildWorkerEnv, isSpawnable, type LiveWorker, WorkerPool } from "./worker.ts";
import { RunSweep, runMarkerOf } from "./containment/run-sweep.ts";
import { spawnClassified } from "./spawn-failure.ts";
import { readLogTail } from "./log-tail.ts";
import { redactSecrets } from "@kanban/contract";
import { workerSecrets } from "./worker-secrets.ts";
import { startDispatcherNotifier } from "./notify/index.ts";
import { GateRunner, gateClaimer } from "./gates/gate-runner.ts";

/** A second dispatcher for the same home. */
export class DispatcherBusyError extends Error {
  override readonly name = "DispatcherBusyError";
  constructor(
    readonly home: string,
    readonly holder: number,
  ) {
    super(`another dispatcher is already running for ${home} (pid ${holder})`);
  }
}

/** What the status file holds per board: the tick result plus the budget skips. */
export type BoardSummary = DispatcherTickSummary & {
  /** Ready tasks assigned to a name that is not a profile on this host (they never get a worker). */
  not_a_profile: DispatchResult["not_a_profile"];
  skipped_per_profile_capped: DispatchResult["skipped_per_profile_capped"];
  auto_assigned_default: string[];
  /** Runs booked rate_limited / transient this tick (never counted), and cards the auto-revive put back. */
  rate_limited: string[];
  transient: string[];
  auto_revived: string[];
  skipped_locked: boolean;
  quarantined: boolean;
};

export interface TickReport {
  at: number;
  ms: number;
  boards: BoardSummary[];
  spawned: number;
  ready_pending: boolean;
}

export interface DispatcherDeps {
  clock?: Clock;
  /** Where log lines go (default: stderr with a timestamp). */
  log?: (line: string) => void;
  /**
   * How this dispatcher shares its boards with other processes (see coordination/coordination.ts).
   * Default: the SQLite home's files (pid lock, flock tick locks, nudge file, dispatcher.json).
   * Boards on PostgreSQL need `PgCoordination` (`openPgCoordination(url, …)`).
   */
  coordination?: DispatcherCoordination;
  /**
   * Which boards it serves and how they are opened. Default: the SQLite home's boards. Boards on
   * PostgreSQL: `PgBoardSet` (see `openPgDispatch`, which makes both it and the coordination).
   */
  boards?: (ports: () => BoardPorts) => BoardSet;
}

export interface OnceOptions {
  board?: string;
  dryRun?: boolean;
}

/** Seconds a corrupt board stays quarantined unless its file changes first. */
export const QUARANTINE_SECONDS = 300;
/** Consecutive ticks with spawnable ready work and no spawn before the stuck-queue warning. */
export const STUCK_TICKS = 6;
/** Minimum seconds between two stuck-queue warnings. */
export const STUCK_WARNING_INTERVAL = 300;
const MAX_WARNINGS = 20;
/** Holds kept in the status (a full host can hold a whole ready lane). */
const MAX_HOLDS = 500;

interface OpenTarget extends Target {
  board: Board;
  defaultWorkdir: string | null;
}

function isCorruptBoardError(err: unknown): boolean {
  if (err instanceof KanbanDbError) return err.code === "DB_CORRUPT" || err.code === "DB_NOT_A_DATABASE";
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && (code.startsWith("SQLITE_CORRUPT") || code === "SQLITE_NOTADB");
}

function oneLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split("\n")[0] ?? msg;
}

function fileFingerprint(p: string): string {
  try {
    const st = fs.statSync(p);
    return `${st.mtimeMs}:${st.size}`;
  } catch {
    return "missing";
  }
}

function defaultLog(clock: Clock, line: string): void {
  process.stderr.write(`${new Date(clock.now()).toISOString()} kanban-dispatcher: ${line}\n`);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The dispatcher: ticks every board of a home (or the one pinned file), spawning workers as its
 * own children. `tick()` is one pass; `run()` holds the per-home singleton lock and ticks every
 * interval (or at once when the nudge file changes) until `stop()`.
 */
export class Dispatcher {
  readonly pool: WorkerPool;
  /** Stops the processes of runs that are over (containment/run-sweep.ts). */
  readonly runSweep: RunSweep;
  /** Runs the acceptance commands of completed gated cards in the background (gates/gate-runner.ts). */
  readonly gates: GateRunner;
  private readonly clock: Clock;
  private readonly log: (line: string) => void;
  private readonly quarantine = new Map<string, { fingerprint: string; until: number; error: string }>();
  /** Per board file: the newest event already scanned for scratch cleanup. */
  private readonly cleanupCursor = new Map<string, number>();
  private readonly warnings: { at: number; message: string }[] = [];
  private stopping = false;
  private wake: (() => void) | null = null;
  /** Our boards' coordination; `acquired` while {@link run} holds it (the home lock on SQLite). */
  readonly coordination: DispatcherCoordination;
  /** The boards it serves (SQLite: opened per pass; PostgreSQL: one pool per board for its life). */
  readonly boards: BoardSet;
  private acquired = false;
  private badTicks = 0;
  private lastStuckWarning: number | null = null;
  private ticks = 0;
  private startedAt: number;
  private lastReport: TickReport | null = null;
  private runningWorkers: DispatcherStatus["running_workers"] = [];
  /** Ticks and exit-triggered crash sweeps run one after another, never interleaved. */
  private exclusive: Promise<unknown> = Promise.resolve();
  /** Boards with a worker that exited since their last crash sweep. */
  private readonly exitedOn = new Set<string>();
  private readonly configReader: HomeConfigReader;
  /** Why the config.json on disk is not the one in use (invalid edit); null when it is. */
  private configError: string | null = null;
  /** The config.json version last looked at (applied, or refused with {@link configError}). */
  private seenConfigVersion: string;
  /** Board file → when its flow ledger was last advanced (advanceFlow). */
  private readonly flowAdvancedAt = new Map<string, number>();
  /** `<board>:<task>:<assignee>` already warned about as not a profile (so the warning is said once). */
  private warnedNotAProfile = new Set<string>();
  /** Admission control: memory floor and host-wide cap (admission/admission.ts). */
  readonly admission: Admission;
  /** cgroup or process-tree containment of workers (admission/containment.ts). */
  readonly containment = new WorkerContainment();
  private readonly footprintSampler = new FootprintSampler();
  /** The last tick's admission holds, host cap and worker footprints (published in the status). */
  private holds: NonNullable<DispatcherStatus["holds"]> = [];
  private lastHoldsLine = "";
  private hostCap: NonNullable<DispatcherStatus["host_cap"]> | null = null;
  private footprints: NonNullable<DispatcherStatus["footprints"]> = [];
  /** The containment last said in the log (status() may decide it first, before the first tick). */
  private saidContainment: ContainmentState | null = null;

  constructor(
    /** The configuration in use; replaced when config.json changes ({@link refreshConfig}). */
    public config: DispatcherConfig,
    deps: DispatcherDeps = {},
  ) {
    this.clock = deps.clock ?? systemClock;
    const clock = this.clock;
    this.log = deps.log ?? ((line) => defaultLog(clock, line));
    this.configReader = homeConfigReader(config.home);
    this.seenConfigVersion = config.configVersion;
    this.pool = new WorkerPool(this.log, this.clock);
    this.pool.onExit((worker) => this.workerExited(worker));
    this.admission = new Admission(() => {
      const s = this.config.settings;
      const r = this.config.runtime;
      return {
        memoryFloorMb: s.memoryFloorMb,
        maxWorkersHost: s.maxWorkersHost,
        hostStateDir: s.hostStateDir,
        profileFloorMb: (p) => (r.kind === "profiles" ? r.profiles[p]?.memory_floor_mb : undefined),
      };
    });
    this.coordination = deps.coordination ?? new SqliteCoordination(config.home, config.hostname, config.pid);
    // Stops what is left of runs that are over (containment/run-sweep.ts): on a 1 s timer and at start.
    this.runSweep = new RunSweep({
      targets: async () => await this.targets(),
      open: async (t) => await this.boards.open(t),
      done: (b) => this.boards.done(b),
      graceSeconds: () => this.config.settings.terminateGraceSeconds,
      by: `dispatcher pid ${config.pid} on ${config.hostname}`,
      log: (line) => this.log(line),
      warn: (line) => this.warn(line),
      skip: (t) => this.isQuarantined(t.dbPath),
      cgroupOf: (pid) => this.pool.cgroupOf(pid),
    });
    this.gates = new GateRunner({
      claimer: gateClaimer(config.hostname, config.pid),
      hostname: config.hostname,
      // Read at each tick: config.json may change while the loop runs.
      concurrency: () => this.config.settings.gateConcurrency,
      baseEnv: config.baseEnv,
      log: (line) => this.log(line),
      warn: (line) => this.warn(line),
    });
    const ports = () => this.boardPorts();
    this.boards =
      deps.boards?.(ports) ??
      new SqliteBoardSet(config.location, config.pinnedDb, () => currentBoard(this.config.location), ports);
    this.startedAt = this.now();
  }

  /**
   * Applies config.json when it changed since we last looked (at every tick, and while the loop
   * sleeps): profiles, budgets and limits take effect without a restart. An invalid edit keeps the
   * last valid configuration running and is reported in the status file (`config_error`) and the
   * warnings, until the file is fixed.
   */
  refreshConfig(): void {
    const snap = this.configReader.get();
    if (snap.version === this.seenConfigVersion) return;
    this.seenConfigVersion = snap.version;
    if (snap.error !== null) {
      this.configError = snap.error;
      this.warn(`config.json changed but is invalid; still running with the last valid configuration: ${snap.error}`);
      return;
    }
    try {
      const before = this.config;
      this.config = withHomeConfig(before, snap.config, snap.version);
      this.configError = null;
      this.log(
        `config.json reloaded (${describeRuntime(this.config)}; every ${this.config.settings.intervalSeconds}s)`,
      );
    } catch (err) {
      this.configError = oneLine(err);
      this.warn(
        `config.json changed but is invalid; still running with the last valid configuration: ${this.configError}`,
      );
    }
  }

  /** Whether config.json changed since it was last applied (cheap: a stat at most every 250 ms). */
  private configChanged(): boolean {
    return this.configReader.get().version !== this.seenConfigVersion;
  }

  /** Runs `fn` once everything queued before it has finished. */
  private serialised<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.exclusive.then(fn, fn);
    this.exclusive = run.catch(() => {});
    return run;
  }

  /**
   * We are the worker's parent, so we learn of its exit at once: its crash is recorded now rather
   * than by the next tick's sweep after the crash grace (that sweep remains for workers we did not
   * spawn). Only the loop does this; a tick driven by hand (`--once`, tests) leaves it to its sweep.
   */
  private workerExited(worker: LiveWorker): void {
    if (!this.acquired || this.stopping) return;
    this.exitedOn.add(worker.board);
    void this.serialised(() => this.sweepExited());
  }

  private async sweepExited(): Promise<void> {
    const slugs = new Set(this.exitedOn);
    this.exitedOn.clear();
    if (slugs.size === 0) return;
    let targets: Target[] = [];
    try {
      targets = await this.targets();
    } catch (err) {
      this.warn(`cannot list boards: ${oneLine(err)}`);
    }
    const s = this.config.settings;
    for (const t of targets) {
      if (!slugs.has(t.slug) || this.isQuarantined(t.dbPath)) continue;
      let o: OpenTarget;
      try {
        o = await this.openTarget(t);
      } catch (err) {
        this.warn(`board ${t.slug}: cannot open ${t.dbPath}: ${oneLine(err)}`);
        continue;
      }
      try {
        const r = await o.board.detectCrashedWorkers({
          graceSeconds: s.crashGraceSeconds,
          exitCodes: { rateLimit: s.rateLimitExitCode, transient: s.transientExitCode },
          tickIntervalSeconds: s.intervalSeconds,
          exitStatus: (pid) => this.pool.exitStatus(pid),
          outputTail: (id) =>
            logTail(path.join(logsDir(this.config.location, t.slug), `${id}.log`), workerSecrets(this.config)),
        });
        const crashed = [...r.crashed, ...r.protocol_violations];
        if (crashed.length > 0) {
          this.log(
            `board ${t.slug}: worker exited without settling its task: crashed=${crashed.join(",")} auto_blocked=${r.auto_blocked.length}`,
          );
        }
        if (r.rate_limited.length > 0)
          this.log(`board ${t.slug}: worker exited rate limited, cooling down: ${r.rate_limited.join(",")}`);
        if (r.transient.length > 0)
          this.log(
            `board ${t.slug}: worker failed transiently (provider/network), cooling down: ${r.transient.join(",")}`,
          );
      } catch (err) {
        this.warn(`board ${t.slug}: crash sweep failed: ${oneLine(err)}`);
      } finally {
        this.boards.done(o.board);
      }
    }
  }

  private now(): number {
    return Math.floor(this.clock.now() / 1000);
  }

  private warn(message: string): void {
    this.log(`warning: ${message}`);
    this.warnings.push({ at: this.now(), message });
    if (this.warnings.length > MAX_WARNINGS) this.warnings.splice(0, this.warnings.length - MAX_WARNINGS);
  }

  private dispatchOptions(): DispatchOptions {
    const s = this.config.settings;
    return {
      maxSpawn: s.maxSpawn,
      maxInProgress: s.maxInProgress,
      maxInProgressPerProfile: s.maxInProgressPerProfile,
      staleTimeoutSeconds: s.staleTimeoutSeconds,
      crashGraceSeconds: s.crashGraceSeconds,
      defaultAssignee: s.defaultAssignee,
      reviewDispatch: s.reviewDispatch,
      labels: s.labels,
      exitCodes: { rateLimit: s.rateLimitExitCode, transient: s.transientExitCode },
      defaultMaxRuntimeSeconds: s.defaultMaxRuntimeSeconds,
      profileMaxRuntimeSeconds: s.profileMaxRuntimeSeconds,
      autoRevive: s.autoRevive,
      tickIntervalSeconds: s.intervalSeconds,
    };
  }

  /** The boards one loop tick covers: every live board of the home (or the pinned file), or of the PostgreSQL database. */
  async targets(): Promise<Target[]> {
    return await this.boards.list();
  }

  /** What every board is opened with; read at each open, so a config.json reload counts. */
  private boardPorts(): BoardPorts {
    return {
      clock: this.clock,
      isPidAlive: (pid) => this.pool.isAlive(pid),
      hostname: this.config.hostname,
      pid: this.config.pid,
      claimTtlSeconds: this.config.settings.claimTtlSeconds,
      // The board's one breaker policy: `--failure-limit`, else config's `failure_limit`, asked each
      // time a verb judges a breaker, so a config.json reload counts on a board opened before it.
      failureLimit: () => this.config.settings.failureLimit,
      warn: (m) => this.warn(m),
    };
  }

  private async openTarget(t: Target): Promise<OpenTarget> {
    const board = await this.boards.open(t);
    // Incident folding's policy (`kanban.incident_*`), asked each time it is needed: a reload counts.
    board.setIncidentPolicy(() => this.config.settings.incidents);
    return { ...t, board, defaultWorkdir: readBoardMetadata(this.config.location, t.slug).default_workdir };
  }

  /** Whether a board file is quarantined right now (a changed file or an expired timer lifts it). */
  isQuarantined(dbPath: string): boolean {
    const q = this.quarantine.get(dbPath);
    if (!q) return false;
    if (fileFingerprint(dbPath) !== q.fingerprint || this.now() >= q.until) {
      this.quarantine.delete(dbPath);
      forgetInitialised(dbPath);
      return false;
    }
    return true;
  }

  private quarantineBoard(t: Target, err: unknown): void {
    const error = oneLine(err);
    this.quarantine.set(t.dbPath, {
      fingerprint: fileFingerprint(t.dbPath),
      until: this.now() + QUARANTINE_SECONDS,
      error,
    });
    forgetInitialised(t.dbPath);
    this.warn(
      `board ${t.slug}: ${t.dbPath} is not a valid SQLite database; pausing dispatch for this board until the file changes or ${QUARANTINE_SECONDS} s pass (${error})`,
    );
  }

  private deps(t: OpenTarget, others: () => Promise<number>): DispatchDeps {
    const cfg = this.config;
    const loc = cfg.location;
    return {
      isSpawnable: (profile) => isSpawnable(cfg.runtime, profile),
      resolveWorkspace: (task) =>
        resolveWorkspace(task, {
          location: loc,
          board: t.slug,
          defaultWorkdir: t.defaultWorkdir,
          // The one rule (@kanban/workspace): a tenant's task is confined to the roots, an operator task is not.
          allowedRoots: allowedRootsFor(task, cfg.settings.workspaceRoots),
        }),
      spawnWorker: async (ctx) => {
        const argv = buildWorkerArgv(cfg.runtime, {
          task: ctx.task,
          profile: ctx.assignee,
          workspace: ctx.workspace.path,
          // A retry resumes the session its previous run recorded (`{resume}`; issue 17).
          previousRun: await t.board.previousRun(ctx.task.id, ctx.runId),
          review: ctx.review === true,
        });
        const env = buildWorkerEnv({
          runtime: cfg.runtime,
          baseEnv: cfg.baseEnv,
          task: ctx.task,
          profile: ctx.assignee,
          runId: ctx.runId,
          claimLock: ctx.claimLock,
          workspace: ctx.workspace.path,
          branch: ctx.workspace.branch,
          dbPath: t.board.path,
          board: t.slug,
          home: cfg.home,
          workspacesRoot: workspacesRoot(loc, t.slug),
          apiUrl: cfg.apiUrl,
          databaseUrl: cfg.database.engine === "postgres" ? cfg.database.url : null,
          // What the attempt before this one ended with (KANBAN_PREVIOUS_RUN_*; none on a first attempt).
          previousRun: await t.board.previousRun(ctx.task.id, ctx.runId),
          review: ctx.review === true,
        });
        // The run's marker (KANBAN_RUN_ID + KANBAN_BOARD_KEY): how its descendants are found wherever they go.
        Object.assign(env, runMarkerOf(t, ctx.runId));
        const notFoundMessage =
          cfg.runtime.kind === "hermes"
            ? cfg.runtime.bin.includes("/")
              ? `hermes executable not found: ${cfg.runtime.bin} (KANBAN_HERMES_BIN)`
              : `\`${cfg.runtime.bin}\` executable not found on PATH. Install Hermes Agent or activate its venv before running the kanban dispatcher.`
            : undefined;
        // cgroup containment: the run's own cgroup with its profile's limits (none in the process-tree mode).
        const profile = cfg.runtime.kind === "profiles" ? cfg.runtime.profiles[ctx.assignee] : undefined;
        const contained = this.containment.cgroupForRun(
          cfg.settings,
          { boardKey: boardKey(t.board.path), runId: ctx.runId },
          { memoryMax: profile?.memory_max ?? null, cpuMax: profile?.cpu_max ?? null },
        );
        // A refusal of this host's (program missing or not executable here, fork or log disk failure)
        // comes back marked `infrastructure`: never counted against the task (issue 17).
        const pid = await spawnClassified(this.pool, {
          argv,
          env,
          cwd: ctx.workspace.path,
          logPath: path.join(logsDir(loc, t.slug), `${ctx.task.id}.log`),
          logRotateBytes: cfg.settings.logRotateBytes,
          logBackupCount: cfg.settings.logBackupCount,
          meta: { task_id: ctx.task.id, board: t.slug, run_id: ctx.runId },
          notFoundMessage,
          cgroup: contained.cgroup,
        });
        // Counted for the host before the admission lock is released (dispatch-once's enter/leave).
        this.admission.started({
          pid,
          board: t.slug,
          run_id: ctx.runId,
          task_id: ctx.task.id,
          home: cfg.home,
          cgroup: contained.cgroup,
          at: this.now(),
        });
        return pid;
      },
      admission: this.admission,
      exitStatus: (pid) => this.pool.exitStatus(pid),
      outputTail: (id) => logTail(path.join(logsDir(loc, t.slug), `${id}.log`), workerSecrets(cfg)),
      tickLock: (board) => {
        checkCoordinationFor(board, this.coordination);
        return this.coordination.tryTickLock(board);
      },
      // One termination path (containment/run-sweep.ts): its cgroup if it has one, its group, its run's marker.
      terminate: (targets) => this.runSweep.terminate(t, targets),
      runningElsewhere: others,
      afterClaim: cfg.testClaimDelayMs > 0 ? () => sleep(cfg.testClaimDelayMs) : undefined,
      log: (line) => this.log(`board ${t.slug}: ${line}`),
    };
  }

  /**
   * Removes scratch workspaces of tasks finished since the last scan (a full scan on the first
   * visit of a board). Deferred while a child is unfinished: children may read handoff files.
   */
  private async cleanupFinished(t: OpenTarget): Promise<void> {
    const board = t.board;
    const candidates = new Set<string>();
    let cursor = this.cleanupCursor.get(t.dbPath);
    if (cursor === undefined) {
      cursor = await board.latestEventId();
      // First visit: whatever scratch directories exist (each is named for its task).
      let entries: string[] = [];
      try {
        entries = fs.readdirSync(workspacesRoot(this.config.location, t.slug));
      } catch {
        // no workspaces root yet
      }
      for (const name of entries) candidates.add(name);
    } else {
      for (;;) {
        const events = await board.eventsAfter(cursor, { kinds: ["completed", "archived"], limit: 1000 });
        for (const e of events) {
          candidates.add(e.task_id);
          for (const p of await board.parentIds(e.task_id)) candidates.add(p);
        }
        const last = events.at(-1);
        if (last === undefined) break;
        cursor = last.id;
        if (events.length < 1000) break;
      }
    }
    this.cleanupCursor.set(t.dbPath, cursor);
    for (const id of candidates) {
      const task = await board.getTask(id);
      if (!task || !finished(task.status) || task.workspace_kind !== "scratch") continue;
      if (await hasUnfinishedChild(board, id)) continue;
      const outcome = cleanupScratch(task, { location: this.config.location, board: t.slug });
      if (outcome === "removed") this.log(`board ${t.slug}: removed scratch workspace of ${id}`);
      if (outcome === "refused") {
        this.warn(
          `board ${t.slug}: refusing to remove ${scratchPath({ location: this.config.location, board: t.slug }, id)}: not a plain directory inside the workspaces root`,
        );
      }
    }
  }

  private summarise(t: Target, r: DispatchResult, error: string | null, quarantined = false): BoardSummary {
    return {
      board: t.slug,
      reclaimed: r.reclaimed,
      crashed: r.crashed,
      timed_out: r.timed_out,
      stale: r.stale,
      auto_blocked: r.auto_blocked,
      rate_limited: r.rate_limited,
      transient: r.transient,
      auto_revived: r.auto_revived,
      promoted: r.promoted,
      spawned: r.spawned.map((s) => ({ task_id: s.task_id, assignee: s.assignee, workspace: s.workspace, pid: s.pid })),
      skipped_unassigned: r.skipped_unassigned,
      skipped_nonspawnable: r.skipped_nonspawnable,
      not_a_profile: r.not_a_profile,
      skipped_per_profile_capped: r.skipped_per_profile_capped,
      auto_assigned_default: r.auto_assigned_default,
      skipped_locked: r.skipped_locked,
      quarantined,
      error,
    };
  }

  /**
   * Keeps the board's flow ledger current between flow reads, so that a read (the analytics page,
   * `kanban stats --flow`) never pays for a day of events or a whole rebuild. A few steps at a time,
   * at most every FLOW_ADVANCE_INTERVAL_SECONDS per board (a nudged dispatcher ticks many times a
   * second, and each step holds the board's writers): a rebuild of 100,000 tasks is spread over
   * about ten ticks, and a current ledger costs two reads. A failure here is only said: flow reads
   * catch up themselves.
   */
  private async advanceFlow(t: OpenTarget): Promise<void> {
    const now = this.now();
    const last = this.flowAdvancedAt.get(t.dbPath);
    if (last !== undefined && now - last < FLOW_ADVANCE_INTERVAL_SECONDS) return;
    this.flowAdvancedAt.set(t.dbPath, now);
    try {
      await t.board.advanceFlowLedger(FLOW_STEPS_PER_TICK);
    } catch (err) {
      if (isCorruptBoardError(err)) throw err;
      this.warn(`board ${t.slug}: cannot bring the flow ledger up to date: ${oneLine(err)}`);
    }
  }

  /**
   * Claims and starts this board's waiting acceptance-command rounds; they run on after the tick and
   * report on a board opened again for them (the tick's may be closed by then).
   */
  private async startGates(t: OpenTarget): Promise<void> {
    const target: Target = { slug: t.slug, dbPath: t.dbPath };
    try {
      await this.gates.tick(t.slug, t.board, async (fn) => {
        const o = await this.openTarget(target);
        try {
          return await fn(o.board);
        } finally {
          this.boards.done(o.board);
        }
      });
    } catch (err) {
      this.warn(`board ${t.slug}: cannot start acceptance commands: ${oneLine(err)}`);
    }
  }

  /** One pass over every board. Never throws: a failing board is reported in its summary. */
  async tick(): Promise<TickReport> {
    this.refreshConfig();
    // How long the tick took is a stopwatch reading (monotonic), not a time of day: the clock gives `at`.
    const started = performance.now();
    const at = this.now();
    const boards: BoardSummary[] = [];
    const open: OpenTarget[] = [];
    const heldBack: string[] = [];
    let readyPending = false;
    let spawned = 0;
    const running: DispatcherStatus["running_workers"] = [];
    const notAProfile: { board: string; task_id: string; assignee: string }[] = [];
    const holds: NonNullable<DispatcherStatus["holds"]> = [];
    /** Board slug → the key its runs' processes carry (KANBAN_BOARD_KEY), for the footprints. */
    const boardKeys = new Map<string, string>();
    this.sayContainment();
    // Let pending child exits be recorded before the crash sweep reads them.
    await new Promise<void>((resolve) => setImmediate(resolve));
    let targets: Target[] = [];
    try {
      targets = await this.targets();
    } catch (err) {
      this.warn(`cannot list boards: ${oneLine(err)}`);
    }
    for (const t of targets) {
      if (this.isQuarantined(t.dbPath)) {
        boards.push(this.summarise(t, emptyResult(), this.quarantine.get(t.dbPath)?.error ?? "quarantined", true));
        continue;
      }
      try {
        open.push(await this.openTarget(t));
      } catch (err) {
        if (isCorruptBoardError(err)) {
          this.quarantineBoard(t, err);
          boards.push(this.summarise(t, emptyResult(), oneLine(err), true));
        } else {
          this.warn(`board ${t.slug}: cannot open ${t.dbPath}: ${oneLine(err)}`);
          boards.push(this.summarise(t, emptyResult(), oneLine(err)));
        }
      }
    }
    try {
      for (const t of open) {
        const others = async () => {
          let n = 0;
          for (const o of open) if (o !== t) n += await safeRunningCount(o.board);
          return n;
        };
        try {
          const r = await dispatchOnce(t.board, this.dispatchOptions(), this.deps(t, others));
          spawned += r.spawned.length;
          heldBack.push(...r.held_back.map((h) => `${t.slug}:${h}`));
          if (r.skipped_per_profile_capped.length > 0)
            heldBack.push(`${t.slug}:skipped_per_profile_capped=${r.skipped_per_profile_capped.length}`);
          if (!r.skipped_locked) await this.cleanupFinished(t);
          if (!r.skipped_locked) await this.startGates(t);
          if (!r.skipped_locked) await this.advanceFlow(t);
          if (
            await hasSpawnableReady(
              t.board,
              { isSpawnable: (p) => isSpawnable(this.config.runtime, p) },
              this.config.settings.defaultAssignee,
              this.config.settings.labels,
            )
          )
            readyPending = true;
          running.push(...(await runningWorkersOf(t)));
          boardKeys.set(t.slug, boardKey(t.board.path));
          holds.push(...r.held.map((h) => toHold(t.slug, h)));
          for (const c of r.skipped_per_profile_capped)
            holds.push({
              task_id: c.task_id,
              board: t.slug,
              code: "profile_cap",
              detail: { assignee: c.assignee, current: c.current, max: this.config.settings.maxInProgressPerProfile },
            });
          boards.push(this.summarise(t, r, null));
          if (didWork(r)) this.log(`board ${t.slug}: ${describe(r)}`);
          notAProfile.push(...r.not_a_profile.map((n) => ({ ...n, board: t.slug })));
        } catch (err) {
          if (isCorruptBoardError(err)) this.quarantineBoard(t, err);
          else this.warn(`board ${t.slug}: tick failed: ${oneLine(err)}`);
          boards.push(this.summarise(t, emptyResult(), oneLine(err), isCorruptBoardError(err)));
        }
      }
    } finally {
      for (const t of open) this.boards.done(t.board);
    }
    this.health(readyPending, spawned, heldBack);
    this.warnNotAProfile(notAProfile);
    this.ticks++;
    this.runningWorkers = running;
    this.recordHolds(holds);
    this.hostCap = this.admission.hostCap();
    this.footprints = this.sampleFootprints(running, boardKeys);
    this.containment.sweep(this.config.settings);
    const report: TickReport = {
      at,
      ms: Math.round(performance.now() - started),
      boards,
      spawned,
      ready_pending: readyPending,
    };
    this.lastReport = report;
    if (this.acquired) await this.writeStatus();
    return report;
  }

  /**
   * A ready task assigned to a name that is not a profile here would wait forever in silence: say
   * so once per task and assignee (again if it is reassigned to another unknown name).
   */
  private warnNotAProfile(found: { board: string; task_id: string; assignee: string }[]): void {
    const now = new Set<string>();
    let known: string | null = null;
    for (const f of found) {
      const key = `${f.board}:${f.task_id}:${f.assignee}`;
      now.add(key);
      if (this.warnedNotAProfile.has(key)) continue;
      known ??= this.describeKnownProfiles();
      this.warn(
        `board ${f.board}: ${f.task_id} is assigned to '${f.assignee}', which is not a profile on this host (${known}); it stays in ready until it is reassigned`,
      );
    }
    this.warnedNotAProfile = now;
  }

  private describeKnownProfiles(): string {
    const r = this.config.runtime;
    if (r.kind === "profiles") return `configured profiles: ${Object.keys(r.profiles).join(", ")}`;
    return `Hermes profiles: ${listHermesProfiles(r.hermesHome).join(", ")}`;
  }

  /** The stuck-ready-queue warning (spec §3.1): spawnable ready work, yet nothing spawned for several ticks. */
  private health(readyPending: boolean, spawned: number, heldBack: string[]): void {
    if (!readyPending || spawned > 0) {
      this.badTicks = 0;
      return;
    }
    this.badTicks++;
    const now = this.now();
    if (this.badTicks < STUCK_TICKS) return;
    if (this.lastStuckWarning !== null && now - this.lastStuckWarning < STUCK_WARNING_INTERVAL) return;
    this.lastStuckWarning = now;
    const reasons = [...new Set(heldBack)];
    this.warn(
      `dispatcher stuck: ready queue non-empty for ${this.badTicks} consecutive ticks but 0 workers spawned.${reasons.length > 0 ? ` Last tick held back: ${reasons.join(", ")}.` : ""} Check profile health (program, PATH, credentials) and \`kanban list --status ready\`.`,
    );
  }

  /** The status the API reads (also written to `<home>/kanban/dispatcher.json` after every loop tick). */
  status(): DispatcherStatus {
    return {
      pid: this.config.pid,
      started_at: this.startedAt,
      last_tick_at: this.lastReport?.at ?? null,
      last_tick_ms: this.lastReport?.ms ?? null,
      interval_seconds: this.config.settings.intervalSeconds,
      ticks: this.ticks,
      boards: this.lastReport?.boards ?? [],
      running_workers: this.runningWorkers,
      warnings: [...this.warnings],
      stopped_at: null,
      config_error: this.configError,
      holds: this.holds,
      host_cap: this.hostCap ?? this.admission.hostCap(),
      containment: this.containmentState().mode,
      containment_reason: this.containmentState().reason,
      footprints: this.footprints,
      labels: [...this.config.settings.labels],
    };
  }

  private containmentState(): ContainmentState {
    return this.containment.state(this.config.settings).state;
  }

  /** Says how workers are contained: at start-up, and again only if a config.json edit changes it. */
  private sayContainment(): void {
    // Compared by identity: the state is a new object only when the mode is decided again.
    const { state } = this.containment.state(this.config.settings);
    if (state === this.saidContainment) return;
    this.saidContainment = state;
    const where = state.root !== null ? ` (${state.root})` : "";
    this.log(`containment: ${state.mode}${where}${state.reason !== null ? `: ${state.reason}` : ""}`);
  }

  /** The tick's holds for the status, and a log line whenever they change (not every tick). */
  private recordHolds(holds: NonNullable<DispatcherStatus["holds"]>): void {
    this.holds = holds.slice(0, MAX_HOLDS);
    const admission = holds.filter((h) => h.code !== "profile_cap");
    // Said again when which cards are held (and why) changes, not when only the numbers move.
    const key = admission.map((h) => `${h.board}:${h.task_id}:${h.code}`).join(" ");
    if (key !== this.lastHoldsLine && key !== "") {
      const line = admission.map((h) => `board ${h.board}: ${describeHold(h)}`).join("; ");
      this.log(`admission: ${admission.length} card(s) held: ${line}`);
    }
    this.lastHoldsLine = key;
  }

  /**
   * Each running worker's footprint on this host: the processes of its cgroup, or of its process
   * group and descendants plus every process carrying its run's marker (one /proc pass for all);
   * RSS and CPU since the last tick. Workers of other hosts (PostgreSQL) are not ours to sample:
   * only pids of our own pool, or any live local pid on SQLite (one host).
   */
  private sampleFootprints(
    running: DispatcherStatus["running_workers"],
    boardKeys: ReadonlyMap<string, string>,
  ): NonNullable<DispatcherStatus["footprints"]> {
    const ours = new Map(this.pool.running().map((w) => [w.pid, w]));
    const local = this.config.database.engine === "sqlite";
    const root = this.containmentState().root;
    const out: NonNullable<DispatcherStatus["footprints"]> = [];
    const keys = new Set<string>();
    const at = this.now();
    // One pass over /proc for every tree and one for every run's marker, however many workers.
    let trees: Map<number, number[]> | null = null;
    let marked: Map<string, { pid: number }[]> | null = null;
    for (const w of running) {
      if (w.run_id === null || (!ours.has(w.pid) && !(local && isPidAlive(w.pid)))) continue;
      const key = `${w.board}:${w.run_id}`;
      keys.add(key);
      const cg = this.pool.cgroupOf(w.pid) ?? (root !== null ? cgroupOf(w.pid) : null);
      const inOurs = cg !== null && root !== null && cg.startsWith(`${root}/`);
      let source: { cgroup: string } | { pids: number[] };
      if (inOurs) source = { cgroup: cg };
      else {
        marked ??= byRun(scanRunProcesses({ boardKeys: new Set(boardKeys.values()) }));
        const bk = boardKeys.get(w.board);
        const escaped = bk === undefined ? [] : (marked.get(runKey({ boardKey: bk, runId: w.run_id })) ?? []);
        trees ??= processTrees(running.map((r) => r.pid));
        source = { pids: [...(trees.get(w.pid) ?? []), ...escaped.map((p) => p.pid)] };
      }
      const f = this.footprintSampler.sample(key, source);
      out.push({ run_id: w.run_id, task_id: w.task_id, board: w.board, ...f, sampled_at: at });
    }
    this.footprintSampler.retain(keys);
    return out;
  }

  private async writeStatus(extra: Partial<DispatcherStatus> = {}): Promise<void> {
    try {
      await this.coordination.publish({ ...this.status(), ...extra });
    } catch (err) {
      this.log(`cannot write status: ${oneLine(err)}`);
    }
  }

  /** One tick on one board (`kanban dispatch`): `--board`, else KANBAN_BOARD / the current board. */
  async once(opts: OnceOptions = {}): Promise<DispatchResult> {
    const loc = this.config.location;
    // On PostgreSQL a board made from another host has no board.json here: KANBAN_BOARD is taken
    // as given (and checked against the database) rather than falling back to the current board.
    const slug =
      opts.board !== undefined
        ? normaliseSlug(opts.board)
        : this.boards.engine === "postgres" && loc.envBoard !== undefined
          ? normaliseSlug(loc.envBoard)
          : currentBoard(loc);
    const target = await this.openTarget(await this.boards.target(slug));
    try {
      const others = async () => await this.runningOnOtherBoards(target.dbPath);
      const r = await dispatchOnce(
        target.board,
        { ...this.dispatchOptions(), dryRun: opts.dryRun === true },
        this.deps(target, others),
      );
      if (!r.skipped_locked && opts.dryRun !== true) {
        await this.cleanupFinished(target);
        // A one-shot tick judges the completions waiting for their acceptance commands too, and waits
        // for the verdicts (bounded by the commands' timeouts): nobody else would run them.
        await this.startGates(target);
        await this.gates.drain();
      }
      // A one-shot tick also stops what is left of ended runs, and waits for its stops like the pool's.
      if (opts.dryRun !== true) await this.runSweep.sweep([target]);
      await this.runSweep.drain();
      return r;
    } finally {
      this.boards.done(target.board);
    }
  }

  /**
   * Stopping the loop (SIGTERM or SIGINT from a supervisor, or its death) stops every worker it
   * spawned that still runs: nothing it started may go on working unsupervised, holding claims and
   * workspaces. Each worker's claim is given back first, as `kanban reclaim` does (the task returns
   * to ready, its run ends `reclaimed`, no failure is counted, so a restart does not trip the
   * circuit breaker), then its process group is terminated like any reclaimed worker's: SIGTERM, up
   * to `terminate_grace_seconds`, SIGKILL. A task settled meanwhile keeps its outcome; its worker is
   * stopped all the same. `--once` never gets here: its workers outlive it by design.
   */
  private async stopWorkers(): Promise<void> {
    const live = this.pool.running();
    if (live.length === 0) return;
    const reason = `dispatcher pid ${this.config.pid} stopped`;
    const boards = new Set(live.map((w) => w.board));
    let targets: Target[] = [];
    try {
      targets = (await this.targets()).filter((t) => boards.has(t.slug));
    } catch (err) {
      this.warn(`cannot list boards to give back claims: ${oneLine(err)}`);
    }
    for (const t of targets) {
      let o: OpenTarget;
      try {
        o = await this.openTarget(t);
      } catch (err) {
        this.warn(`board ${t.slug}: cannot open ${t.dbPath} to give back claims: ${oneLine(err)}`);
        continue;
      }
      try {
        for (const w of live) {
          if (w.board !== t.slug) continue;
          try {
            await o.board.reclaimTask(w.task_id, { reason });
          } catch {
            // settled (or reclaimed by someone else) meanwhile: its outcome stands
          }
        }
      } finally {
        this.boards.done(o.board);
      }
    }
    this.log(`stopping ${live.length} worker(s): ${live.map((w) => `${w.task_id} (pid ${w.pid})`).join(", ")}`);
    this.pool.terminate(
      live.map((w) => ({ pid: w.pid, lock: null })),
      this.config.settings.terminateGraceSeconds,
    );
  }

  /**
   * Claims the previous dispatcher made but never handed to a worker (it died between claim and
   * spawn): its pid is in the last status file, it is gone, and the task has no worker pid. They are
   * reclaimed at start-up instead of waiting out the claim TTL. Claims by anyone else (a person's
   * `kanban claim`, another host) are never touched.
   */
  private async recoverOrphanedClaims(predecessors: { host: string; pid: number }[]): Promise<string[]> {
    const recovered: string[] = [];
    for (const p of predecessors) {
      // A pid of this host that is alive is not a dead predecessor (ours, or a recycled pid): leave it.
      if (p.host === this.config.hostname && (p.pid === this.config.pid || this.pool.isAlive(p.pid))) continue;
      recovered.push(...(await this.recoverClaimsOf(p.host, p.pid)));
    }
    return recovered;
  }

  private async recoverClaimsOf(host: string, previousPid: number): Promise<string[]> {
    const lock = `${host}:${previousPid}`;
    const recovered: string[] = [];
    for (const t of await this.targets()) {
      if (this.isQuarantined(t.dbPath)) continue;
      try {
        const o = await this.openTarget(t);
        try {
          for (const id of await o.board.unspawnedClaims(lock)) {
            try {
              await o.board.reclaimTask(id, {
                reason: `dispatcher pid ${previousPid} stopped before spawning a worker`,
              });
              recovered.push(id);
            } catch {
              // settled by someone else meanwhile
            }
          }
        } finally {
          this.boards.done(o.board);
        }
      } catch {
        // an unreadable board is reported by the first tick
      }
    }
    if (recovered.length > 0)
      this.log(
        `reclaimed ${recovered.length} claim(s) orphaned by dispatcher pid ${previousPid}: ${recovered.join(", ")}`,
      );
    return recovered;
  }

  private async runningOnOtherBoards(excludePath: string): Promise<number> {
    if (this.config.pinnedDb !== null) return 0;
    let n = 0;
    for (const t of await this.targets()) {
      if (t.dbPath === excludePath || this.isQuarantined(t.dbPath)) continue;
      try {
        const o = await this.openTarget(t);
        try {
          n += await safeRunningCount(o.board);
        } finally {
          this.boards.done(o.board);
        }
      } catch {
        // an unreadable board contributes nothing; the loop reports it
      }
    }
    return n;
  }

  /**
   * Runs the loop until {@link stop}. Throws {@link DispatcherBusyError} when another live
   * dispatcher holds the home. On stop: the current tick finishes, the workers it spawned are
   * stopped ({@link stopWorkers}), pending terminations complete, a final status with `stopped_at`
   * is written and the lock is released.
   */
  async run(): Promise<void> {
    let boards: string[] = [];
    try {
      boards = (await this.targets()).map((t) => t.slug);
    } catch {
      // the first tick reports a home whose boards cannot be listed
    }
    const attempt = await this.coordination.acquire(boards);
    if (!attempt.ok) throw new DispatcherBusyError(this.config.home, attempt.holder);
    this.acquired = true;
    await this.recoverOrphanedClaims(attempt.predecessors);
    // Orphans of a predecessor (SIGKILLed while its workers ran) whose runs ended meanwhile go now.
    await this.runSweep.sweep().catch((err: unknown) => this.warn(`containment sweep failed: ${oneLine(err)}`));
    this.runSweep.start();
    // Notifications (issue 17, notify/): delivered on the notifier's own timer beside the ticks.
    const notifier = startDispatcherNotifier({
      home: this.config.home,
      targets: () => this.targets(),
      boards: this.boards,
      skip: (t) => this.isQuarantined(t.dbPath),
      clock: this.clock,
      log: (line) => this.log(line),
      warn: (message) => this.warn(message),
    });
    this.startedAt = this.now();
    // Our pid is on record before the first claim, so that a successor can recover our orphans.
    await this.writeStatus({});
    // Nudges sent before now are covered by the first tick.
    this.coordination.nudgePending();
    this.log(
      `started for ${describeDatabase(this.config)} (pid ${this.config.pid}, every ${this.config.settings.intervalSeconds}s, ${describeRuntime(this.config)})`,
    );
    if (this.config.database.engine === "postgres" && this.config.apiUrl === null) {
      this.log(
        "workers reach their board in local mode, with this dispatcher's database URL; set KANBAN_URL to give them a run token for the API instead",
      );
    }
    try {
      while (!this.stopping) {
        try {
          await this.serialised(() => this.tick());
        } catch (err) {
          this.warn(`tick failed: ${oneLine(err)}`);
        }
        if (this.stopping) break;
        await this.sleepUntilNextTick();
      }
      await this.exclusive;
      this.runSweep.stop();
      await this.stopWorkers();
      await this.pool.drain();
      await this.runSweep.drain();
      // Rounds in progress report before the boards close (their commands are bounded by their timeouts).
      await this.gates.drain();
    } finally {
      await notifier.stop();
      await this.writeStatus({ stopped_at: this.now() });
      await this.coordination.release();
      await this.boards.close();
      this.acquired = false;
      this.log("stopped");
    }
  }

  private sleepUntilNextTick(): Promise<void> {
    // A real timer (setTimeout), so a monotonic deadline: the injected clock dates things, it does not sleep.
    const end = performance.now() + this.config.settings.intervalSeconds * 1000;
    return new Promise<void>((resolve) => {
      let timer: NodeJS.Timeout | null = null;
      // An engine that hears nudges (PostgreSQL's LISTEN) wakes us at once; files are polled below.
      const unsubscribe = this.coordination.onNudge(() => {
        this.coordination.nudgePending();
        finish();
      });
      const finish = () => {
        unsubscribe();
        if (timer !== null) clearTimeout(timer);
        this.wake = null;
        resolve();
      };
      const step = () => {
        if (this.stopping) return finish();
        if (this.coordination.nudgePending()) return finish();
        // An edited config.json is applied by a tick now, not after the interval.
        if (this.configChanged()) return finish();
        const left = end - performance.now();
        if (left <= 0) return finish();
        timer = setTimeout(step, Math.min(1000, left));
      };
      this.wake = finish;
      step();
    });
  }

  /** Asks the loop to stop after the current tick. */
  stop(): void {
    this.stopping = true;
    this.wake?.();
  }

  get stopped(): boolean {
    return this.stopping;
  }
}

/** Where the boards are, as it may be printed: the home, or the PostgreSQL database without its password. */
function describeDatabase(config: DispatcherConfig): string {
  const db = config.database;
  return db.engine === "postgres" ? `${databaseLabel(db.url)} (home ${config.home})` : config.home;
}

function describeRuntime(config: DispatcherConfig): string {
  const r = config.runtime;
  if (r.kind === "hermes") return `hermes runtime (profiles of ${r.hermesHome})`;
  const names = Object.keys(r.profiles);
  return `profiles: ${names.join(", ")}`;
}

async function safeRunningCount(board: Board): Promise<number> {
  try {
    return await runningCount(board);
  } catch {
    return 0;
  }
}

async function runningWorkersOf(t: OpenTarget): Promise<DispatcherStatus["running_workers"]> {
  const rows = await t.board.runningWorkers();
  return rows.map((r) => ({
    task_id: r.task_id,
    board: t.slug,
    pid: r.pid,
    run_id: r.run_id,
    started_at: r.started_at,
  }));
}

function finished(status: string | undefined): boolean {
  return status === "done" || status === "archived";
}

async function hasUnfinishedChild(board: Board, id: string): Promise<boolean> {
  for (const c of await board.childIds(id)) if (!finished((await board.getTask(c))?.status)) return true;
  return false;
}

function didWork(r: DispatchResult): boolean {
  return (
    r.reclaimed > 0 ||
    r.promoted > 0 ||
    r.spawned.length > 0 ||
    r.crashed.length + r.timed_out.length + r.stale.length + r.auto_blocked.length > 0 ||
    r.rate_limited.length + r.transient.length + r.auto_revived.length + r.revive_exhausted.length > 0
  );
}

function describe(r: DispatchResult): string {
  return `reclaimed=${r.reclaimed} crashed=${r.crashed.length} timed_out=${r.timed_out.length} stale=${r.stale.length} rate_limited=${r.rate_limited.length} transient=${r.transient.length} promoted=${r.promoted} spawned=${r.spawned.length} auto_blocked=${r.auto_blocked.length} auto_revived=${r.auto_revived.length}`;
}

export function createDispatcher(config: DispatcherConfig, deps: DispatcherDeps = {}): Dispatcher {
  return new Dispatcher(config, deps);
}

/** Flow-ledger transactions per board per tick (each at most 2,000 tasks; see advanceFlow). */
const FLOW_STEPS_PER_TICK = 5;
/** The least time between two advances of one board's flow ledger. */
const FLOW_ADVANCE_INTERVAL_SECONDS = 10;

/** How much of a worker's log a protocol violation's event is read from (the kernel keeps the end of it). */
const LOG_TAIL_BYTES = 4096;

/**
 * The end of a worker's log, or null when there is none to read, with credentials cut: it is kept on
 * an event every reader of the card sees (see @kanban/contract's redactSecrets).
 */
function logTail(file: string, secrets: readonly string[]): string | null {
  const tail = readLogTail(file, LOG_TAIL_BYTES, secrets);
  return tail ? redactSecrets(tail, secrets) : null;
}
