import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import {
  argvIntoCgroup,
  cgroup2Mount,
  cgroupOf,
  cgroupPids,
  cpuMaxLine,
  createRunCgroup,
  probeCgroups,
  removeEmptyRunCgroups,
  runCgroupDir,
  stopCgroup,
} from "./cgroup.ts";
import { FootprintSampler } from "./footprint.ts";
import { isPidAlive } from "./process.ts";

/**
 * Real cgroups, on whatever this host offers. This suite runs as the CI user (root here) against
 * the host's cgroup v2: a subtree of its own (`<mount>/kanban-test-<pid>`), removed at the end.
 * Where cgroup v2 is not writable the probe's refusal and reason are what is checked (the
 * dispatcher then uses the process-tree fallback, tested in stop-tree/terminate tests).
 */
const ALLOC_TREE = fileURLToPath(new URL("../test/alloc-tree.mjs", import.meta.url));
const mount = cgroup2Mount();
const testRoot = mount === null ? null : path.join(mount, `kanban-test-${process.pid}`);
const probe = probeCgroups({ root: testRoot });
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
afterAll(() => {
  if (testRoot !== null) {
    removeEmptyRunCgroups(testRoot, 0);
    try {
      fs.rmdirSync(testRoot);
    } catch {
      // not made (no cgroup v2) or already gone
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

/** Starts alloc-tree.mjs inside `dir` the way the dispatcher does, and resolves with its pids. */
async function treeIn(dir: string, args: string[]): Promise<{ worker: number; child: number }> {
  const [file, ...rest] = argvIntoCgroup(dir, [process.execPath, ALLOC_TREE, ...args]);
  const p = spawn(file as string, rest, { stdio: ["ignore", "pipe", "ignore"], detached: true });
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

describe("cgroup containment on this host", () => {
  it("the probe says whether cgroups are usable, and why not or what they cannot enforce", () => {
    // Printed once, so the CI log says which mode this host exercised.
    console.log(`cgroup probe: ${JSON.stringify(probe)}`);
    if (probe.usable) {
      expect(probe.root).toBe(testRoot);
      expect(fs.existsSync(path.join(testRoot as string, "cgroup.kill"))).toBe(true);
      // Either both limits are enforceable or the reason names the missing controller.
      if (probe.controllers.length < 2) expect(probe.reason).toMatch(/controller .*cannot be enforced/);
      else expect(probe.reason).toBeNull();
    } else {
      expect(probe.reason).toEqual(expect.any(String));
    }
  });

  it("a forking worker stays inside its cgroup (also a child that calls setsid), with its limits, and cgroup.kill stops the tree", async () => {
    if (!probe.usable) {
      // Nothing to contain in: the refusal is the behaviour (the dispatcher falls back to the process tree).
      expect(() => createRunCgroup(path.join("/proc", "no-cgroup-here"), {})).toThrow();
      return;
    }
    const dir = runCgroupDir(testRoot as string, { boardKey: "0123456789abcdef", runId: 7 });
    const made = createRunCgroup(dir, { memoryMax: 512 * 1024 * 1024, cpuMax: 0.5 });
    // The limits are written where the controllers are enabled, and reported missing where not.
    if (probe.controllers.includes("memory"))
      expect(fs.readFileSync(path.join(dir, "memory.max"), "utf8").trim()).toBe(String(512 * 1024 * 1024));
    else expect(made.missing).toContain("memory.max");
    if (probe.controllers.includes("cpu"))
      expect(fs.readFileSync(path.join(dir, "cpu.max"), "utf8").trim()).toBe(cpuMaxLine(0.5));
    else expect(made.missing).toContain("cpu.max");
    expect(cpuMaxLine(0.5)).toBe("50000 100000");

    const { worker, child } = await treeIn(dir, ["16", "8", "ignore-term"]);
    // Both the worker and its setsid'd child are in the run's cgroup, and nothing else is.
    expect(cgroupOf(worker)).toBe(dir);
    expect(cgroupOf(child)).toBe(dir);
    expect(cgroupPids(dir).sort()).toEqual([worker, child].sort());
    // The footprint of the cgroup: both processes, their memory.
    const f = new FootprintSampler().sample("run", { cgroup: dir });
    expect(f.pids).toBe(2);
    expect(f.rss_bytes).toBeGreaterThan(16 * 1024 * 1024);

    // Both ignore SIGTERM: only the kill through the cgroup ends them.
    const r = await stopCgroup(dir, { graceMs: 300 });
    expect(r.killed).toBe(true);
    expect(r.pids.sort()).toEqual([worker, child].sort());
    // Over when it returns: a process out of cgroup.procs may still be exiting, and that is waited for.
    expect([isPidAlive(worker), isPidAlive(child)]).toEqual([false, false]);
    expect(r.removed).toBe(true);
    expect(fs.existsSync(dir)).toBe(false);
  });

  it("emptied run cgroups are removed once a minute old, populated and fresh ones kept", async () => {
    if (!probe.usable) {
      expect(removeEmptyRunCgroups("/nonexistent-cgroup-root")).toBe(0);
      return;
    }
    const empty = runCgroupDir(testRoot as string, { boardKey: "feedfacefeedface", runId: 1 });
    const busy = runCgroupDir(testRoot as string, { boardKey: "feedfacefeedface", runId: 2 });
    createRunCgroup(empty);
    createRunCgroup(busy);
    const { worker, child } = await treeIn(busy, ["1", "1"]);
    // A fresh empty cgroup may be about to receive its worker: kept until it is a minute old.
    expect(removeEmptyRunCgroups(testRoot as string)).toBe(0);
    expect(fs.existsSync(empty)).toBe(true);
    expect(removeEmptyRunCgroups(testRoot as string, 0)).toBe(1);
    expect([fs.existsSync(empty), fs.existsSync(busy)]).toEqual([false, true]);
    await stopCgroup(busy, { graceMs: 2000 });
    expect(isPidAlive(worker) || isPidAlive(child)).toBe(false);
    expect(fs.existsSync(busy)).toBe(false);
  });
});
