import fs from "node:fs";
import path from "node:path";
import { boardLocationFromEnv } from "@kanban/db";
import { openBoard } from "@kanban/kernel";
import { isPidAlive } from "@kanban/process";
import { spawnWorkerTree, type WorkerTree } from "@kanban/process/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { apiClient, createdId, runBinary, type TempHome, tempHome } from "./testing/harness.ts";

/**
 * The local CLI runs the API in-process and exits right after the command: it must stop a released
 * worker's whole process group (SIGTERM, grace, SIGKILL) before exiting, or a worker that ignores
 * SIGTERM, and its children, keep running beside the next attempt.
 */
let h: TempHome;
const trees: WorkerTree[] = [];

beforeEach(() => {
  h = tempHome();
  fs.writeFileSync(path.join(h.home, "config.json"), JSON.stringify({ kanban: { terminate_grace_seconds: 0.5 } }));
});
afterEach(() => {
  for (const t of trees.splice(0)) t.kill();
  h.cleanup();
});

/** A running task whose recorded worker is a real worker → child → grandchild chain ignoring SIGTERM. */
async function runningTask(): Promise<{ id: string; tree: WorkerTree }> {
  const created = await runBinary(["create", "busy", "--assignee", "coder"], h.env);
  const id = createdId(created.out);
  const api = await apiClient(h.env);
  const claimed = await api.tasks.claim.mutate({ id });
  const tree = await spawnWorkerTree({ levels: 3, ignoreSigterm: true });
  trees.push(tree);
  const board = openBoard({ location: boardLocationFromEnv(h.env), warn: () => {} });
  try {
    expect(await board.recordSpawn(id, tree.leader, claimed.run_id as number)).toBe(true);
  } finally {
    board.close();
  }
  return { id, tree };
}

describe("kanban (local) stops released workers before it exits", () => {
  for (const verb of [["reclaim"], ["archive"], ["reassign", "writer", "--reclaim"]]) {
    it(`kanban ${verb.join(" ")}: worker, child and grandchild (ignoring SIGTERM) are all gone when the command returns`, async () => {
      const { id, tree } = await runningTask();
      for (const pid of tree.pids) expect(isPidAlive(pid)).toBe(true);
      const [name, ...rest] = verb as [string, ...string[]];
      const r = await runBinary([name, id, ...rest], h.env);
      expect(r.code, r.err).toBe(0);
      for (const pid of tree.pids) expect(isPidAlive(pid), `pid ${pid} of ${tree.pids.join(",")}`).toBe(false);
    });
  }
});
