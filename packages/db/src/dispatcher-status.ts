import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pidAlive } from "./pid-alive.ts";

/**
 * Files through which the dispatcher process and the API talk without importing each other:
 *   <home>/kanban/.dispatcher.lock   singleton lock, holds the dispatcher's pid
 *   <home>/kanban/dispatcher.json    status after every tick (persisted, survives restarts)
 *   <home>/kanban/dispatcher.nudge   touched by the API to ask for a tick now
 */
export interface DispatcherTickSummary {
  board: string;
  reclaimed: number;
  crashed: string[];
  timed_out: string[];
  stale: string[];
  auto_blocked: string[];
  promoted: number;
  spawned: { task_id: string; assignee: string | null; workspace: string | null; pid: number | null }[];
  skipped_unassigned: string[];
  skipped_nonspawnable: string[];
  error?: string | null;
}

/** Why the dispatcher did not start a worker for a ready card it could otherwise have claimed (never claimed). */
export type DispatcherHoldCode = "memory_floor" | "host_cap" | "profile_cap";

/** One card held by the last tick's admission control (the card stays ready, unclaimed, no failure counted). */
export interface DispatcherHold {
  task_id: string;
  board: string;
  code: DispatcherHoldCode;
  /** memory_floor: `available_mb`, `floor_mb`, `profile`; host_cap: `max`, `running`; profile_cap: `assignee`, `current`, `max`. */
  detail: Record<string, unknown>;
}

/** How a worker's process tree is contained: its own cgroup v2, or its process group plus its run id in the environment. */
export type ContainmentMode = "cgroup" | "process-tree";

/** A running worker's live footprint, sampled by the dispatcher each tick. */
export interface WorkerFootprint {
  run_id: number;
  task_id: string;
  board: string;
  /** Processes in the worker's tree (its cgroup, or its process group and descendants). */
  pids: number;
  /** Resident memory of the tree (the cgroup's `memory.current` when it has one, else the sum of RSS). */
  rss_bytes: number;
  /** CPU used since the previous sample, in percent of one CPU; null on the first sample. */
  cpu_percent: number | null;
  /** Unix seconds. */
  sampled_at: number;
}

export interface DispatcherStatus {
  pid: number;
  started_at: number;
  last_tick_at: number | null;
  last_tick_ms: number | null;
  interval_seconds: number;
  ticks: number;
  boards: DispatcherTickSummary[];
  running_workers: { task_id: string; board: string; pid: number; run_id: number | null; started_at: number }[];
  warnings: { at: number; message: string }[];
  stopped_at?: number | null;
  /** Why the dispatcher runs on an older config.json than the one on disk (an invalid edit); null when current. */
  config_error?: string | null;
  /** Cards the last tick held back by admission control (absent in status files of older dispatchers). */
  holds?: DispatcherHold[];
  /** The host-wide worker cap (`max` null when none is set) and the workers running on the host. */
  host_cap?: { max: number | null; running: number } | null;
  /** How workers are contained; absent before containment was reported. */
  containment?: ContainmentMode | null;
  /** Why the process-tree fallback is used (or what cgroup mode cannot enforce); null when nothing to say. */
  containment_reason?: string | null;
  /** Each running worker's footprint from the last tick. */
  footprints?: WorkerFootprint[];
  /** The labels this local dispatcher offers (`--labels`, `kanban.labels`); absent in older status files. */
  labels?: string[];
}

/**
 * The status with the containment fields every reader may rely on: a status file written by an
 * older dispatcher has none of them (no holds, no footprints, containment unknown).
 */
export function withContainmentDefaults<T extends DispatcherStatus>(
  status: T,
): T & Required<Pick<DispatcherStatus, "holds" | "host_cap" | "containment" | "containment_reason" | "footprints">> {
  return {
    ...status,
    holds: Array.isArray(status.holds) ? status.holds : [],
    host_cap: status.host_cap ?? null,
    containment: status.containment ?? null,
    containment_reason: status.containment_reason ?? null,
    footprints: Array.isArray(status.footprints) ? status.footprints : [],
  };
}

export function dispatcherLockPath(home: string): string {
  return path.join(home, "kanban", ".dispatcher.lock");
}
export function dispatcherStatusPath(home: string): string {
  return path.join(home, "kanban", "dispatcher.json");
}
export function dispatcherNudgePath(home: string): string {
  return path.join(home, "kanban", "dispatcher.nudge");
}

