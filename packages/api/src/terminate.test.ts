import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { type BoardLocation, dispatcherLockPath } from "@kanban/db";
import { cleanChildEnv, makeTempDir } from "@kanban/db/testing";
import { boardKey, isPidAlive, runMarkerEnv, runProcesses, scanRunProcesses } from "@kanban/process";
import { fileURLToPath } from "node:url";
import { killPids, RUN_TREE_SCRIPT, type RunTree, spawnRunTree, waitForRunTree } from "@kanban/process/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createContextInner, drainTerminations } from "./context.ts";
import { LiveHub } from "./live/hub.ts";
import { BoardRegistry } from "./registry.ts";
import { createCaller } from "./root.ts";
import { captureLogger } from "./testing.ts";

/**
 * Releasing a claim through the API with no dispatcher serving the board stops the worker's whole
 * tree (its process group and the processes that left it but carry its run: a setsid escapee) with
 * the dispatcher's escalation (SIGTERM, grace, SIGKILL), never inside the request. With a live
 * dispatcher, the API leaves that to the dispatcher's containment sweep.
 */
let home: { dir: string; cleanup: () => void };
let boards: BoardRegistry;
let live: LiveHub;
const trees: RunTree[] = [];
const others: ChildProcess[] = [];
const logger = captureLogger();

function setup(graceSeconds: number) {
  fs.writeFileSync(
    path.join(home.dir, "config.json"),
    JSON.stringify({ kanban: { terminate_grace_seconds: graceSeconds } }),
  );
  const location: BoardLocation = { home: home.dir };
  boards = new BoardRegistry({ location, warn: () => {} });
  live = new LiveHub({ logger, intervalMs: 50 });
  return createCaller(createContextInner({ location, boards, live, logger }));
}

/**
 * A running task whose recorded worker is a real `run-tree.sh` tree carrying the run's marker, as the
 * dispatcher spawns it: worker, child, grandchild (ignores SIGTERM), a setsid escapee (ignores
 * SIGTERM, its own session and group) and the escapee's child.
 */
async function runningTaskWithTree(
  api: ReturnType<typeof setup>,
): Promise<{ id: string; runId: number; tree: RunTree }> {
  const { task } = await api.tasks.create({ title: "busy", assignee: "coder" });
  const board = boards.board();
  const claimed = await board.claimTask(task.id);
  if (claimed?.current_run_id == null) throw new Error("claim failed");
  const tree = await spawnRunTree({
    dir: home.dir,
    env: runMarkerEnv({ runId: claimed.current_run_id, boardKey: boardKey(board.path) }),
  });
  trees.push(tree);
  expect(await board.recordSpawn(task.id, tree.leader, claimed.current_run_id)).toBe(true);
  return { id: task.id, runId: claimed.current_run_id, tree };
}

beforeEach(() => {
  home = makeTempDir("kanban-api-terminate-");
});
afterEach(async () => {
  for (const t of trees.splice(0)) t.kill();
  for (const c of others.splice(0)) c.kill("SIGKILL");
  await drainTerminations();
  live.close();
  await boards.close();
  home.cleanup();
});

