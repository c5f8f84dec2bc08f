import fs from "node:fs";

/**
 * Process inspection for host-local workers. Linux details (`/proc`) are used when present; other
 * POSIX systems fall back to `kill(pid, 0)` alone.
 */

/** Fields of `/proc/<pid>/stat` after the command name (which may itself contain spaces and parens). */
export function procStatFields(pid: number): string[] | null {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return null;
  }
  const close = text.lastIndexOf(")");
  if (close < 0) return null;
  // fields[0] = state (field 3 of proc(5)), fields[2] = pgrp (field 5), fields[19] = starttime (field 22)
  return text
    .slice(close + 2)
    .trim()
    .split(/\s+/);
}

const hasProc = fs.existsSync("/proc/self/stat");

/**
 * Our own process group (Linux), so that a stale worker pid that happens to equal it can never make
 * us signal ourselves and our siblings (a CLI run from a shell shares the shell's group).
 */
function ownProcessGroup(): number | null {
  const pgrp = procStatFields(process.pid)?.[2];
  return pgrp !== undefined ? Number(pgrp) : null;
}

/**
 * Whether `pid` is a live process on this host. A zombie (`Z`, or `X` dead) is not alive: it has
 * exited and only waits for its parent to reap it, which for another process's child may never happen.
 */
export function isPidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  if (!hasProc) return true;
  const fields = procStatFields(pid);
  if (fields === null) return false;
  const state = fields[0] ?? "";
  return state !== "Z" && state !== "X";
}

/** The parent of `pid` (Linux `/proc`), null when unknown or gone. */
export function parentPidOf(pid: number): number | null {
  const ppid = procStatFields(pid)?.[1];
  return ppid !== undefined ? Number(ppid) : null;
}

/** The command name of `pid` (Linux `/proc/<pid>/comm`, e.g. `sh`), null when unknown or gone. */
export function commandNameOf(pid: number): string | null {
  try {
    return fs.readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return null;
  }
}

/** The kernel start time of a process (clock ticks since boot), to tell a recycled pid from the original. */
export function processStartTime(pid: number): string | null {
  if (!hasProc) return null;
  return procStatFields(pid)?.[19] ?? null;
}

/** Whether any process of the process group `pgid` still exists (zombies included). */
export function processGroupExists(pgid: number): boolean {
  if (!Number.isInteger(pgid) || pgid <= 1) return false;
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Sends `signal` to the whole process group led by `pgid` (workers are spawned as group leaders, so
 * their own children go too). Never signals a bare pid: a worker pid that no longer leads a group
 * was recycled by an unrelated process. Returns false when no such group exists.
 */
export function signalProcessGroup(pgid: number, signal: NodeJS.Signals): boolean {
  if (!Number.isInteger(pgid) || pgid <= 1 || pgid === process.pid || pgid === ownProcessGroup()) return false;
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Whether any member of group `pgid` is still alive (not a zombie), on Linux; else whether the group exists. */
export function processGroupAlive(pgid: number): boolean {
  if (!processGroupExists(pgid)) return false;
  if (!hasProc) return true;
  let entries: string[];
  try {
    entries = fs.readdirSync("/proc");
  } catch {
    return true;
  }
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    const fields = procStatFields(Number(name));
    if (fields === null || fields[2] !== String(pgid)) continue;
    if (fields[0] !== "Z" && fields[0] !== "X") return true;
  }
  return false;
}
