import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Test fixture shared by the packages that terminate workers: a real process tree (leader, child,
 * grandchild…) in its own process group, as the dispatcher spawns workers.
 */
const TREE_SCRIPT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "test", "worker-tree.mjs");

export interface WorkerTree {
  /** The group leader (what a task's `worker_pid` holds). */
  leader: number;
  /** Every process of the tree, leader first. */
  pids: number[];
  /** SIGKILL to the whole group (test cleanup; harmless when it is already gone). */
  kill(): void;
}

export interface WorkerTreeOptions {
  /** Processes in the chain, leader included (default 3: worker, child, grandchild). */
  levels?: number;
  /** Every process ignores SIGTERM, so only SIGKILL stops them. */
  ignoreSigterm?: boolean;
  cwd?: string;
}

/** Starts a detached process tree and resolves once every level has reported its pid. */
export function spawnWorkerTree(opts: WorkerTreeOptions = {}): Promise<WorkerTree> {
  const levels = opts.levels ?? 3;
  const child = spawn(process.execPath, [TREE_SCRIPT, String(levels), opts.ignoreSigterm ? "1" : "0"], {
    detached: true,
    stdio: ["ignore", "pipe", "ignore"],
    cwd: opts.cwd,
  });
  const leader = child.pid;
  const kill = () => {
    if (leader === undefined) return;
    try {
      process.kill(-leader, "SIGKILL");
    } catch {
      // already gone
    }
  };
  return new Promise<WorkerTree>((resolve, reject) => {
    let buffered = "";
    const timer = setTimeout(() => {
      kill();
      reject(new Error(`worker tree did not report ${levels} pids within 10 s (got: ${JSON.stringify(buffered)})`));
    }, 10_000);
    child.once("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.stdout?.on("data", (chunk: Buffer) => {
      buffered += chunk.toString("utf8");
      const pids = buffered
        .split("\n")
        .filter((l) => /^\d+$/.test(l))
        .map(Number);
      if (pids.length < levels || leader === undefined) return;
      clearTimeout(timer);
      child.stdout?.destroy();
      child.unref();
      resolve({ leader, pids, kill });
    });
  });
}