describe("ctx.terminate (API release paths)", () => {
  const paths: [string, (api: ReturnType<typeof setup>, id: string, runId: number) => Promise<unknown>][] = [
    ["tasks.reclaim", (api, id) => api.tasks.reclaim({ id })],
    ["tasks.archive", (api, id) => api.tasks.archive({ id })],
    [
      "tasks.reassign with reclaim_first",
      (api, id) => api.tasks.reassign({ id, profile: "writer", reclaim_first: true }),
    ],
    ["tasks.delete", (api, id) => api.tasks.delete({ id })],
    ["tasks.patch to blocked", (api, id) => api.tasks.patch({ id, status: "blocked", block_reason: "wait" })],
    ["tasks.bulk archive", (api, id) => api.tasks.bulk({ ids: [id], archive: true })],
    ["runs.terminate", (api, _id, runId) => api.runs.terminate({ run_id: runId })],
    [
      "tasks.complete without a run fence (a person closing the card)",
      (api, id) => api.tasks.complete({ id, summary: "done by hand" }),
    ],
    ["tasks.block without a run fence", (api, id) => api.tasks.block({ id, reason: "needs a human" })],
    ["tasks.schedule without a run fence", (api, id) => api.tasks.schedule({ id, reason: "later" })],
    ["tasks.patch to done", (api, id) => api.tasks.patch({ id, status: "done" })],
  ];
  for (const [name, release] of paths) {
    it(`${name}: the worker and all its descendants (the setsid escapee too) are gone`, async () => {
      const api = setup(0.3);
      const { id, runId, tree } = await runningTaskWithTree(api);
      for (const pid of tree.pids) expect(isPidAlive(pid)).toBe(true);
      await release(api, id, runId);
      await drainTerminations();
      for (const pid of tree.pids) expect(isPidAlive(pid), `pid ${pid} of ${tree.pids.join(",")}`).toBe(false);
      expect(runProcesses({ runId, boardKey: boardKey(boards.board().path) })).toEqual([]);
      const killed = logger.lines.find((l) => l.message.includes("killed") && l.fields?.pid === tree.leader);
      expect(killed?.fields).toMatchObject({ processes: 5 });
    });
  }

  it("a complete fenced by the worker's own run id leaves the worker alone (it is finishing by itself)", async () => {
    const api = setup(0.3);
    const { id, runId, tree } = await runningTaskWithTree(api);
    await api.tasks.complete({ id, summary: "finished", expected_run_id: runId });
    await drainTerminations();
    for (const pid of tree.pids) expect(isPidAlive(pid)).toBe(true);
  });

  it("the request returns while the escalation is still waiting out the grace period", async () => {
    const api = setup(60);
    const { id, tree } = await runningTaskWithTree(api);
    await api.tasks.reclaim({ id });
    // Answered already, and the SIGTERM-ignoring part of the tree is still inside its 60 s grace.
    expect((await api.tasks.get({ id })).task.status).toBe("ready");
    for (const pid of tree.pids.slice(2)) expect(isPidAlive(pid)).toBe(true);
    tree.kill();
    await drainTerminations();
    for (const pid of tree.pids) expect(isPidAlive(pid)).toBe(false);
  });
});

describe("ctx.terminate with a live dispatcher serving the board", () => {
  it("leaves the worker to the dispatcher's containment (it stops the tree and records it): the API signals nothing", async () => {
    const api = setup(0.3);
    // A live process holds the home's dispatcher lock: a dispatcher serves every board of the home.
    const stand = spawn("sleep", ["60"], { stdio: "ignore" });
    others.push(stand);
    fs.mkdirSync(path.dirname(dispatcherLockPath(home.dir)), { recursive: true });
    fs.writeFileSync(dispatcherLockPath(home.dir), String(stand.pid));
    const { id, tree } = await runningTaskWithTree(api);
    await api.tasks.reclaim({ id });
    await drainTerminations();
    for (const pid of tree.pids) expect(isPidAlive(pid)).toBe(true);
    expect(logger.lines.some((l) => l.message === "worker left to the dispatcher's containment")).toBe(true);
  });

  it("a worker without the run marker (not our dispatcher's: the sweep could not find it) is still stopped here", async () => {
    const api = setup(0.3);
    const stand = spawn("sleep", ["60"], { stdio: "ignore" });
    others.push(stand);
    fs.mkdirSync(path.dirname(dispatcherLockPath(home.dir)), { recursive: true });
    fs.writeFileSync(dispatcherLockPath(home.dir), String(stand.pid));
    const { task } = await api.tasks.create({ title: "foreign", assignee: "coder" });
    const board = boards.board();
    const claimed = await board.claimTask(task.id);
    const tree = await spawnRunTree({ dir: home.dir });
    trees.push(tree);
    expect(await board.recordSpawn(task.id, tree.leader, claimed?.current_run_id as number)).toBe(true);
    await api.tasks.reclaim({ id: task.id });
    await drainTerminations();
    // Its process group goes; the setsid escapee carries no marker, so nothing names it (the documented limit).
    for (const pid of tree.pids.slice(0, 3)) expect(isPidAlive(pid)).toBe(false);
  });
});

