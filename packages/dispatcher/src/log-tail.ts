import fs from "node:fs";
import { cutsOffSecrets, SECRET_MARGIN_BYTES } from "@kanban/contract";

/**
 * The last `maxBytes` of a worker's log, or null when it cannot be read (never written, rotated
 * away). What a crash report (remote hosts) and a protocol violation's event (local dispatchers) keep.
 *
 * The caller redacts it, so the cut at its head must not split a credential (the half left would
 * match no rule and be kept): a cut inside one moves back to where it begins (`known`: the exact
 * values the caller will cut; see cutsOffSecrets). A cut inside a character moves on to the next one.
 */
export function readLogTail(file: string, maxBytes: number, known: readonly string[] = []): string | null {
  try {
    const fd = fs.openSync(file, "r");
    try {
      const size = fs.fstatSync(fd).size;
      let start = size - Math.min(size, maxBytes);
      const windowStart = Math.max(0, start - SECRET_MARGIN_BYTES);
      const window = Buffer.alloc(size - windowStart);
      fs.readSync(fd, window, 0, window.length, windowStart);
      while (start < size && ((window[start - windowStart] as number) & 0xc0) === 0x80) start++;
      if (start > 0) ({ start } = cutsOffSecrets(window.toString("latin1"), windowStart, { start, end: size }, known));
      return window.subarray(start - windowStart).toString("utf8");
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return null;
  }
}
