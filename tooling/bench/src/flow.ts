import Database from "better-sqlite3";
import { createCaller, createContextInner } from "@kanban/api";
import { percentile, round, timings } from "./stats.ts";

/**
 * The flow read of the API (`stats.flow`, issue 21: the last 30 days of a seeded board, most of it
 * done) against reading the board's done rows with one raw SELECT, the least a read of every card
 * would cost. The target is under 100 ms at 100,000 tasks. The first read of a freshly
 * seeded board also builds its flow ledger from every task; that read is timed on its own.
 */
export async function benchFlow(home: string, quick: boolean) {
  const caller = createCaller(createContextInner({ location: { home } }));
  const runs = quick ? 5 : 15;
  const t0 = performance.now();
  const first = await caller.stats.flow({}); // builds the ledger; the sanity check below
  const firstMs = performance.now() - t0;
  if (first.done === 0) throw new Error("the seeded board has no done card in the flow window");
  const api: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await caller.stats.flow({});
    api.push(performance.now() - t0);
  }
  const raw = new Database(`${home}/kanban.db`, { readonly: true });
  const stmt = raw.prepare("SELECT id, created_at, started_at, completed_at FROM tasks WHERE status = 'done'");
  const floor = timings(runs, () => stmt.all());
  raw.close();
  const p50 = percentile(api, 50);
  return {
    done: first.done,
    first_read_ms: round(firstMs, 0),
    p50_ms: round(p50, 2),
    p95_ms: round(percentile(api, 95), 2),
    raw_p50_ms: round(percentile(floor, 50), 2),
    ratio: round(percentile(floor, 50) / p50, 2),
  };
}
