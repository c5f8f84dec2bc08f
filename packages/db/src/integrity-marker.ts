import fs from "node:fs";

/**
 * A record that a board file passed `PRAGMA integrity_check`, kept beside it as
 * `<db>.integrity-ok`: `{dev, ino, checked_at}` (unix ms). Hermes checks every file on each
 * process's first open. Our short-lived CLI calls, one process per agent heartbeat or comment, would
 * pay that check every time, and its cost grows with the board (335 ms at 45 MB); with
 * `integrityCheck: "unless-recent"` they skip it while a check of the same file (same device and
 * inode, so not a file restored or copied over it) passed within {@link INTEGRITY_RECHECK_MS}.
 * Long-lived processes (`kanban serve`, the dispatcher) still check at every start, and a statement
 * that meets corruption at any time marks the connection and removes the record.
 */
export const INTEGRITY_RECHECK_MS = 60 * 60 * 1000;

export function integrityMarkerPath(dbPath: string): string {
  return `${dbPath}.integrity-ok`;
}

/** Whether a check of this very file passed within the last hour (and not in the future). */
export function recentlyChecked(dbPath: string, nowMs: number = Date.now()): boolean {
  try {
    const st = fs.statSync(dbPath);
    const rec = JSON.parse(fs.readFileSync(integrityMarkerPath(dbPath), "utf8")) as {
      dev?: unknown;
      ino?: unknown;
      checked_at?: unknown;
    };
    const at = Number(rec.checked_at);
    return (
      rec.dev === st.dev &&
      rec.ino === st.ino &&
      Number.isFinite(at) &&
      at <= nowMs + 60_000 &&
      nowMs - at < INTEGRITY_RECHECK_MS
    );
  } catch {
    return false;
  }
}

/** Records a passed check. Best effort: a board in a read-only directory is simply checked each time. */
export function recordIntegrityCheck(dbPath: string, nowMs: number = Date.now()): void {
  const target = integrityMarkerPath(dbPath);
  const tmp = `${target}.${process.pid}.tmp`;
  try {
    const st = fs.statSync(dbPath);
    fs.writeFileSync(tmp, JSON.stringify({ dev: st.dev, ino: st.ino, checked_at: nowMs }));
    fs.renameSync(tmp, target);
  } catch {
    try {
      fs.rmSync(tmp, { force: true });
    } catch {
      // nothing left to undo
    }
  }
}

/** Forgets the record (corruption was met): the next open of any process checks the file again. */
export function forgetIntegrityCheck(dbPath: string): void {
  try {
    fs.rmSync(integrityMarkerPath(dbPath), { force: true });
  } catch {
    // best effort: a stale record only skips one check, and runtime corruption is still caught
  }
}
