import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { FootprintSampler, processRss, processTree, processTrees } from "./footprint.ts";

/** Real processes that really allocate: the footprint is read from /proc, as the dispatcher does each tick. */
const ALLOC_TREE = fileURLToPath(new URL("../test/alloc-tree.mjs", import.meta.url));
const MB = 1024 * 1024;
const leftovers: number[] = [];

afterEach(() => {
  for (const pid of leftovers.splice(0)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone
    }
  }
});

async function waitFor<T>(check: () => T | null | undefined | false, label: string, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${label}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A worker holding `mb` MiB with one child (which calls setsid) holding `childMb`, as its own process group. */
async function allocTree(mb: number, childMb: number): Promise<{ worker: number; child: number }> {
  const p = spawn(process.execPath, [ALLOC_TREE, String(mb), String(childMb)], {
    stdio: ["ignore", "pipe", "ignore"],
    detached: true,
  });
  let out = "";
  p.stdout?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  const pids = await waitFor(() => {
    const line = out.split("\n").find((l) => l.startsWith("{"));
    return line ? (JSON.parse(line) as { worker: number; child: number }) : null;
  }, "the tree to report its pids");
  leftovers.push(pids.worker, pids.child);
  p.unref();
  return pids;
}

describe("footprint", () => {
  it("a worker that allocates 96 MiB with a child holding 32 MiB: two processes, RSS above 120 MiB, a CPU rate from the second sample", async () => {
    const { worker, child } = await allocTree(96, 32);
    // The child left the worker's process group (setsid) but is still its descendant.
    expect(processTree(worker)).toEqual([worker, child].sort((a, b) => a - b));
    // Several trees from one pass over /proc: the same answer, and nothing for a pid that is no process.
    expect(processTrees([worker, 0x3ffffff])).toEqual(
      new Map([
        [worker, processTree(worker)],
        [0x3ffffff, []],
      ]),
    );
    await waitFor(() => processRss(child) > 32 * MB, "the child to hold its memory");
    const sampler = new FootprintSampler();
    const first = sampler.sample("run-1", { pids: processTree(worker) });
    expect(first.pids).toBe(2);
    expect(first.rss_bytes).toBeGreaterThan(120 * MB);
    expect(first.cpu_percent).toBeNull();
    const second = sampler.sample("run-1", { pids: processTree(worker) });
    expect(second.cpu_percent).toEqual(expect.any(Number));
    expect(second.cpu_percent).toBeGreaterThanOrEqual(0);
  });

  it("a tree that is gone samples as empty, and forgotten keys start over", async () => {
    const { worker, child } = await allocTree(1, 1);
    process.kill(worker, "SIGKILL");
    process.kill(child, "SIGKILL");
    await waitFor(() => processTree(worker).length === 0, "the tree to be gone");
    const sampler = new FootprintSampler();
    expect(sampler.sample("gone", { pids: processTree(worker) })).toEqual({ pids: 0, rss_bytes: 0, cpu_percent: null });
    sampler.retain(new Set());
    expect(sampler.sample("gone", { pids: [] }).cpu_percent).toBeNull();
  });
});
