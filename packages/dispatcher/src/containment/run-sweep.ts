import type { Board, EndedRun, Termination } from "@kanban/kernel";
import {
  boardKey,
  byRun,
  leaderIdentity,
  type RunIdentity,
  runMarkerEnv,
  type RunProcess,
  runKey,
  scanRunProcesses,
  stopCgroup,
  stopRunTree,
  type TreeStopReport,
} from "@kanban/process";
import type { Target } from "../board-set.ts";

/**
 * Containment by run: no process of a run outlives the run. Whatever ended it (the worker settling its
 * card, a person's complete/block/archive/delete, a reclaim, a reassign, a timeout, the breaker, a
 * cancel through the API, CLI or MCP, or another dispatcher), this sweep finds the processes that
 * still carry the run's identity in their environment and stops them, their process groups
 * included: SIGTERM, `terminate_grace_seconds`, SIGKILL. It runs on its own short timer, so a
 * released card's worker is stopped within about a second whatever the dispatch interval, and on
 * start-up, so the orphans of a dispatcher that was SIGKILLed are stopped on the first tick.
 *
 * It only ever acts on runs the board says are over (closed, superseded by a newer run, their task
 * no longer running, or deleted): a live run of the same board worked by another dispatcher on this
 * host (PostgreSQL) is left alone. The kernel judges (`endedRuns`) and records what was stopped
 * (`recordTreeStopped`, event `terminal_worker_reaped`); this file only reads /proc and signals.
 */

/** How often the sweep runs while the loop runs (independent of the dispatch interval). */
export const CONTAINMENT_INTERVAL_MS = 1000;

export interface RunSweepDeps {
  /** The boards this dispatcher serves now. */
  targets(): Promise<Target[]>;
  open(t: Target): Promise<Board>;
  done(board: Board): void;
  /** `terminate_grace_seconds`, asked at each stop (config.json may change). */
  graceSeconds(): number;
  /** Who stops, as the event says it (`dispatcher pid 123 on host`). */
  by: string;
  log(line: string): void;
  warn(line: string): void;
  /** Boards not to touch now (quarantined). */
  skip?(t: Target): boolean;
  /** The cgroup a worker of ours runs in (cgroup containment), so its tree is stopped through it. */
  cgroupOf?(pid: number): string | null;
}

/** What one sweep saw and started. */
export interface SweepResult {
  /** Processes carrying a run of one of our boards. */
  found: number;
  /** Runs whose processes it started stopping (`<board slug>:<run id>`). */
  stopping: string[];
}

/** The board key every worker of a target carries (`KANBAN_BOARD_KEY`). */
export function targetKey(t: Target): string {
  return boardKey(t.dbPath);
}

/** The variables that mark a worker of run `runId` on `t` (added to its environment at spawn). */
export function runMarkerOf(t: Target, runId: number): Record<string, string> {
  return runMarkerEnv({ runId, boardKey: targetKey(t) });
}

