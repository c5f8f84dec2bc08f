import fs from "node:fs";
import path from "node:path";
import type { BoardLocation } from "@kanban/db";
import { makeTempDir } from "@kanban/db/testing";
import { isPidAlive } from "@kanban/process";
import { spawnWorkerTree, type WorkerTree } from "@kanban/process/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createContextInner, drainTerminations } from "./context.ts";
import { LiveHub } from "./live/hub.ts";
import { BoardRegistry } from "./registry.ts";
import { createCaller } from "./root.ts";
import { captureLogger } from "./testing.ts";

/**
 * Releasing a claim through the API stops the worker's whole process group with the dispatcher's
 * escalation (SIGTERM, grace, SIGKILL), never just SIGTERM to one pid, and never inside the request.
 */
let home: { dir: string; cleanup: () => void };
let boards: BoardRegistry;
let live: LiveHub;
const trees: WorkerTree[] = [];
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

/** A running task whose recorded worker is a real tree (worker, child, grandchild) ignoring SIGTERM. */
async function runningTaskWithTree(
  api: ReturnType<typeof setup>,
): Promise<{ id: string; runId: number; tree: WorkerTree }> {
  const { task } = await api.tasks.create({ title: "busy", assignee: "coder" });
  const board = boards.board();
  const claimed = await board.claimTask(task.id);
  if (claimed?.current_run_id == null) throw new Error("claim failed");
  const tree = await spawnWorkerTree({ levels: 3, ignoreSigterm: true });
  trees.push(tree);
  expect(await board.recordSpawn(task.id, tree.leader, claimed.current_run_id)).toBe(true);
  return { id: task.id, runId: claimed.current_run_id, tree };
}

beforeEach(() => {
  home = makeTempDir("kanban-api-terminate-");
});
afterEach(async () => {
  for (const t of trees.splice(0)) t.kill();
  await drainTerminations();
  live.close();
  boards.close();
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
    it(`${name}: the worker, its child and its grandchild (all ignoring SIGTERM) are gone`, async () => {
      const api = setup(0.3);
      const { id, runId, tree } = await runningTaskWithTree(api);
      for (const pid of tree.pids) expect(isPidAlive(pid)).toBe(true);
      await release(api, id, runId);
      await drainTerminations();
      for (const pid of tree.pids) expect(isPidAlive(pid), `pid ${pid} of ${tree.pids.join(",")}`).toBe(false);
      expect(logger.lines.some((l) => l.message.includes("killed") && l.fields?.pid === tree.leader)).toBe(true);
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
    // Answered already, and the SIGTERM-ignoring tree is still inside its 60 s grace.
    expect((await api.tasks.get({ id })).task.status).toBe("ready");
    for (const pid of tree.pids) expect(isPidAlive(pid)).toBe(true);
    tree.kill();
    await drainTerminations();
    for (const pid of tree.pids) expect(isPidAlive(pid)).toBe(false);
  });
});
