import { processGroupAlive, signalProcessGroup } from "./process.ts";

/** A worker to stop: its pid (a process-group leader) and the claim it held, for messages. */
export interface TerminationTarget {
  pid: number;
  lock: string | null;
}

/**
 * How a termination ended: `gone` (no such process group any more: nothing was signalled),
 * `terminated` (the group left within the grace period after SIGTERM), `killed` (SIGKILL was needed).
 */
export type TerminateOutcome = "gone" | "terminated" | "killed";

export interface TerminateOptions {
  /** How long the group may take to exit after SIGTERM before it is killed. */
  graceMs: number;
  /** How often the group is checked during the grace period (default 100 ms). */
  pollMs?: number;
  /** Told about each signal sent (one line, no secrets: pid and claim lock only). */
  log?: (line: string) => void;
}

/** How long, after SIGKILL, we wait to see the group actually go (the kernel delivers it promptly). */
const AFTER_KILL_MS = 2000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function waitForGroupExit(pgid: number, deadline: number, pollMs: number): Promise<boolean> {
  for (;;) {
    if (!processGroupAlive(pgid)) return true;
    const left = deadline - Date.now();
    if (left <= 0) return false;
    await sleep(Math.min(pollMs, left));
  }
}

/**
 * Stops a worker and everything it started in its process group: SIGTERM to the group, up to
 * `graceMs` for it to leave, then SIGKILL to whatever is left. A worker that ignores SIGTERM, or a
 * child that outlives its parent, must never keep working beside the next attempt in the same
 * workspace. Resolves once the group is gone (or SIGKILL was sent and had its moment to land).
 */
export async function terminateWorker(t: TerminationTarget, opts: TerminateOptions): Promise<TerminateOutcome> {
  const pollMs = Math.max(1, opts.pollMs ?? 100);
  // A group of zombies only waits to be reaped: nothing is left to stop.
  if (!processGroupAlive(t.pid) || !signalProcessGroup(t.pid, "SIGTERM")) return "gone";
  opts.log?.(`terminating worker pid ${t.pid} (lock ${t.lock ?? "-"}): SIGTERM sent to its process group`);
  if (await waitForGroupExit(t.pid, Date.now() + Math.max(0, opts.graceMs), pollMs)) return "terminated";
  signalProcessGroup(t.pid, "SIGKILL");
  opts.log?.(
    `worker pid ${t.pid} survived SIGTERM for ${Math.round(opts.graceMs) / 1000}s: SIGKILL sent to its process group`,
  );
  await waitForGroupExit(t.pid, Date.now() + AFTER_KILL_MS, Math.min(pollMs, 20));
  return "killed";
}
