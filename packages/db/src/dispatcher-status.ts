import fs from "node:fs";
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
    return { ...status, alive };
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
