import path from "node:path";
import Database from "better-sqlite3";
import type { Synchronous } from "@kanban/db";
import { openBoard } from "@kanban/kernel";
import { round, throughput } from "./stats.ts";

/**
 * Claim+complete cycles per second through the kernel, against the ceiling: a raw better-sqlite3
 * compare-and-swap loop doing the same two write transactions (ready→running, running→done) on the
 * same file system with the same PRAGMAs.
 */
function rawCycles(dir: string, sync: Synchronous, seconds: number, n: number): number {
  const db = new Database(path.join(dir, `raw-${sync}.db`));
  db.pragma("journal_mode = WAL");
  db.pragma(`synchronous = ${sync}`);
  db.exec("CREATE TABLE jobs (id TEXT PRIMARY KEY, status TEXT NOT NULL, lock TEXT, done_at INTEGER); CREATE INDEX jobs_status ON jobs(status)");
  const insert = db.prepare("INSERT INTO jobs (id, status) VALUES (?, 'ready')");
  db.transaction(() => {
    for (let i = 0; i < n; i++) insert.run(`t_${i.toString(16).padStart(8, "0")}`);
  })();
  const claim = db.prepare("UPDATE jobs SET status = 'running', lock = ? WHERE id = ? AND status = 'ready'");
  const complete = db.prepare("UPDATE jobs SET status = 'done', lock = NULL, done_at = ? WHERE id = ? AND status = 'running'");
  const claimTx = db.transaction((id: string) => claim.run("bench:1", id));
  const completeTx = db.transaction((id: string) => complete.run(1, id));
  let i = 0;
  const r = throughput(seconds, () => {
    const id = `t_${(i++ % n).toString(16).padStart(8, "0")}`;
    claimTx.immediate(id);
    completeTx.immediate(id);
  });
  db.close();
  return r.perSecond;
}

function kernelCycles(dir: string, sync: Synchronous, seconds: number, n: number): number {
  const board = openBoard({ path: path.join(dir, `kernel-${sync}.db`), synchronous: sync, warn: () => {} });
  const ids: string[] = [];
  board.ctx.tx(() => {
    for (let i = 0; i < n; i++) ids.push(board.createTask({ title: `job ${i}`, assignee: "bench" }).id);
  });
  let i = 0;
  const r = throughput(seconds, () => {
    const id = ids[i++];
    if (id === undefined) throw new Error("ran out of tasks: raise n");
    const t = board.claimTask(id, { claimer: "bench:1" });
    board.completeTask(id, { summary: "ok", expected_run_id: t?.current_run_id });
  });
  board.close();
  return r.perSecond;
}

export function benchClaimCycle(dir: string, quick: boolean) {
  const seconds = quick ? 0.5 : 3;
  const rows = [];
  for (const sync of ["FULL", "NORMAL"] as const) {
    const n = sync === "FULL" ? (quick ? 5_000 : 30_000) : quick ? 20_000 : 150_000;
    const raw = rawCycles(dir, sync, seconds, n);
    const kernel = kernelCycles(dir, sync, seconds, n);
    rows.push({ synchronous: sync, raw_cycles_per_s: round(raw), kernel_cycles_per_s: round(kernel), ratio: round(kernel / raw, 2) });
  }
  return rows;
}
