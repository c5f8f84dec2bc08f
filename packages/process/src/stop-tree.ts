import { processGroupExists, procStatFields, signalProcessGroup } from "./process.ts";
import { procSnapshot, protectedPids, type RunIdentity, runIdentityOf } from "./run-processes.ts";

/**
 * Stopping a run's whole process tree: its worker's process group plus every process that carries
 * the run's identity in its environment (descendants that left the group: `setsid`, daemons). One
 * escalation for all of them: SIGTERM, up to the grace period, then SIGKILL until none is left.
 */

export interface TreeTarget {
  /** The worker's process group (workers are spawned as group leaders); absent: no group. */
  pgid?: number | null;
  /** More process groups to stop whole (a setsid escapee that carries the run leads its own). */
  groups?: readonly number[];
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

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const isZombie = (state: string | undefined) => state === "Z" || state === "X";

/** Concurrent stops share a `/proc` pass this young (each pass reads every process's environment). */
const SHARED_PASS_MS = 50;

/** The live members of the target: pid → start time. */
function members(
  target: TreeTarget,
  groups: ReadonlySet<string>,
  protect: ReadonlySet<number>,
  maxAgeMs = SHARED_PASS_MS,
): Map<number, string> {
  const out = new Map<number, string>();
  const want = target.identity ?? null;
  for (const e of procSnapshot(maxAgeMs)) {
    if (protect.has(e.pid)) continue;
    const inGroup = groups.has(String(e.pgid));
    const ofRun = want !== null && e.identity?.runId === want.runId && e.identity.boardKey === want.boardKey;
    if (inGroup || ofRun) out.set(e.pid, e.startTime);
  }
  return out;
}

/** {@link members}, but an empty answer is confirmed by a fresh pass (a shared one may predate a fork). */
function membersConfirmed(target: TreeTarget, groups: ReadonlySet<string>, protect: ReadonlySet<number>) {
  const found = members(target, groups, protect);
  return found.size > 0 ? found : members(target, groups, protect, 0);
}

/** Whether `pid` is still the process first seen (same start time) and not a zombie. */
function stillThere(pid: number, startTime: string): boolean {
  const f = procStatFields(pid);
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
  const groupIds = [...new Set([...(target.pgid ? [target.pgid] : []), ...(target.groups ?? [])])].filter(
    (g) => Number.isInteger(g) && g > 1 && processGroupExists(g),
  );
  const groups = new Set(groupIds.map(String));
  const signalGroups = (signal: NodeJS.Signals) => {
    for (const g of groupIds) signalProcessGroup(g, signal);
  };
  const signalled = new Map<number, string>();
  const describe = () => describeTarget(target);

  let found = membersConfirmed(target, groups, protect);
  if (found.size === 0) return { outcome: "gone", pids: [], killed: [] };
  const terminate = (procs: Map<number, string>) => {
    for (const [pid, start] of procs) {
      if (signalled.has(pid)) continue;
      signalled.set(pid, start);
      signalIfSame(pid, start, "SIGTERM");
    }
  };
  signalGroups("SIGTERM");
  terminate(found);
  opts.log?.(`stopping ${describe()}: SIGTERM sent to ${found.size} process(es) (${[...found.keys()].join(", ")})`);

  const deadline = Date.now() + Math.max(0, opts.graceMs);
  const anyAlive = (pids: Iterable<[number, string]>) => [...pids].some(([pid, start]) => stillThere(pid, start));
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) break;
    await sleep(Math.min(pollMs, left));
    // Cheap while any process we signalled lives; a full look (for forks made meanwhile) only once none does.
    if (anyAlive(signalled)) continue;
    found = membersConfirmed(target, groups, protect);
    if (found.size === 0) return { outcome: "terminated", pids: [...signalled.keys()], killed: [] };
    terminate(found);
  }

  found = membersConfirmed(target, groups, protect);
  if (found.size === 0) return { outcome: "terminated", pids: [...signalled.keys()], killed: [] };
  const killed = new Map<number, string>();
  const killDeadline = Date.now() + AFTER_KILL_MS;
  while (found.size > 0) {
    for (const [pid, start] of found) if (!signalled.has(pid)) signalled.set(pid, start);
    for (const [pid, start] of freezeAndKill(found)) killed.set(pid, start);
    // After the pids (so each is counted as killed), the groups: a member forked since the look.
    signalGroups("SIGKILL");
    if (Date.now() >= killDeadline) break;
    do await sleep(20);
    while (anyAlive(killed) && Date.now() < killDeadline);
    found = membersConfirmed(target, groups, protect);
  }
  // Gone between the grace's end and our SIGKILL (someone else's kill, or a late exit): not ours to count.
  if (killed.size === 0) return { outcome: "terminated", pids: [...signalled.keys()], killed: [] };
  opts.log?.(
    `${describe()} survived SIGTERM for ${Math.round(opts.graceMs) / 1000}s: SIGKILL sent to ${killed.size} process(es) (${[...killed.keys()].join(", ")})`,
  );
  return { outcome: "killed", pids: [...signalled.keys()], killed: [...killed.keys()] };
}

/**
 * SIGKILL to each process of `procs` that is still the one found, after all of them were frozen
 * (SIGSTOP). Killed one after the other, a shell waiting on a child killed first wakes and exits by
 * itself before its own turn: it outlived the grace, yet would not be counted (and a supervisor
 * could fork a replacement). A frozen process cannot exit or fork until the SIGKILL lands. Returns
 * those that got SIGKILL.
 */
export function freezeAndKill(procs: ReadonlyMap<number, string>): Map<number, string> {
  const frozen = new Map<number, string>();
  for (const [pid, start] of procs) if (signalIfSame(pid, start, "SIGSTOP")) frozen.set(pid, start);
  const killed = new Map<number, string>();
  for (const [pid, start] of frozen) {
    try {
      process.kill(pid, "SIGKILL");
      killed.set(pid, start);
    } catch {
      // killed by someone else while frozen: not ours to count
    }
  }
  return killed;
}

function describeTarget(t: TreeTarget): string {
  const parts: string[] = [];
  if (t.identity) parts.push(`run ${t.identity.runId}`);
  const groups = [...(t.pgid ? [t.pgid] : []), ...(t.groups ?? [])];
  if (groups.length > 0) parts.push(`process group(s) ${groups.join(", ")}`);
  return parts.join(", ") || "nothing";
}

/**
 * The run a worker leader carries, when `pid` still leads its own process group (what a task's
 * `worker_pid` names while the worker lives): how a caller that knows only the pid finds the
 * descendants that left the group.
 */
export function leaderIdentity(pid: number): RunIdentity | null {
  const f = procStatFields(pid);
  if (f === null || f[2] !== String(pid)) return null;
  return runIdentityOf(pid);
}
