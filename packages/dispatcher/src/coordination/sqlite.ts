import fs from "node:fs";
import { dispatcherLockPath, dispatcherNudgePath, readDispatcherStatus, writeDispatcherStatus } from "@kanban/db";
import { type PidLock, tryAcquireDispatchLock, tryAcquirePidLock } from "../pid-lock.ts";
import type { AcquireResult, DispatcherCoordination, TickLockAttempt, TickTarget } from "./coordination.ts";

function mtimeOf(p: string): number | null {
  try {
    return fs.statSync(p).mtimeMs;
  } catch {
    return null;
  }
}

/**
 * The SQLite home's coordination, exactly as before there was a choice: the per-home pid lock
 * (one dispatcher per home), Hermes' flock tick lock beside each board file, the nudge file's mtime
 * and the status file. Everything here is host-local, which is why PostgreSQL has its own.
 */
export class SqliteCoordination implements DispatcherCoordination {
  readonly engine = "sqlite" as const;
  private lock: PidLock | null = null;
  private lastNudge: number | null = null;

  constructor(
    private readonly home: string,
    private readonly host: string,
    private readonly pid: number,
  ) {}

  async acquire(): Promise<AcquireResult> {
    const attempt = tryAcquirePidLock(dispatcherLockPath(this.home), this.pid);
    if (!attempt.ok) return { ok: false, holder: attempt.holder };
    this.lock = attempt.lock;
    // The previous dispatcher of this home is the one whose pid the status file names.
    const previous = readDispatcherStatus(this.home)?.pid ?? null;
    // Nudges sent before we started are not for us.
    this.lastNudge = mtimeOf(dispatcherNudgePath(this.home));
    return { ok: true, predecessors: previous === null ? [] : [{ host: this.host, pid: previous }] };
  }

  async tryTickLock(board: TickTarget): Promise<TickLockAttempt> {
    return tryAcquireDispatchLock(`${board.path}.dispatch.lock`);
  }

  nudgePending(): boolean {
    const m = mtimeOf(dispatcherNudgePath(this.home));
    if (m === this.lastNudge) return false;
    this.lastNudge = m;
    return m !== null;
  }

  onNudge(): () => void {
    return () => {};
  }

  async publish(status: Parameters<typeof writeDispatcherStatus>[1]): Promise<void> {
    writeDispatcherStatus(this.home, status);
  }

  async release(): Promise<void> {
    this.lock?.release();
    this.lock = null;
  }
}
