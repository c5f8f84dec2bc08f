import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { KanbanDbError, tryExclusiveFlock } from "@kanban/db";
import { isPidAlive, processStartTime } from "@kanban/process";

/**
 * A lock file created exclusively (`O_CREAT|O_EXCL`) that holds its owner's pid and start time:
 * the per-home singleton (`<home>/kanban/.dispatcher.lock`, whose pid the API reads for the
 * dispatcher's status). A lock whose owner is dead (or whose pid was recycled, which the start time
 * reveals) is stale and taken over; a live owner means contention. Never blocks.
 *
 * The per-board tick lock is different: see {@link tryAcquireDispatchLock}.
 */
export interface PidLock {
  readonly path: string;
  release(): void;
}

export type LockAttempt = { ok: true; lock: PidLock } | { ok: false; holder: number };

interface Holder {
  pid: number;
  start: string | null;
  raw: string;
}

function readHolder(file: string): Holder | null {
  let raw: string;
  try {
    raw = fs.readFileSync(file, "utf8");
  } catch {
    return null;
  }
  // First line: pid (what `liveDispatcherPid` in @kanban/db parses); second: start time.
  const [pidLine, startLine] = raw.split("\n");
  const pid = Number.parseInt(pidLine ?? "", 10);
  return { pid: Number.isInteger(pid) ? pid : 0, start: startLine?.trim() || null, raw };
}

function holderAlive(h: Holder): boolean {
  if (!isPidAlive(h.pid)) return false;
  if (h.start === null) return true;
  const now = processStartTime(h.pid);
  return now === null || now === h.start;
}

function emptyAndOld(file: string): boolean {
  try {
    // Compared with the file system's mtime, so the wall clock the file system uses, not an injected one.
    return Date.now() - fs.statSync(file).mtimeMs > 5000;
  } catch {
    return false;
  }
}

function create(file: string, content: string): boolean {
  let fd: number;
  try {
    fd = fs.openSync(file, "wx");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw err;
  }
  try {
    fs.writeSync(fd, content);
  } finally {
    fs.closeSync(fd);
  }
  return true;
}

export function tryAcquirePidLock(file: string, pid: number = process.pid): LockAttempt {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const content = `${pid}\n${processStartTime(pid) ?? ""}\n${randomBytes(6).toString("hex")}\n`;
  for (let attempt = 0; attempt < 3; attempt++) {
    if (create(file, content)) {
      return {
        ok: true,
        lock: {
          path: file,
          release: () => {
            // Only remove the file while it is still ours (a takeover after a freeze must not be undone).
            if (readHolder(file)?.raw === content) fs.rmSync(file, { force: true });
          },
        },
      };
    }
    const holder = readHolder(file);
    if (holder === null) continue; // released between our create and read: try again
    if (holder.raw === "") {
      // Created but not yet written: its owner writes right after creating, so this is held unless
      // the owner died in between (an empty file older than a few seconds).
      if (!emptyAndOld(file)) return { ok: false, holder: 0 };
    } else if (holderAlive(holder)) return { ok: false, holder: holder.pid };
    // Stale: move it aside under a unique name, and only discard it if it is the stale one we judged.
    const aside = `${file}.stale.${pid}.${randomBytes(4).toString("hex")}`;
    try {
      fs.renameSync(file, aside);
    } catch {
      continue;
    }
    const moved = readHolder(aside);
    if (moved !== null && moved.raw !== holder.raw) {
      // Someone took it over between our read and rename: put their lock back.
      try {
        fs.linkSync(aside, file);
      } catch {
        // a third process holds it now; theirs stands
      }
    }
    fs.rmSync(aside, { force: true });
  }
  const holder = readHolder(file);
  return { ok: false, holder: holder?.pid ?? 0 };
}

/**
 * The per-board tick lock `<db>.dispatch.lock`, in Hermes' protocol: a non-blocking exclusive
 * `flock` on a persistent, empty file. A Hermes dispatcher and ours on one board therefore skip
 * each other's ticks (`skipped_locked`), and a file left by either is never stale (the kernel drops
 * a dead holder's lock). flock names no holder, so `holder` is 0 when busy. Never blocks.
 */
export function tryAcquireDispatchLock(file: string): LockAttempt {
  const attempt = tryExclusiveFlock(file);
  if (attempt === "busy") return { ok: false, holder: 0 };
  if (attempt === "unavailable") {
    throw new KanbanDbError(
      "DB_UNAVAILABLE",
      `cannot lock ${path.basename(file)}: its directory or file cannot be opened`,
      { path: file },
    );
  }
  return { ok: true, lock: attempt };
}
