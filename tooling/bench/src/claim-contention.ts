import path from "node:path";
import { openBoard } from "@kanban/kernel";
import { boardInternals } from "@kanban/kernel/testing";
import { heldClaimer } from "../../../packages/kernel/test/held-claimer.ts";
import { round } from "./stats.ts";

/** 8 processes claiming from one file: total claims/s and the slowest process's share of a fair split. */
export async function benchContention(dir: string, quick: boolean) {
  const total = quick ? 2_000 : 20_000;
  const procs = 8;
  const file = path.join(dir, "contention.db");
  const board = openBoard({ path: file, warn: () => {} });
  await boardInternals(board).ctx.tx(async () => {
    for (let i = 0; i < total; i++) await board.createTask({ title: `job ${i}`, assignee: "bench" });
  });
  board.close();
  // Everyone starts claiming at the same instant: each child opens the board and says "ready", and
  // only when all eight have does the clock start and the "go" go out (start-up is not measured).
  const claimers = await Promise.all(Array.from({ length: procs }, (_, i) => heldClaimer(file, `p${i}`)));
  await Promise.all(claimers.map((c) => c.ready));
  const startAt = Date.now();
  for (const c of claimers) c.go();
  const results = await Promise.all(claimers.map((c) => c.done));
  const seconds = (Date.now() - startAt) / 1000;
  const counts = results.map((r) => r.won.length);
  const claimed = counts.reduce((a, b) => a + b, 0);
  const distinct = new Set(results.flatMap((r) => r.won)).size;
  return {
    processes: procs,
    tasks: total,
    claimed,
    duplicates: claimed - distinct,
    claims_per_s: round(claimed / seconds),
    slowest_share: round(Math.min(...counts) / (claimed / procs), 2),
    counts,
  };
}
