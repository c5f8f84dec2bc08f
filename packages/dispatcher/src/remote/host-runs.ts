import fs from "node:fs";
import path from "node:path";
import { writeFileAtomic } from "./files.ts";

/**
 * What a remote host remembers of each run it claimed, one file per run
 * (`<home>/kanban/host-runs/<run_id>.json`), written before the worker is spawned and removed once
 * the server has heard how the run ended. After a restart (even a SIGKILL) the host names these
 * runs in its hello: the server answers which are no longer its own (their workers are stopped);
 * the others' workers, still running, are adopted (watched until they exit), and those that died
 * meanwhile are reported as exited.
 */
export interface HostRun {
  run_id: number;
  task_id: string;
  board: string;
  /** The board key the worker's processes carry (`KANBAN_BOARD_KEY`), to find its whole tree. */
  board_key: string;
  /** Null until spawned. */
  pid: number | null;
  /** The worker's kernel start time, so that a recycled pid is never taken for it. */
  start_time: string | null;
  log_path: string | null;
  claimed_at: number;
  /** How the worker ended, once known (null: unknown, e.g. it died while the host was down). */
  exit: { code: number | null; signal: string | null } | null;
  /** Why it could not be started, when it could not (reported with the exit). */
  spawn_error: string | null;
  /** The task's workspace kind: a scratch workspace is removed once the run's completion is accepted. */
  workspace_kind?: string | null;
}

export function hostRunsDir(home: string): string {
  return path.join(home, "kanban", "host-runs");
}

export function saveHostRun(home: string, run: HostRun): void {
  writeFileAtomic(path.join(hostRunsDir(home), `${run.run_id}.json`), `${JSON.stringify(run)}\n`);
}

export function removeHostRun(home: string, runId: number): void {
  fs.rmSync(path.join(hostRunsDir(home), `${runId}.json`), { force: true });
}

function valid(
  v: unknown,
): v is Pick<HostRun, "run_id" | "task_id" | "board" | "board_key" | "pid"> & Partial<HostRun> {
  if (typeof v !== "object" || v === null) return false;
  const r = v as Record<string, unknown>;
  return (
    Number.isSafeInteger(r.run_id) &&
    typeof r.task_id === "string" &&
    typeof r.board === "string" &&
    typeof r.board_key === "string" &&
    (r.pid === null || Number.isSafeInteger(r.pid))
  );
}

/** Every remembered run; unreadable files are reported through `onBad` and left for a person. */
export function loadHostRuns(home: string, onBad?: (file: string) => void): HostRun[] {
  const dir = hostRunsDir(home);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const out: HostRun[] = [];
  for (const name of names) {
    if (!/^\d+\.json$/.test(name)) continue;
    const file = path.join(dir, name);
    try {
      const raw = JSON.parse(fs.readFileSync(file, "utf8")) as unknown;
      if (!valid(raw)) throw new Error("invalid");
      out.push({ start_time: null, log_path: null, exit: null, spawn_error: null, claimed_at: 0, ...raw });
    } catch {
      onBad?.(file);
    }
  }
  return out.sort((a, b) => a.run_id - b.run_id);
}
