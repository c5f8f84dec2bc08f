/// <reference path="./fs-ext.d.ts" />
import fs from "node:fs";
import fsExt from "fs-ext";

/**
 * Advisory `flock(2)` locks on persistent files: the protocol Hermes uses for `<db>.init.lock` and
 * `<db>.dispatch.lock` (Python `fcntl.flock(fd, LOCK_EX | LOCK_NB)` on a file it never deletes).
 * Speaking the same protocol on the same file is what makes a Hermes process and ours exclude each
 * other. The kernel drops the lock when its holder's last descriptor closes, also on SIGKILL, so a
 * leftover file is never stale: it is simply unlocked. The file is never deleted (a process that
 * still held the old inode would otherwise hold "the lock" beside whoever created a new file) and
 * never written: it stays empty, as Hermes leaves it.
 *
 * Node has no flock; `fs-ext` (a small native addon built at install) provides the system call.
 */
const { flockSync } = fsExt; // a CommonJS addon: its exports arrive as the default import

export interface FileLock {
  readonly path: string;
  /** Unlocks and closes; the file stays. Idempotent. */
  release(): void;
}

function openLockFile(lockPath: string): number | null {
  try {
    return fs.openSync(lockPath, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o644);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // A read-only directory or file: flock works on a read-only descriptor of an existing file.
    if (code === "EACCES" || code === "EROFS" || code === "EPERM") {
      try {
        return fs.openSync(lockPath, fs.constants.O_RDONLY);
      } catch {
        return null;
      }
    }
    return null;
  }
}

/**
 * One non-blocking attempt at an exclusive flock on `lockPath` (created empty if missing).
 * Returns the held lock, `"busy"` when another open file description holds it (another process, or
 * another open of the file in this one), or `"unavailable"` when the file cannot be opened at all.
 */
export function tryExclusiveFlock(lockPath: string): FileLock | "busy" | "unavailable" {
  const fd = openLockFile(lockPath);
  if (fd === null) return "unavailable";
  try {
    flockSync(fd, "exnb");
  } catch (err) {
    fs.closeSync(fd);
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EAGAIN" || code === "EWOULDBLOCK") return "busy";
    return "unavailable";
  }
  let released = false;
  return {
    path: lockPath,
    release() {
      if (released) return;
      released = true;
      try {
        flockSync(fd, "un");
      } finally {
        fs.closeSync(fd); // closing alone would release it too
      }
    },
  };
}
