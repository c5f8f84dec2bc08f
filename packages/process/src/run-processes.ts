import { createHash } from "node:crypto";
import fs from "node:fs";
import { procStatFields } from "./process.ts";

/**
 * Finding a run's processes by the identity its worker carries in its environment. A worker's
 * descendants may leave its process group (`setsid`, a daemonising tool, `detached: true`), so the
 * group alone does not name them; the environment, inherited by every descendant that does not
 * scrub it, does. Linux only (`/proc/<pid>/environ`); elsewhere nothing is found.
 */

/** The run's id on its board (set by the dispatcher on every worker). */
export const RUN_ID_ENV = "KANBAN_RUN_ID";
/**
 * Which board the run id belongs to: run ids are per board, so two boards' run 7 must never be
 * confused. A digest of the board's location, not the location itself: an API-mode worker is never
 * told where the board file is.
 */
export const BOARD_KEY_ENV = "KANBAN_BOARD_KEY";

/** A run as its processes carry it: the run id and the key of its board. */
export interface RunIdentity {
  runId: number;
  boardKey: string;
}

/** One process that carries a run identity. */
export interface RunProcess extends RunIdentity {
  pid: number;
  /** Kernel start time (clock ticks since boot), to tell the same process from a recycled pid. */
  startTime: string;
  /** Its process group (it may have left the worker's). */
  pgid: number;
}

/**
 * The board key of a board location: the SQLite file (resolved through symlinks, so `KANBAN_DB`
 * spelled two ways names one board) or a PostgreSQL board's label (`postgres://host:port/db#schema`,
 * no credentials). 16 hex digits of SHA-256.
 */
export function boardKey(boardPath: string): string {
  let canonical = boardPath;
  try {
    canonical = fs.realpathSync(boardPath);
  } catch {
    // not a file on this host (a PostgreSQL label, or a board file not created yet): as given
  }
  return createHash("sha256").update(canonical).digest("hex").slice(0, 16);
}

/** The variables that mark a worker's environment with its run (merge them into the spawn env). */
export function runMarkerEnv(identity: RunIdentity): Record<string, string> {
  return { [RUN_ID_ENV]: String(identity.runId), [BOARD_KEY_ENV]: identity.boardKey };
}

const hasProc = fs.existsSync("/proc/self/environ");
const RUN_ID_PREFIX = Buffer.from(`${RUN_ID_ENV}=`);
const myUid = typeof process.getuid === "function" ? process.getuid() : null;

/** A run identity from one process's environment block, or null when it carries none. */
function identityFromEnviron(buf: Buffer): RunIdentity | null {
  if (buf.indexOf(RUN_ID_PREFIX) < 0) return null;
  let runId: number | null = null;
  let key: string | null = null;
  let start = 0;
  while (start < buf.length) {
    let end = buf.indexOf(0, start);
    if (end < 0) end = buf.length;
    const entry = buf.toString("utf8", start, end);
    start = end + 1;
    if (entry.startsWith(`${RUN_ID_ENV}=`)) {
      const v = entry.slice(RUN_ID_ENV.length + 1);
      runId = /^\d{1,15}$/.test(v) ? Number(v) : null;
    } else if (entry.startsWith(`${BOARD_KEY_ENV}=`)) {
      key = entry.slice(BOARD_KEY_ENV.length + 1) || null;
    }
  }
  return runId !== null && key !== null ? { runId, boardKey: key } : null;
}

/** Whether a process belongs to our own user (processes of other users are never ours to stop). */
function ownedByUs(pid: number): boolean {
  if (myUid === null) return true;
  try {
    return fs.statSync(`/proc/${pid}`).uid === myUid;
  } catch {
    return false;
  }
}

/**
 * The run identity in `pid`'s environment, or null (not ours, no marker, gone, unreadable, or a
 * zombie: its environment is already released).
 */
export function runIdentityOf(pid: number): RunIdentity | null {
  if (!hasProc || !Number.isInteger(pid) || pid <= 1 || !ownedByUs(pid)) return null;
  return environIdentity(pid);
}

/**
 * Our own process and its ancestors: never stopped, even when they carry a run's marker (a CLI a
 * worker runs inherits the worker's environment; so would a dispatcher started from a worker's shell).
 */
export function protectedPids(): Set<number> {
  const out = new Set<number>([process.pid]);
  let pid: number = process.pid;
  for (let i = 0; i < 64; i++) {
    const ppid = Number(procStatFields(pid)?.[1] ?? 0);
    if (!(ppid > 1) || out.has(ppid)) break;
    out.add(ppid);
    pid = ppid;
  }
  return out;
}

function listPids(): number[] {
  try {
    return fs
      .readdirSync("/proc")
      .filter((n) => /^\d+$/.test(n))
      .map(Number);
  } catch {
    return [];
  }
}

/** One live process as one pass over `/proc` saw it. */
export interface ProcEntry {
  pid: number;
  pgid: number;
  startTime: string;
  /** The run it carries (ours only), else null. */
  identity: RunIdentity | null;
}

let lastSnapshot: { at: number; entries: ProcEntry[] } | null = null;

