import Database from "better-sqlite3";
import { createCaller, createContextInner } from "@kanban/api";
import { dispatchOnce } from "@kanban/dispatcher";
import { openBoard } from "@kanban/kernel";
import { boardInternals } from "@kanban/kernel/testing";
import { percentile, round, timings } from "./stats.ts";

/**
 * The board read of the API (`board.get`: every column's first page with the per-card extras)
 * against the floor of reading the same rows with one raw SELECT; and a dispatcher tick with nothing
 * to spawn against the raw ready-lane query.
 */
export async function benchBoardGet(home: string, quick: boolean) {
  const caller = createCaller(createContextInner({ location: { home } }));
  const runs = quick ? 5 : 25;
  await caller.board.get({}); // warm: first use opens and migrates the board
  const api: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await caller.board.get({});
    api.push(performance.now() - t0);
  }
  const raw = new Database(`${home}/kanban.db`, { readonly: true });
  const stmt = raw.prepare("SELECT * FROM tasks WHERE status != 'archived' ORDER BY priority DESC LIMIT 1200");
  const floor = timings(runs, () => stmt.all());
  raw.close();
  const p50 = percentile(api, 50);
  return {
    p50_ms: round(p50, 2),
    p95_ms: round(percentile(api, 95), 2),
    raw_p50_ms: round(percentile(floor, 50), 2),
    ratio: round(percentile(floor, 50) / p50, 2),
  };
}

export async function benchTick(file: string, quick: boolean) {
  const board = openBoard({ path: file, failureLimit: 2, warn: () => {} });
  const deps = {
    isSpawnable: () => false, // nothing is spawnable: the tick is pure bookkeeping
    resolveWorkspace: () => {
      throw new Error("not reached");
    },
    spawnWorker: async () => {
      throw new Error("not reached");
    },
  };
  const runs = quick ? 5 : 30;
  await dispatchOnce(board, { staleTimeoutSeconds: 14400 }, deps);
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await dispatchOnce(board, { staleTimeoutSeconds: 14400 }, deps);
    ms.push(performance.now() - t0);
  }
  const lane = boardInternals(board).sqlite.prepare(
    "SELECT id FROM tasks WHERE status = 'ready' AND claim_lock IS NULL ORDER BY priority DESC, created_at ASC",
  );
  const floor = timings(runs, () => lane.all());
  board.close();
  const p50 = percentile(ms, 50);
  return {
    p50_ms: round(p50, 2),
    raw_ready_lane_p50_ms: round(percentile(floor, 50), 2),
    ratio: round(percentile(floor, 50) / p50, 2),
  };
}
