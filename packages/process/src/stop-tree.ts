import fs from "node:fs";
import { processGroupExists, signalProcessGroup } from "./process.ts";
import { protectedPids, type RunIdentity, runIdentityOf, statFields } from "./run-processes.ts";

/**
 * Stopping a run's whole process tree: its worker's process group plus every process that carries
 * the run's identity in its environment (descendants that left the group: `setsid`, daemons). One
 * escalation for all of them: SIGTERM, up to the grace period, then SIGKILL until none is left.
 */

export interface TreeTarget {
  /** The worker's process group (workers are spawned as group leaders); absent: no group. */
  pgid?: number | null;
  /** The run whose marked processes are stopped too, wherever they went. */
  identity?: RunIdentity | null;
}

export interface TreeStopOptions {
  /** How long the tree may take to exit after SIGTERM before what is left is killed. */
  graceMs: number;
  /** How often liveness is checked during the grace period (default 100 ms). */
  pollMs?: number;
  /** Told about each escalation (one line: pids and counts, never an environment). */
  log?: (line: string) => void;
}

/** What was stopped: for the task's event and the log. */
export interface TreeStopReport {
  /** `gone`: nothing was left to signal; `terminated`: all left after SIGTERM; `killed`: SIGKILL was needed. */
  outcome: "gone" | "terminated" | "killed";
  /** Every process that was signalled, in the order found. */
  pids: number[];
  /** Those still alive when the grace period ended, which got SIGKILL. */
  killed: number[];
}

/** How long, after SIGKILL, we keep looking for stragglers (a process forked just before it landed). */
const AFTER_KILL_MS = 2000;
/** During the grace period, a full `/proc` rescan (new forks, escapees) every this many polls. */
const RESCAN_EVERY = 5;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const isZombie = (state: string | undefined) => state === "Z" || state === "X";

/** The live members of the target now: pid → start time. One pass over `/proc`. */
function members(target: TreeTarget, group: number | null, protect: ReadonlySet<number>): Map<number, string> {
  const out = new Map<number, string>();
  let names: string[];
  try {
    names = fs.readdirSync("/proc");
  } catch {
    return out;
  }
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (pid <= 1 || protect.has(pid)) continue;
    const f = statFields(pid);
    if (f === null || isZombie(f[0])) continue;
    const inGroup = group !== null && f[2] === String(group);
    if (!inGroup) {
      const id = target.identity ? runIdentityOf(pid) : null;
      if (id === null || id.runId !== target.identity?.runId || id.boardKey !== target.identity.boardKey) continue;
    }
    out.set(pid, f[19] ?? "");
  }
  return out;
}

/** Whether `pid` is still the process first seen (same start time) and not a zombie. */
function stillThere(pid: number, startTime: string): boolean {
  const f = statFields(pid);
  return f !== null && !isZombie(f[0]) && (f[19] ?? "") === startTime;
}

/** Signals one process, only if it is still the one found (never a recycled pid). */
function signalIfSame(pid: number, startTime: string, signal: NodeJS.Signals): boolean {
  if (!stillThere(pid, startTime)) return false;
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * Stops the target's process group and every process of its run: SIGTERM now, up to `graceMs` for
 * them to leave (processes forked meanwhile get SIGTERM too), then SIGKILL to whatever is left,
 * repeated for up to 2 s so that a fork racing the kill is caught. Never signals our own process,
 * our ancestors or our own process group, and never a pid whose start time changed (recycled).
 */
export async function stopRunTree(target: TreeTarget, opts: TreeStopOptions): Promise<TreeStopReport> {
  const pollMs = Math.max(1, opts.pollMs ?? 100);
  const protect = protectedPids();
  // A pid that leads no group any more was recycled by someone else: its "group" is nobody's.
  const group =
    target.pgid !== undefined && target.pgid !== null && target.pgid > 1 && processGroupExists(target.pgid)
      ? target.pgid
      : null;
  const signalled = new Map<number, string>();
  const describe = () => describeTarget(target);

  let found = members(target, group, protect);
  if (found.size === 0) return { outcome: "gone", pids: [], killed: [] };
  const terminate = (procs: Map<number, string>) => {
    for (const [pid, start] of procs) {
      if (signalled.has(pid)) continue;
      signalled.set(pid, start);
      signalIfSame(pid, start, "SIGTERM");
    }
  };
  if (group !== null) signalProcessGroup(group, "SIGTERM");
  terminate(found);
  opts.log?.(`stopping ${describe()}: SIGTERM sent to ${found.size} process(es) (${[...found.keys()].join(", ")})`);

  const deadline = Date.now() + Math.max(0, opts.graceMs);
  for (let poll = 1; ; poll++) {
    const left = deadline - Date.now();
    if (left <= 0) break;
    await sleep(Math.min(pollMs, left));
    const anyKnownAlive = [...signalled].some(([pid, start]) => stillThere(pid, start));
    if (anyKnownAlive && poll % RESCAN_EVERY !== 0) continue;
    // Everything we signalled is gone (or it is time to look again): a full look for late forks.
    found = members(target, group, protect);
    if (found.size === 0) return { outcome: "terminated", pids: [...signalled.keys()], killed: [] };
    terminate(found);
  }

  found = members(target, group, protect);
  if (found.size === 0) return { outcome: "terminated", pids: [...signalled.keys()], killed: [] };
  const killed = new Set<number>();
  const killDeadline = Date.now() + AFTER_KILL_MS;
  while (found.size > 0) {
    for (const [pid, start] of found) {
      if (!signalled.has(pid)) signalled.set(pid, start);
      if (signalIfSame(pid, start, "SIGKILL")) killed.add(pid);
    }
    // After the pids (so each is counted as killed), the group: a member forked since the scan.
    if (group !== null) signalProcessGroup(group, "SIGKILL");
    if (Date.now() >= killDeadline) break;
    await sleep(20);
    found = members(target, group, protect);
  }
  opts.log?.(
    `${describe()} survived SIGTERM for ${Math.round(opts.graceMs) / 1000}s: SIGKILL sent to ${killed.size} process(es) (${[...killed].join(", ")})`,
  );
  return { outcome: "killed", pids: [...signalled.keys()], killed: [...killed] };
}

function describeTarget(t: TreeTarget): string {
  const parts: string[] = [];
  if (t.identity) parts.push(`run ${t.identity.runId}`);
  if (t.pgid) parts.push(`worker pid ${t.pgid}`);
  return parts.join(", ") || "nothing";
}

/**
 * The run a worker leader carries, when `pid` still leads its own process group (what a task's
 * `worker_pid` names while the worker lives): how a caller that knows only the pid finds the
 * descendants that left the group.
 */
export function leaderIdentity(pid: number): RunIdentity | null {
  const f = statFields(pid);
  if (f === null || f[2] !== String(pid)) return null;
  return runIdentityOf(pid);
}
