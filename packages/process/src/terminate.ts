import type { RunIdentity } from "./run-processes.ts";
import { leaderIdentity, stopRunTree, type TreeStopReport } from "./stop-tree.ts";

/** A worker to stop: its pid (a process-group leader) and the claim it held, for messages. */
export interface TerminationTarget {
  pid: number;
  lock: string | null;
  /**
   * The run it works for, when the caller knows it; otherwise read from the leader's own
   * environment, so descendants that left its process group are found either way.
   */
  identity?: RunIdentity | null;
}

/**
 * How a termination ended: `gone` (no such process group any more: nothing was signalled),
 * `terminated` (the group left within the grace period after SIGTERM), `killed` (SIGKILL was needed).
 */
export type TerminateOutcome = TreeStopReport["outcome"];

export interface TerminateOptions {
  /** How long the tree may take to exit after SIGTERM before it is killed. */
  graceMs: number;
  /** How often the tree is checked during the grace period (default 100 ms). */
  pollMs?: number;
  /** Told about each signal sent (one line, no secrets: pids and claim lock only). */
  log?: (line: string) => void;
}

/**
 * Stops a worker and everything it started: its process group and every process carrying its run's
 * identity ({@link stopRunTree}). A worker that ignores SIGTERM, or a child that outlives its
 * parent, must never keep working beside the next attempt in the same workspace. Resolves once the
 * tree is gone (or SIGKILL was sent and had its moment to land), with what was stopped.
 */
export async function terminateWorkerTree(t: TerminationTarget, opts: TerminateOptions): Promise<TreeStopReport> {
  // The pid must lead a group (else it was recycled): its environment names the run only then.
  const identity = t.identity ?? leaderIdentity(t.pid);
  const log = opts.log;
  return await stopRunTree(
    { pgid: t.pid, identity },
    {
      graceMs: opts.graceMs,
      pollMs: opts.pollMs,
      log: log ? (line) => log(`${line}${t.lock ? ` (lock ${t.lock})` : ""}`) : undefined,
    },
  );
}

/** {@link terminateWorkerTree}, answering only how it ended. */
export async function terminateWorker(t: TerminationTarget, opts: TerminateOptions): Promise<TerminateOutcome> {
  return (await terminateWorkerTree(t, opts)).outcome;
}
