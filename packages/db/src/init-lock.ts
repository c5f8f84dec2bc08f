import fs from "node:fs";
import { pidAlive } from "./pid-alive.ts";
import { sleepSync } from "./sleep.ts";

export interface InitLockOptions {
  /** Give up waiting after this long and proceed unlocked (with a warning), as Hermes does. */
  timeoutMs?: number;
  pollMs?: number;
  warn?: (message: string) => void;
}

/**
 * Cross-process lock file `<db>.init.lock` held while a process creates or upgrades a board's
 * schema, so that several processes opening the same new file at once do not race the migrator.
 *
 * Node has no flock, so the lock is an exclusively-created file holding the owner's pid. A lock
 * whose owner is dead is stale and is taken over; a wait longer than `timeoutMs` proceeds without
 * the lock (the schema steps are idempotent, so the worst case is a retried statement).
 */
export function acquireInitLock(lockPath: string, opts: InitLockOptions = {}): () => void {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const pollMs = opts.pollMs ?? 50;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const fd = fs.openSync(lockPath, "wx");
      fs.writeSync(fd, String(process.pid));
      fs.closeSync(fd);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        try {
          fs.unlinkSync(lockPath);
        } catch {
          // Already gone: nothing to release.
        }
      };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== "EEXIST") {
        // Read-only directory or similar: locking is impossible, opening will report the real error.
        return () => {};
      }
    }
    let ownerPid = Number.NaN;
    try {
      ownerPid = Number.parseInt(fs.readFileSync(lockPath, "utf8"), 10);
    } catch {
      continue; // The holder released it between our open and read; try again at once.
    }
    if (!Number.isNaN(ownerPid) && !pidAlive(ownerPid)) {
      try {
        fs.unlinkSync(lockPath);
      } catch {
        // Someone else removed the stale lock first.
      }
      continue;
    }
    if (Date.now() >= deadline) {
      opts.warn?.(`init lock ${lockPath} still held by pid ${ownerPid} after ${timeoutMs} ms; continuing without it`);
      return () => {};
    }
    sleepSync(pollMs);
  }
}
