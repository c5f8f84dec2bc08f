import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";

/**
 * Durable small files of a remote host (its identity, its runs): temporary file, fsync, rename (or
 * a hard link for `exclusive`, which fails when the file exists), directory fsync. Mode 0600.
 */
export function writeFileAtomic(file: string, data: string, opts: { exclusive?: boolean } = {}): void {
  const dir = path.dirname(file);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  const fd = fs.openSync(tmp, "wx", 0o600);
  try {
    fs.writeSync(fd, data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    if (opts.exclusive) fs.linkSync(tmp, file);
    else fs.renameSync(tmp, file);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  let dfd: number | null = null;
  try {
    dfd = fs.openSync(dir, "r");
    fs.fsyncSync(dfd);
  } catch {
    // a file system that cannot fsync a directory: the rename is still atomic
  } finally {
    if (dfd !== null) fs.closeSync(dfd);
  }
}