/** Atomically replaces the status file (write to a temp file, then rename). */
export function writeDispatcherStatus(home: string, status: DispatcherStatus): void {
  const file = dispatcherStatusPath(home);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(status, null, 2)}\n`);
  fs.renameSync(tmp, file);
}

/** The pid holding the dispatcher lock, when that process is alive. */
export function liveDispatcherPid(home: string): number | null {
  try {
    const pid = Number.parseInt(fs.readFileSync(dispatcherLockPath(home), "utf8"), 10);
    return pidAlive(pid) ? pid : null;
  } catch {
    return null;
  }
}

/** The last persisted status plus whether a dispatcher is alive right now. */
export function readDispatcherStatus(home: string): (DispatcherStatus & { alive: boolean }) | null {
  const alive = liveDispatcherPid(home) !== null;
  try {
    const status = JSON.parse(fs.readFileSync(dispatcherStatusPath(home), "utf8")) as DispatcherStatus;
    return { ...withContainmentDefaults(status), alive };
  } catch {
    return null;
  }
}

/** Asks a running dispatcher to tick now. Returns false when no dispatcher is alive. */
export function nudgeDispatcher(home: string): boolean {
  const pid = liveDispatcherPid(home);
  if (pid === null) return false;
  const file = dispatcherNudgePath(home);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, String(Date.now()));
  return true;
}

/**
 * One dispatcher as the board shows it, whatever the engine: on SQLite the one the home's status
 * file and lock describe, on PostgreSQL each row of the board's `kanban_dispatchers` table (several
 * dispatchers, on several hosts, may serve one board there).
 *
 * - `alive`: its process (SQLite: the lock's pid; PostgreSQL: its coordination session) is there
 *   and it reported within {@link dispatcherSilenceLimit}.
 * - `stale`: its process seems there but it has been silent for longer (hung, or a pid reused).
 * - `dead`: its process is gone without a clean stop (killed, crashed, host lost).
 * - `stopped`: it stopped cleanly.
 */
export type DispatcherLiveness = "alive" | "stale" | "dead" | "stopped";

export interface DispatcherEntry {
  /** Stable per process start (PostgreSQL: a random id; SQLite: `pid:<pid>`). */
  id: string;
  host: string | null;
  pid: number;
  started_at: number;
  /** When it last reported (a tick, or its start). */
  heartbeat_at: number;
  interval_seconds: number;
  ticks: number;
  last_tick_at: number | null;
  /** Its last tick on this board (PostgreSQL) or on the first board of its last tick (SQLite). */
  last_tick: DispatcherTickSummary | null;
  state: DispatcherLiveness;
  /** Seconds since `heartbeat_at`. */
  silent_seconds: number;
}

/** Missed ticks after which a dispatcher that still seems to run is shown stale. */
export const DISPATCHER_STALE_TICKS = 3;

/** How long a dispatcher may be silent: three intervals, at least 30 s (a tick may take a while). */
export function dispatcherSilenceLimit(intervalSeconds: number): number {
  const interval = intervalSeconds > 0 ? intervalSeconds : 60;
  return Math.max(30, DISPATCHER_STALE_TICKS * interval);
}

/** The one rule for every engine; `now` in unix seconds (the reader's injected clock). */
export function judgeDispatcher(
  i: { present: boolean; stopped_at: number | null | undefined; heartbeat_at: number; interval_seconds: number },
  now: number,
): { state: DispatcherLiveness; silent_seconds: number } {
  const silent = Math.max(0, now - i.heartbeat_at);
  if (i.stopped_at !== null && i.stopped_at !== undefined) return { state: "stopped", silent_seconds: silent };
  if (!i.present) return { state: "dead", silent_seconds: silent };
  return { state: silent > dispatcherSilenceLimit(i.interval_seconds) ? "stale" : "alive", silent_seconds: silent };
}

/**
 * The SQLite home's dispatcher as a one-entry list (empty when none ever wrote a status): the
 * status file judged against the lock's live pid. The host is this one (the file is host-local).
 */
export function dispatcherEntriesFromHome(home: string, now: number): DispatcherEntry[] {
  const status = readDispatcherStatus(home);
  if (status === null) return [];
  const livePid = liveDispatcherPid(home);
  const heartbeat = status.last_tick_at ?? status.started_at;
  const judged = judgeDispatcher(
    {
      present: livePid !== null && livePid === status.pid,
      stopped_at: status.stopped_at,
      heartbeat_at: heartbeat,
      interval_seconds: status.interval_seconds,
    },
    now,
  );
  return [
    {
      id: `pid:${status.pid}`,
      host: os.hostname() || null,
      pid: status.pid,
      started_at: status.started_at,
      heartbeat_at: heartbeat,
      interval_seconds: status.interval_seconds,
      ticks: status.ticks,
      last_tick_at: status.last_tick_at,
      last_tick: status.boards[0] ?? null,
      ...judged,
    },
  ];
}