export class RunSweep {
  /** Stops under way, by run key, so a run slow to die is never stopped twice at once. */
  private readonly inFlight = new Map<string, Promise<void>>();
  private sweeping: Promise<SweepResult> | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly deps: RunSweepDeps) {}

  /** Starts the sweep timer (unref'd: it never keeps the process alive). */
  start(intervalMs = CONTAINMENT_INTERVAL_MS): void {
    if (this.timer !== null) return;
    this.timer = setInterval(() => {
      void this.sweep().catch((err: unknown) => this.deps.warn(`containment sweep failed: ${oneLine(err)}`));
    }, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** Waits for every stop under way (at most the grace period and a moment). */
  async drain(): Promise<void> {
    if (this.sweeping !== null) await this.sweeping.catch(() => {});
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight.values()]);
  }

  /** One pass (over `only`, else every board served); a pass already running is joined, never doubled. */
  sweep(only?: readonly Target[]): Promise<SweepResult> {
    if (this.sweeping !== null) return this.sweeping;
    const run = this.sweepOnce(only).finally(() => {
      this.sweeping = null;
    });
    this.sweeping = run;
    return run;
  }

  private async sweepOnce(only?: readonly Target[]): Promise<SweepResult> {
    const targets = (only ?? (await this.deps.targets())).filter((t) => !this.deps.skip?.(t));
    const byKey = new Map(targets.map((t) => [targetKey(t), t]));
    const procs = byKey.size === 0 ? [] : scanRunProcesses({ boardKeys: new Set(byKey.keys()) });
    const result: SweepResult = { found: procs.length, stopping: [] };
    if (procs.length === 0) return result;
    const runsOf = new Map<string, RunProcess[][]>();
    for (const group of byRun(procs).values()) {
      const first = group[0];
      if (first === undefined || this.inFlight.has(runKey(first))) continue;
      const list = runsOf.get(first.boardKey);
      if (list) list.push(group);
      else runsOf.set(first.boardKey, [group]);
    }
    for (const [key, runs] of runsOf) {
      const t = byKey.get(key);
      if (t === undefined) continue;
      let ended: EndedRun[];
      let now: number;
      try {
        [ended, now] = await this.withBoard(
          t,
          async (b) => [await b.endedRuns(runs.map((g) => g[0]?.runId ?? 0)), b.now()] as const,
        );
      } catch (err) {
        this.deps.warn(`board ${t.slug}: containment cannot read runs: ${oneLine(err)}`);
        continue;
      }
      for (const e of ended) {
        if (exitingByItself(e, now)) continue;
        const group = runs.find((g) => g[0]?.runId === e.run_id) ?? [];
        // Each group led by one of the run's processes (the worker's, a setsid escapee's) goes whole.
        const groups = [...new Set(group.filter((p) => p.pgid === p.pid).map((p) => p.pid))];
        this.stopRun(t, { runId: e.run_id, boardKey: key }, groups, e);
        result.stopping.push(`${t.slug}:${e.run_id}`);
      }
    }
    return result;
  }

  /**
   * Stops workers the kernel named when this dispatcher ended their runs itself (timeout, stale
   * claim, a claim released during spawn): the same path as the sweep's, started now rather than at
   * the next pass. A worker whose run the sweep is already stopping is not stopped twice.
   */
  terminate(t: Target, targets: readonly Termination[]): void {
    const key = targetKey(t);
    for (const w of targets) {
      const identity = leaderIdentity(w.pid);
      // A leader that carries another board's run (or none) is stopped by its group only.
      const own = identity !== null && identity.boardKey === key ? identity : null;
      if (own !== null && this.inFlight.has(runKey(own))) continue;
      this.stopRun(t, own, [w.pid], null);
    }
  }

  private stopRun(t: Target, identity: RunIdentity | null, groups: number[], ended: EndedRun | null): void {
    const key = identity ? runKey(identity) : `${targetKey(t)}:pid:${groups.join(",")}`;
    if (this.inFlight.has(key)) return;
    const done = this.stopAndRecord(t, identity, groups, ended)
      .catch((err: unknown) =>
        this.deps.warn(`board ${t.slug}: stopping ${describe(identity, groups)} failed: ${oneLine(err)}`),
      )
      .finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, done);
  }

  private async stopAndRecord(
    t: Target,
    identity: RunIdentity | null,
    groups: number[],
    known: EndedRun | null,
  ): Promise<void> {
    const graceMs = this.deps.graceSeconds() * 1000;
    const log = (line: string) => this.deps.log(`board ${t.slug}: ${line}`);
    // The cgroup (if any) and whatever carries the run outside it, side by side: one grace period.
    const [caged, tree] = await Promise.all([
      this.stopCaged(groups, graceMs, log),
      stopRunTree({ groups, identity }, { graceMs, log }),
    ]);
    const report: TreeStopReport = {
      outcome: caged.killed.length + tree.killed.length > 0 ? "killed" : tree.outcome,
      pids: [...new Set([...caged.pids, ...tree.pids])],
      killed: [...new Set([...caged.killed, ...tree.killed])],
    };
    const leader = known !== null ? leaderOf(groups, known) : (groups[0] ?? null);
    if (report.killed.length > 0) {
      this.deps.log(
        `board ${t.slug}: ${leader !== null ? `worker pid ${leader}` : describe(identity, groups)} survived SIGTERM for ${graceMs / 1000}s: SIGKILL to ${report.killed.length} of ${report.pids.length} process(es)${identity ? ` of run ${identity.runId}` : ""}`,
      );
    }
    if (report.pids.length === 0 || identity === null) return;
    // The run's task, to tell: what the sweep judged, else asked now (this dispatcher ended it itself).
    const ended = known ?? (await this.withBoard(t, (b) => b.endedRuns([identity.runId])))[0] ?? null;
    if (ended?.task_id == null) return;
    const taskId = ended.task_id;
    await this.withBoard(t, (b) =>
      b.recordTreeStopped(
        taskId,
        identity.runId,
        stoppedOf(report, ended.outcome, this.deps.by),
        leaderOf(groups, ended),
      ),
    );
    this.deps.log(
      `board ${t.slug}: run ${identity.runId} of ${taskId} (${ended.outcome}): stopped ${report.pids.length} process(es)${report.killed.length > 0 ? `, ${report.killed.length} with SIGKILL` : ""}`,
    );
  }

  /**
   * A worker in its own cgroup (helper A's cgroup containment) is stopped through it: every process
   * of the cgroup, wherever it went and whatever its environment. `cgroup.kill` does not say which
   * processes it reached, so all those found in the cgroup count as killed when it was needed.
   */
  private async stopCaged(
    groups: number[],
    graceMs: number,
    log: (line: string) => void,
  ): Promise<{ pids: number[]; killed: number[] }> {
    const dirs = [...new Set(groups.map((g) => this.deps.cgroupOf?.(g) ?? null).filter((d) => d !== null))];
    const out = { pids: [] as number[], killed: [] as number[] };
    for (const dir of dirs) {
      const r = await stopCgroup(dir, { graceMs, log });
      out.pids.push(...r.pids);
      if (r.killed) out.killed.push(...r.pids);
    }
    return out;
  }

  private async withBoard<T>(t: Target, fn: (b: Board) => Promise<T>): Promise<T> {
    const b = await this.deps.open(t);
    try {
      return await fn(b);
    } finally {
      this.deps.done(b);
    }
  }
}

