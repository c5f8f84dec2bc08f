import fs from "node:fs";

/**
 * The last `maxBytes` of a worker's log, or null when it cannot be read (never written, rotated
 * away). What a crash report (remote hosts) and a protocol violation's event (local dispatchers) keep.
 */
export function readLogTail(file: string, maxBytes: number): string | null {
  try {
    const fd = fs.openSync(file, "r");
    try {
      const size = fs.fstatSync(fd).size;
      const len = Math.min(size, maxBytes);
      const buf = Buffer.alloc(len);
      fs.readSync(fd, buf, 0, len, size - len);
      return buf.toString("utf8");
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return null;
  }
}
