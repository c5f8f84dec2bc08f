import { spawn } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { isPidAlive, processGroupAlive, signalProcessGroup } from "./process.ts";
import { terminateWorker } from "./terminate.ts";
import { spawnWorkerTree, type WorkerTree } from "./testing.ts";

const trees: WorkerTree[] = [];
afterEach(() => {
  for (const t of trees.splice(0)) t.kill();
});

async function tree(ignoreSigterm: boolean): Promise<WorkerTree> {
  const t = await spawnWorkerTree({ levels: 3, ignoreSigterm });
  trees.push(t);
  return t;
}

describe("terminateWorker", () => {
  it("kills a worker, its child and its grandchild that all ignore SIGTERM, once the grace is over", async () => {
    const t = await tree(true);
    expect(t.pids).toHaveLength(3);
    for (const pid of t.pids) expect(isPidAlive(pid)).toBe(true);
    const lines: string[] = [];
    const outcome = await terminateWorker(
      { pid: t.leader, lock: "host:1" },
      { graceMs: 300, log: (l) => lines.push(l) },
    );
    expect(outcome).toBe("killed");
    for (const pid of t.pids) expect(isPidAlive(pid)).toBe(false);
    expect(processGroupAlive(t.leader)).toBe(false);
    expect(lines.join("\n")).toContain("SIGKILL");
  });

  it("a tree that honours SIGTERM is terminated without SIGKILL", async () => {
    const t = await tree(false);
    const outcome = await terminateWorker({ pid: t.leader, lock: null }, { graceMs: 10_000 });
    expect(outcome).toBe("terminated");
    for (const pid of t.pids) expect(isPidAlive(pid)).toBe(false);
  });

  it("a pid that leads no process group is never signalled (a recycled pid is someone else's)", async () => {
    // A child in OUR process group: its pid is not a group id, so nothing may be sent to it.
    const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
    try {
      const pid = child.pid as number;
      expect(await terminateWorker({ pid, lock: null }, { graceMs: 100 })).toBe("gone");
      expect(isPidAlive(pid)).toBe(true);
    } finally {
      child.kill("SIGKILL");
    }
  });

  it("an exited worker is 'gone'; our own pid and nonsense pids are refused", async () => {
    const t = await tree(false);
    t.kill();
    await new Promise((r) => setTimeout(r, 200));
    expect(await terminateWorker({ pid: t.leader, lock: null }, { graceMs: 100 })).toBe("gone");
    for (const pid of [process.pid, 0, 1, -5, Number.NaN]) expect(signalProcessGroup(pid, "SIGTERM")).toBe(false);
  });
});
