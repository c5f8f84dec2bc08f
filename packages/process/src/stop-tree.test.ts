import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { isPidAlive, procStatFields } from "./process.ts";
import { boardKey, protectedPids, runMarkerEnv, runProcesses, scanRunProcesses } from "./run-processes.ts";
import { freezeAndKill, stopRunTree } from "./stop-tree.ts";
import { terminateWorkerTree } from "./terminate.ts";
import { type RunTree, spawnRunTree } from "./testing.ts";

let dir: string;
const trees: RunTree[] = [];
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "kanban-stop-tree-"));
});
afterEach(() => {
  for (const t of trees.splice(0)) t.kill();
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Two boards whose run ids collide: what the board key keeps apart. */
const boardA = boardKey(path.join(os.tmpdir(), "board-a", "kanban.db"));
const boardB = boardKey("postgres://db.internal:5432/kanban#kanban_b");

async function tree(runId: number, key: string): Promise<RunTree> {
  const t = await spawnRunTree({ dir, env: runMarkerEnv({ runId, boardKey: key }) });
  trees.push(t);
  return t;
}

const alive = (pids: readonly number[]) => pids.filter(isPidAlive);

describe("runProcesses: a run's processes by the identity in their environment", () => {
  it("finds every process of the run, the one that left the group by setsid included, and nothing of another board's run 7", async () => {
    const [a, b, other] = await Promise.all([tree(7, boardA), tree(7, boardB), tree(8, boardA)]);
    expect(new Set(runProcesses({ runId: 7, boardKey: boardA }))).toEqual(new Set(a.pids));
    expect(new Set(runProcesses({ runId: 7, boardKey: boardB }))).toEqual(new Set(b.pids));
    const scanned = scanRunProcesses({ boardKeys: new Set([boardA]) });
    expect(new Set(scanned.map((p) => p.pid))).toEqual(new Set([...a.pids, ...other.pids]));
    // The escapee (4th) leads its own group: the worker's group alone would miss it and its child.
    const escapee = scanned.find((p) => p.pid === a.pids[3]);
    expect(escapee?.pgid).toBe(a.pids[3]);
    expect(escapee?.pgid).not.toBe(a.leader);
  });

  it("reads a marked environment larger than its first buffer (64 KiB), and agrees with the full snapshot", async () => {
    // Read environment first, the rest only for marked processes (the sweep's pass every second);
    // the full snapshot (procSnapshot, which stopping uses) reads everything of every process.
    const big = await spawnRunTree({
      dir,
      // The padding goes first, so the marker lies past the first 64 KiB of the block.
      env: { KANBAN_TEST_PADDING: "x".repeat(100_000), ...runMarkerEnv({ runId: 9, boardKey: boardA }) },
    });
    trees.push(big);
    const other = await tree(10, boardB);
    const fast = scanRunProcesses();
    expect(
      fast
        .filter((p) => p.runId === 9 && p.boardKey === boardA)
        .map((p) => p.pid)
        .sort(),
    ).toEqual([...big.pids].sort());
    const shape = (ps: typeof fast) =>
      ps
        .filter((p) => [...big.pids, ...other.pids].includes(p.pid))
        .map((p) => `${p.pid} ${p.runId} ${p.boardKey} ${p.pgid} ${p.startTime}`)
        .sort();
    expect(shape(fast)).toEqual(shape(scanRunProcesses({ maxAgeMs: 60_000 })));
    expect(shape(fast)).toHaveLength(big.pids.length + other.pids.length);
  });

  it("never lists our own process or its ancestors", () => {
    const own = protectedPids();
    expect(own.has(process.pid)).toBe(true);
    expect(own.has(process.ppid)).toBe(true);
    for (const p of scanRunProcesses()) expect(own.has(p.pid)).toBe(false);
  });
});

describe("stopRunTree: SIGTERM, grace, SIGKILL over the group and the run's escapees", () => {
  it("stops all five processes (two ignore SIGTERM, two left the group) and says SIGKILL was needed; the other board's run 7 lives on", async () => {
    const [a, b] = await Promise.all([tree(7, boardA), tree(7, boardB)]);
    const lines: string[] = [];
    const report = await stopRunTree(
      { pgid: a.leader, identity: { runId: 7, boardKey: boardA } },
      { graceMs: 500, log: (l) => lines.push(l) },
    );
    expect(report.outcome).toBe("killed");
    expect(new Set(report.pids)).toEqual(new Set(a.pids));
    // grandchild, escapee and escapee-child ignore SIGTERM (the escapee-child inherits the escapee's
    // ignore); on a loaded host a polite one may not have been scheduled to die within the grace either.
    expect(report.killed).toEqual(expect.arrayContaining([a.pids[2], a.pids[3], a.pids[4]]));
    expect(alive(a.pids)).toEqual([]);
    expect(alive(b.pids)).toEqual(b.pids);
    expect(lines.join("\n")).toMatch(/SIGTERM sent to 5 process/);
    expect(lines.join("\n")).toMatch(/SIGKILL sent to [345] process/);
  });

  it("a caller that knows only the worker's pid (the API's fallback) still reaches the escapees, through the leader's environment", async () => {
    const a = await tree(11, boardA);
    const report = await terminateWorkerTree({ pid: a.leader, lock: "host:1" }, { graceMs: 200 });
    expect(report.outcome).toBe("killed");
    expect(alive(a.pids)).toEqual([]);
  });

  it("a tree that honours SIGTERM is terminated without SIGKILL, its escapees too; an empty run is 'gone'", async () => {
    const a = await spawnRunTree({
      dir,
      env: { ...runMarkerEnv({ runId: 12, boardKey: boardA }), RUN_TREE_POLITE: "1" },
    });
    trees.push(a);
    const report = await stopRunTree({ identity: { runId: 12, boardKey: boardA } }, { graceMs: 10_000 });
    expect(report.outcome).toBe("terminated");
    expect(report.killed).toEqual([]);
    expect(new Set(report.pids)).toEqual(new Set(a.pids));
    expect(alive(a.pids)).toEqual([]);
    expect(await stopRunTree({ identity: { runId: 12, boardKey: boardA } }, { graceMs: 100 })).toEqual({
      outcome: "gone",
      pids: [],
      killed: [],
    });
  });
});

describe("freezeAndKill: the SIGKILL pass", () => {
  it("freezes every process before killing any: a parent whose child is killed first cannot exit by itself first", async () => {
    // The parent ignores SIGTERM and waits on its child; once the child is gone it notes so and
    // exits. The pass reaches the child first and the parent last, 150 processes later: killed one
    // by one, the parent would wake, exit, and be missing from what was killed.
    const woke = path.join(dir, "woke");
    const spawnSh = (script: string) => {
      const c = spawn("sh", ["-c", script], { detached: true, stdio: ["ignore", "pipe", "ignore"] });
      c.unref();
      return c;
    };
    const parent = spawnSh(`trap '' TERM; sleep 1000 & echo $!; wait; echo woke > '${woke}'`);
    const childPid = await new Promise<number>((resolve) =>
      parent.stdout?.once("data", (d: Buffer) => resolve(Number(String(d).trim()))),
    );
    const fillers = Array.from({ length: 150 }, () => spawnSh("exec sleep 1000"));
    const all = [childPid, ...fillers.map((f) => f.pid as number), parent.pid as number];
    trees.push({ leader: parent.pid as number, pids: all, kill: () => killAll(all) });
    const startOf = (pid: number) => procStatFields(pid)?.[19] ?? "";
    const order = new Map(all.map((pid) => [pid, startOf(pid)] as const));
    const killed = freezeAndKill(order);
    expect([...killed.keys()]).toEqual(all);
    for (const pid of all) await waitGone(pid);
    expect(fs.existsSync(woke)).toBe(false);
  });
});

function killAll(pids: readonly number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone
    }
  }
}

async function waitGone(pid: number): Promise<void> {
  const until = Date.now() + 10_000;
  while (isPidAlive(pid) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  expect(isPidAlive(pid), `pid ${pid} gone`).toBe(false);
}
