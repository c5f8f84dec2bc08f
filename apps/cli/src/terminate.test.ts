import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { boardLocationFromEnv } from "@kanban/db";
import { openBoard } from "@kanban/kernel";
import { boardKey, isPidAlive, runMarkerEnv, scanRunProcesses } from "@kanban/process";
import { killPids, RUN_TREE_SCRIPT, type RunTree, spawnRunTree, waitForRunTree } from "@kanban/process/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { apiClient, createdId, runBinary, type TempHome, tempHome } from "./testing/harness.ts";

/**
 * The CLI path of containment. Without a dispatcher, the local CLI runs the API in-process and exits
 * right after the command: it must stop a released worker's whole tree (its process group and a
 * setsid escapee carrying its run; SIGTERM, grace, SIGKILL) before exiting. With a dispatcher serving
 * the board, the CLI leaves that to the dispatcher's containment sweep, which stops the tree within
 * a second or so and records it on the task.
 */
const DISPATCHER_BIN = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  "../../../packages/dispatcher/bin/kanban-dispatcher.mjs",
);

let h: TempHome;
const trees: RunTree[] = [];
const children: ChildProcess[] = [];

beforeEach(() => {
  h = tempHome();
});
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill("SIGKILL");
  for (const t of trees.splice(0)) t.kill();
  h.cleanup();
});

function writeConfig(config: Record<string, unknown>): void {
  fs.writeFileSync(path.join(h.home, "config.json"), JSON.stringify(config));
}

function dbPath(): string {
  const board = openBoard({ location: boardLocationFromEnv(h.env), warn: () => {} });
  try {
    return board.path;
  } finally {
    board.close();
  }
}

/** Nothing carrying the run is left (the tree's pids first, then one look at every process). */
function treeGone(runId: number, pids: readonly number[]): boolean {
  return (
    pids.every((p) => !isPidAlive(p)) &&
    scanRunProcesses({ boardKeys: new Set([boardKey(dbPath())]), maxAgeMs: 200 }).every((p) => p.runId !== runId)
  );
}

async function waitUntil(check: () => boolean, label: string, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms: ${label}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A running task whose recorded worker is a real `run-tree.sh` tree carrying the run's marker. */
async function runningTask(): Promise<{ id: string; runId: number; tree: RunTree }> {
  const created = await runBinary(["create", "busy", "--assignee", "coder"], h.env);
  const id = createdId(created.out);
  const api = await apiClient(h.env);
  const claimed = await api.tasks.claim.mutate({ id });
  const runId = claimed.run_id as number;
  const tree = await spawnRunTree({ dir: h.home, env: runMarkerEnv({ runId, boardKey: boardKey(dbPath()) }) });
  trees.push(tree);
  const board = openBoard({ location: boardLocationFromEnv(h.env), warn: () => {} });
  try {
    expect(await board.recordSpawn(id, tree.leader, runId)).toBe(true);
  } finally {
    board.close();
  }
  return { id, runId, tree };
}

// Each is a real `kanban` process (seconds on a loaded host): the API suite walks every release path.
const VERBS = [["reclaim"], ["reassign", "writer", "--reclaim"], ["complete", "--summary", "closed by hand"]];

describe("kanban (local) with no dispatcher stops released workers' whole trees before it exits", () => {
  for (const verb of VERBS) {
    it(`kanban ${verb.join(" ")}: the worker and every descendant, the setsid escapee too, are gone when the command returns`, async () => {
      writeConfig({ kanban: { terminate_grace_seconds: 0.5 } });
      const { id, runId, tree } = await runningTask();
      for (const pid of tree.pids) expect(isPidAlive(pid)).toBe(true);
      const [name, ...rest] = verb as [string, ...string[]];
      const r = await runBinary([name, id, ...rest], h.env);
      expect(r.code, r.err).toBe(0);
      for (const pid of tree.pids) expect(isPidAlive(pid), `pid ${pid} of ${tree.pids.join(",")}`).toBe(false);
      expect(treeGone(runId, tree.pids)).toBe(true);
    });
  }
});

describe("kanban (local) with a dispatcher serving the board", () => {
  it("archive, complete, block and reclaim: the dispatcher stops each run's whole tree within 5 s and the task says so", {
    timeout: 90_000,
  }, async () => {
    writeConfig({
      kanban: {
        terminate_grace_seconds: 1,
        dispatch_interval_seconds: 60,
        max_spawn: 8,
        max_in_progress_per_profile: 8,
      },
      profiles: { tree: { command: ["sh", RUN_TREE_SCRIPT] } },
    });
    const verbs = [["archive"], ["complete", "--summary", "closed by hand"], ["block", "needs a human"], ["reclaim"]];
    const api = await apiClient(h.env);
    const ids: string[] = [];
    for (const _ of verbs) ids.push((await api.tasks.create.mutate({ title: "busy", assignee: "tree" })).task.id);
    const dispatcher = spawn(process.execPath, [DISPATCHER_BIN], {
      env: h.env,
      stdio: ["ignore", "ignore", "pipe"],
      detached: true,
    });
    children.push(dispatcher);
    let log = "";
    dispatcher.stderr?.on("data", (d: Buffer) => {
      log += d.toString();
    });
    const pids = await Promise.all(
      ids.map((id) => waitForRunTree(path.join(h.home, "kanban", "workspaces", id, "run-tree.pids"), 30_000)),
    );
    for (const p of pids) trees.push({ leader: p[0] as number, pids: p, kill: () => killPids(p) });
    const runIds = await Promise.all(ids.map(async (id) => (await api.tasks.get.query({ id })).task.current_run_id));
    await Promise.all(
      verbs.map(async ([name, ...rest], i) => {
        const id = ids[i] as string;
        const r = await runBinary([name as string, id, ...rest], h.env);
        expect(r.code, r.err).toBe(0);
        await waitUntil(
          () => treeGone(runIds[i] as number, pids[i] as number[]),
          `kanban ${name}: run ${runIds[i]} still has processes\n${log}`,
          5000,
        );
      }),
    );
    // What was stopped is on each task (recorded a moment after its last process went).
    for (const [i, id] of ids.entries()) {
      let detail = "";
      const recorded = async () => {
        detail = JSON.stringify(await api.tasks.get.query({ id }));
        return detail.includes("terminal_worker_reaped");
      };
      const end = Date.now() + 5000;
      while (!(await recorded()) && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
      expect(detail, `${verbs[i]?.[0]}: ${log}`).toContain("terminal_worker_reaped");
    }
    dispatcher.kill("SIGTERM");
  });
});
