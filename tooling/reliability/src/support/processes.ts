import { type ChildProcess, spawn } from "node:child_process";
import { isPidAlive, processGroupAlive, signalProcessGroup } from "@kanban/dispatcher";
import { waitFor } from "./env.ts";

export { isPidAlive };

/** How long a child's pipes may take to drain after it exited (see `startNode`). */
const PIPE_DRAIN_MS = 1000;

function closed(stream: NodeJS.ReadableStream | null): Promise<void> {
  if (stream === null || (stream as { closed?: boolean }).closed) return Promise.resolve();
  return new Promise((resolve) => stream.once("close", () => resolve()));
}

/** A child this suite started, with its output collected. */
export interface Started {
  child: ChildProcess;
  pid: number;
  stdout(): string;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Every process a test file starts (servers, dispatchers, workers), so that afterEach can SIGKILL
 * them all, and nothing but them: pids are only ever ones this tracker spawned or was told about.
 */
export class ProcessTracker {
  private readonly groups = new Set<number>();
  private readonly pids = new Set<number>();

  /** Starts `node <args>` as the leader of its own process group (so a SIGKILL hits it alone, like a crash). */
  startNode(args: string[], opts: { env: Record<string, string>; cwd?: string }): Started {
    const child = spawn(process.execPath, args, {
      env: opts.env,
      cwd: opts.cwd,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    if (child.pid === undefined) throw new Error(`could not start node ${args.join(" ")}`);
    const pid = child.pid;
    this.groups.add(pid);
    let out = "";
    let err = "";
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.stderr?.on("data", (d: Buffer) => {
      err += d.toString();
    });
    // 'exit' can come before the pipes' last output has been read (a CLI's one error line was missing
    // once under CI's load), so the pipes get to drain first. Only for a while: a grandchild that
    // inherited them (a worker) may hold them open long after.
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on("exit", (code, signal) => {
        const drained = Promise.all([child.stdout, child.stderr].map(closed));
        const bound = new Promise((r) => setTimeout(r, PIPE_DRAIN_MS).unref());
        void Promise.race([drained, bound]).then(() => resolve({ code, signal }));
      }),
    );
    return { child, pid, stdout: () => out, stderr: () => err, exited };
  }

  /** Adopts a process group some process of ours created (a worker the dispatcher spawned). */
  adoptGroup(pid: number): void {
    this.groups.add(pid);
  }

  /** Adopts a single pid (e.g. one a fake worker reported). */
  adoptPid(pid: number): void {
    this.pids.add(pid);
  }

  /** SIGKILLs every tracked group and pid and waits (bounded) until they are gone. */
  async killAll(): Promise<void> {
    for (const g of this.groups) signalProcessGroup(g, "SIGKILL");
    for (const p of this.pids) {
      if (!isPidAlive(p)) continue;
      try {
        process.kill(p, "SIGKILL");
      } catch {
        // gone between the probe and the signal
      }
    }
    await waitFor(
      () => [...this.groups].every((g) => !processGroupAlive(g)) && [...this.pids].every((p) => !isPidAlive(p)),
      "test processes to die",
      5000,
    ).catch(() => undefined);
    this.groups.clear();
    this.pids.clear();
  }
}
