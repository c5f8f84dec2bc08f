import { spawn } from "node:child_process";
import fs from "node:fs";
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

/** The containment fixture (`test/run-tree.sh`): run it as `sh <it>` (a profile command, or {@link spawnRunTree}). */
export const RUN_TREE_SCRIPT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "test", "run-tree.sh");

/** The roles of `run-tree.sh`, in the order a whole tree reports them (any order in the file). */
export const RUN_TREE_ROLES = ["worker", "child", "grandchild", "escapee", "escapee-child"] as const;

/** Reads a `run-tree.sh` pid file: role → pid (roles not reported yet are absent). */
export function readRunTreePids(file: string): Map<string, number> {
  const out = new Map<string, number>();
  let text = "";
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    return out;
  }
  for (const line of text.split("\n")) {
    const m = /^(\d+) ([a-z-]+)$/.exec(line.trim());
    if (m?.[1] && m[2]) out.set(m[2], Number(m[1]));
  }
  return out;
}

/** Waits (bounded) until every role of a `run-tree.sh` tree wrote its pid; returns them, worker first. */
export async function waitForRunTree(file: string, timeoutMs = 10_000): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pids = readRunTreePids(file);
    if (RUN_TREE_ROLES.every((r) => pids.has(r))) return RUN_TREE_ROLES.map((r) => pids.get(r) as number);
    if (Date.now() > deadline)
      throw new Error(`run tree ${file} incomplete after ${timeoutMs} ms: ${[...pids.keys()]}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** SIGKILL to every pid of a tree (test cleanup; harmless for pids already gone). */
export function killPids(pids: readonly number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

export interface RunTree {
  /** The group leader (what a task's `worker_pid` holds). */
  leader: number;
  /** Every process: worker, child, grandchild, escapee (its own session), escapee-child. */
  pids: number[];
  kill(): void;
}

/**
 * Starts `run-tree.sh` as the dispatcher starts a worker (detached: its own process group) with
 * `env` added to ours (the run's marker), and resolves once all five processes are there.
 */
export async function spawnRunTree(opts: { dir: string; env?: Record<string, string> }): Promise<RunTree> {
  const file = path.join(opts.dir, `run-tree-${Date.now()}-${Math.random().toString(36).slice(2)}.pids`);
  const child = spawn("sh", [RUN_TREE_SCRIPT], {
    detached: true,
    stdio: "ignore",
    cwd: opts.dir,
    env: { ...process.env, ...opts.env, RUN_TREE_PIDS: file },
  });
  child.unref();
  let pids: number[] = [];
  try {
    pids = await waitForRunTree(file);
  } catch (err) {
    if (child.pid !== undefined) killPids([child.pid]);
    throw err;
  }
  return { leader: pids[0] as number, pids, kill: () => killPids(pids) };
}
