import fs from "node:fs";
import path from "node:path";
import { type FileLock, tryExclusiveFlock } from "@kanban/db";
import { cgroupPids, isPidAlive, processStartTime } from "@kanban/process";

/**
 * The host's worker count, shared by every dispatcher that uses the same directory (by default one
 * per user on the host, whatever the home or board): one small file per worker it started,
 * `<dir>/workers/<pid>-<start time>.json`. A worker counts while its leader process lives (the same
 * process: the start time rules out a recycled pid) or, in cgroup containment, while its cgroup
 * still holds a process. Files of finished workers are removed by whoever counts next, so a
 * SIGKILLed dispatcher leaves nothing that counts for long.
 *
 * Counting and starting a worker happen under `<dir>/admission.lock` (flock) when a host cap is set,
 * so two dispatchers can never both take the last slot.
 */
export interface HostSlot {
  pid: number;
  start: string | null;
  board: string;
  run_id: number;
  task_id: string;
  home: string;
  /** The worker's cgroup directory in cgroup containment. */
  cgroup: string | null;
  /** Unix seconds. */
  at: number;
}

/** How long {@link HostSlots.lock} waits for another dispatcher's admission before giving up (ms). */
export const ADMISSION_LOCK_WAIT_MS = 10_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class HostSlots {
  readonly workersDir: string;

  constructor(readonly dir: string) {
    this.workersDir = path.join(dir, "workers");
  }

  private ensure(): void {
    fs.mkdirSync(this.workersDir, { recursive: true, mode: 0o700 });
  }

  /**
   * The host's admission lock, waited for (another dispatcher holds it only while it counts and
   * starts one worker). Null when it cannot be had within {@link ADMISSION_LOCK_WAIT_MS}.
   */
  async lock(waitMs = ADMISSION_LOCK_WAIT_MS): Promise<FileLock | null> {
    this.ensure();
    const file = path.join(this.dir, "admission.lock");
    const end = performance.now() + waitMs;
    for (;;) {
      const attempt = tryExclusiveFlock(file);
      if (attempt !== "busy" && attempt !== "unavailable") return attempt;
      if (attempt === "unavailable" || performance.now() > end) return null;
      await sleep(20);
    }
  }

  /** The workers running on the host now; files of finished ones are removed on the way. */
  live(): HostSlot[] {
    let names: string[];
    try {
      names = fs.readdirSync(this.workersDir);
    } catch {
      return [];
    }
    const out: HostSlot[] = [];
    for (const name of names) {
      if (!name.endsWith(".json")) continue;
      const file = path.join(this.workersDir, name);
      let slot: HostSlot;
      try {
        slot = JSON.parse(fs.readFileSync(file, "utf8")) as HostSlot;
      } catch {
        continue; // being written (never: writes are renames) or removed meanwhile
      }
      if (slotAlive(slot)) out.push(slot);
      else fs.rmSync(file, { force: true });
    }
    return out;
  }

  /** Records a worker just started (a rename, so a counter never reads half a file). */
  add(slot: Omit<HostSlot, "start">): void {
    this.ensure();
    const full: HostSlot = { ...slot, start: processStartTime(slot.pid) };
    const file = path.join(this.workersDir, `${slot.pid}-${full.start ?? "x"}.json`);
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(full));
    fs.renameSync(tmp, file);
  }
}

function slotAlive(slot: HostSlot): boolean {
  if (isPidAlive(slot.pid)) {
    const start = processStartTime(slot.pid);
    if (slot.start === null || start === null || start === slot.start) return true;
  }
  // The leader is gone, but a worker's tree in its own cgroup counts until the cgroup is empty.
  return slot.cgroup !== null && cgroupPids(slot.cgroup).length > 0;
}