/**
 * Every live (non-zombie) process: its group, start time and run identity, in one pass over `/proc`.
 * Reading every environment costs a few milliseconds per hundred processes; concurrent stops share a
 * pass younger than `maxAgeMs` (0: always a fresh one).
 */
export function procSnapshot(maxAgeMs = 0): ProcEntry[] {
  const now = performance.now();
  if (lastSnapshot !== null && maxAgeMs > 0 && now - lastSnapshot.at <= maxAgeMs) return lastSnapshot.entries;
  const entries: ProcEntry[] = [];
  if (hasProc) {
    for (const pid of listPids()) {
      if (pid <= 1) continue;
      const fields = procStatFields(pid);
      if (fields === null || fields[0] === "Z" || fields[0] === "X") continue;
      entries.push({ pid, pgid: Number(fields[2]), startTime: fields[19] ?? "", identity: runIdentityOf(pid) });
    }
  }
  lastSnapshot = { at: performance.now(), entries };
  return entries;
}

export interface ScanOptions {
  /** Only processes of these board keys (default: any). */
  boardKeys?: ReadonlySet<string>;
  /** Pids never returned (default: ours and our ancestors). */
  exclude?: ReadonlySet<number>;
  /** Accept a pass over `/proc` this young (default 0: a fresh one). */
  maxAgeMs?: number;
}

/**
 * Every live process of our user that carries a run identity. Zombies, processes of other users and
 * unreadable environments are skipped. What the dispatcher's sweep reads once per pass;
 * {@link runProcesses} is the same for one run.
 */
export function scanRunProcesses(opts: ScanOptions = {}): RunProcess[] {
  const exclude = opts.exclude ?? protectedPids();
  const out: RunProcess[] = [];
  const wanted = (identity: RunIdentity | null, pid: number): identity is RunIdentity =>
    identity !== null && !exclude.has(pid) && (opts.boardKeys === undefined || opts.boardKeys.has(identity.boardKey));
  if ((opts.maxAgeMs ?? 0) > 0) {
    for (const e of procSnapshot(opts.maxAgeMs)) {
      if (wanted(e.identity, e.pid)) out.push({ pid: e.pid, ...e.identity, startTime: e.startTime, pgid: e.pgid });
    }
    return out;
  }
  // The dispatcher's sweep runs this every second: each process's environment is read first, and
  // only one that carries a run is looked at further (owner, state, group). The full snapshot read
  // three files a process for all of them: 3.2 ms of CPU a pass over 70 processes, against 1.3 now
  // (and a CI machine runs hundreds of processes, several dispatchers among them).
  if (!hasProc) return out;
  for (const pid of listPids()) {
    if (pid <= 1) continue;
    const identity = environIdentity(pid);
    if (!wanted(identity, pid) || !ownedByUs(pid)) continue;
    const fields = procStatFields(pid);
    // A zombie's environment reads empty; one that became a zombie since is dropped here.
    if (fields === null || fields[0] === "Z" || fields[0] === "X") continue;
    out.push({ pid, ...identity, startTime: fields[19] ?? "", pgid: Number(fields[2]) });
  }
  return out;
}

/** Reused by every environment read: most environments fit, and then nothing is allocated. */
let environBuf = Buffer.allocUnsafe(64 * 1024);

/**
 * The run identity in `pid`'s environment (any owner; the caller checks), or null. Reads into a
 * shared buffer, growing it for an environment larger than any before.
 */
function environIdentity(pid: number): RunIdentity | null {
  let fd: number;
  try {
    fd = fs.openSync(`/proc/${pid}/environ`, "r");
  } catch {
    return null; // gone, or not ours to read
  }
  try {
    let length = 0;
    for (;;) {
      if (length === environBuf.length) {
        const bigger = Buffer.allocUnsafe(environBuf.length * 2);
        environBuf.copy(bigger, 0, 0, length);
        environBuf = bigger;
      }
      const n = fs.readSync(fd, environBuf, length, environBuf.length - length, null);
      if (n === 0) break;
      length += n;
    }
    return identityFromEnviron(environBuf.subarray(0, length));
  } catch {
    return null;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * The pids of every live process of one run (whatever its process group), for stopping a run and
 * for sampling its footprint. Processes that scrubbed their environment are not found (cgroups are
 * the way to hold those).
 */
export function runProcesses(identity: RunIdentity): number[] {
  return scanRunProcesses({ boardKeys: new Set([identity.boardKey]) })
    .filter((p) => p.runId === identity.runId)
    .map((p) => p.pid);
}

/** Groups scanned processes by run: `<boardKey>:<runId>` → processes. */
export function byRun(procs: readonly RunProcess[]): Map<string, RunProcess[]> {
  const out = new Map<string, RunProcess[]>();
  for (const p of procs) {
    const key = runKey(p);
    const list = out.get(key);
    if (list) list.push(p);
    else out.set(key, [p]);
  }
  return out;
}

/** The map key of a run identity. */
export function runKey(identity: RunIdentity): string {
  return `${identity.boardKey}:${identity.runId}`;
}
