import { tryExclusiveFlock } from "./flock.ts";
import { sleepSync } from "./sleep.ts";

export interface InitLockOptions {
  /** Give up waiting after this long and proceed unlocked (with a warning), as Hermes does. */
  timeoutMs?: number;
  pollMs?: number;
  warn?: (message: string) => void;
}

/**
 * Cross-process lock `<db>.init.lock` held while a process checks, creates or upgrades a board's
 * schema, so that several processes opening the same file at once do not race the migrator.
 *
 * Hermes' protocol exactly (spec §1.2): a non-blocking exclusive `flock` on the file, polled every
 * 50 ms, bounded to 10 s (then proceed without it and warn: the schema steps are idempotent); the
 * file is left in place, empty. So Hermes processes and ours exclude each other, and a leftover
 * file, whoever left it, costs no wait. A directory where the file cannot even be opened (read-only)
 * proceeds unlocked: opening the board reports the real problem.
 */
export function acquireInitLock(lockPath: string, opts: InitLockOptions = {}): () => void {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const pollMs = opts.pollMs ?? 50;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const attempt = tryExclusiveFlock(lockPath);
    if (attempt === "unavailable") return () => {};
    if (attempt !== "busy") return () => attempt.release();
    if (Date.now() >= deadline) {
      opts.warn?.(`init lock ${lockPath} still held by another process after ${timeoutMs} ms; continuing without it`);
      return () => {};
    }
    sleepSync(pollMs);
  }
}