function stoppedOf(r: TreeStopReport, outcome: string, by: string) {
  return { pids: r.pids, killed: r.killed, run_outcome: outcome, by };
}

/** The worker among the groups stopped: the pid the run recorded, else the first group found. */
/**
 * A run its own worker has just settled (completed, blocked, scheduled) is left alone for a moment:
 * the call that settled it (`kanban complete`, an HTTP request) is still answering the worker when
 * the run is already over, and a worker exits by itself once answered. SIGTERM at that moment cut the
 * answer off (the CLI exited 143 after its completion had committed). A later pass stops whatever is
 * still there; someone else's ending (reclaim, archive, timeout…) is acted on at once.
 */
const SELF_SETTLED = new Set(["completed", "blocked", "scheduled"]);
const EXIT_WINDOW_SECONDS = 2;

function exitingByItself(e: EndedRun, now: number): boolean {
  if (!SELF_SETTLED.has(e.outcome) || e.ended_at === null) return false;
  const since = now - e.ended_at;
  return since >= 0 && since < EXIT_WINDOW_SECONDS;
}

function leaderOf(groups: number[], ended: EndedRun): number | null {
  return ended.worker_pid !== null && groups.includes(ended.worker_pid) ? ended.worker_pid : (groups[0] ?? null);
}

function describe(identity: RunIdentity | null, groups: number[]): string {
  return identity ? `run ${identity.runId}` : `worker pid ${groups.join(",")}`;
}

function oneLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split("\n")[0] ?? msg;
}