const DISPATCHER_BIN = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  "../../dispatcher/bin/kanban-dispatcher.mjs",
);

/** The test runner's environment without KANBAN_* / HERMES_* variables, for a real dispatcher on this home. */
function dispatcherEnv(): Record<string, string> {
  return { ...cleanChildEnv(), KANBAN_HOME: home.dir };
}

describe("the API path with the real dispatcher serving the board", () => {
  it("every release through the API: the dispatcher stops the run's whole tree within 5 s", {
    timeout: 90_000,
  }, async () => {
    const api = setup(1);
    fs.writeFileSync(
      path.join(home.dir, "config.json"),
      JSON.stringify({
        kanban: {
          terminate_grace_seconds: 1,
          dispatch_interval_seconds: 60,
          max_spawn: 10,
          max_in_progress_per_profile: 10,
        },
        profiles: { tree: { command: ["sh", RUN_TREE_SCRIPT] } },
      }),
    );
    const endings: [string, (id: string, runId: number) => Promise<unknown>][] = [
      ["tasks.reclaim", (id) => api.tasks.reclaim({ id })],
      ["tasks.archive", (id) => api.tasks.archive({ id })],
      ["tasks.delete", (id) => api.tasks.delete({ id })],
      ["tasks.reassign", (id) => api.tasks.reassign({ id, profile: "writer", reclaim_first: true })],
      ["tasks.complete", (id) => api.tasks.complete({ id, summary: "done by hand" })],
      ["tasks.block", (id) => api.tasks.block({ id, reason: "needs a human" })],
      ["runs.terminate", (_id, runId) => api.runs.terminate({ run_id: runId })],
      ["tasks.patch to done", (id) => api.tasks.patch({ id, status: "done" })],
    ];
    const ids: string[] = [];
    for (const [name] of endings) ids.push((await api.tasks.create({ title: name, assignee: "tree" })).task.id);
    const dispatcher = spawn(process.execPath, [DISPATCHER_BIN], {
      env: dispatcherEnv(),
      stdio: ["ignore", "ignore", "pipe"],
      detached: true,
    });
    others.push(dispatcher);
    let log = "";
    dispatcher.stderr?.on("data", (d: Buffer) => {
      log += d.toString();
    });
    const pids = await Promise.all(
      ids.map((id) => waitForRunTree(path.join(home.dir, "kanban", "workspaces", id, "run-tree.pids"), 30_000)),
    );
    for (const p of pids) trees.push({ leader: p[0] as number, pids: p, kill: () => killPids(p) });
    const runIds = await Promise.all(
      ids.map(async (id) => (await api.tasks.get({ id })).task.current_run_id as number),
    );
    const key = boardKey(boards.board().path);
    await Promise.all(
      endings.map(async ([name, end], i) => {
        await end(ids[i] as string, runIds[i] as number);
        const tree = pids[i] as number[];
        const deadline = Date.now() + 5000;
        const gone = () =>
          tree.every((p) => !isPidAlive(p)) &&
          scanRunProcesses({ boardKeys: new Set([key]), maxAgeMs: 200 }).every((p) => p.runId !== runIds[i]);
        while (!gone()) {
          if (Date.now() > deadline) throw new Error(`${name}: run ${runIds[i]} still has processes after 5 s\n${log}`);
          await new Promise((r) => setTimeout(r, 100));
        }
      }),
    );
    // The API signalled none of them: each was the dispatcher's.
    expect(
      logger.lines.filter((l) => l.message === "worker left to the dispatcher's containment").length,
    ).toBeGreaterThanOrEqual(endings.length);
    dispatcher.kill("SIGTERM");
  });
});
