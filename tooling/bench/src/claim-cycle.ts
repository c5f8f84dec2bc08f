import path from "node:path";
import Database from "better-sqlite3";
import { openDatabase, type Synchronous } from "@kanban/db";
import { openBoard } from "@kanban/kernel";
import { boardInternals } from "@kanban/kernel/testing";
import { round, throughput, throughputAsync } from "./stats.ts";

/**
 * Claim+complete cycles per second through the kernel, against the ceiling: a raw better-sqlite3
 * compare-and-swap loop doing the same two write transactions (ready→running, running→done) on the
 * same file system with the same synchronous setting.
 *
 * The two loops run in alternating slices (raw, kernel, raw, kernel…) rather than one after the
 * other: a cloud disk's fsync latency drifts over seconds, and measured back to back the ratio
 * moved by ±0.1 between runs for that reason alone.
 */
/** One claim+complete per cycle: the raw loops run it synchronously, the kernel's (an async store) not. */
type Loop = { close(): void } & ({ cycle(): void } | { cycleAsync(): Promise<void> });

function rawLoop(dir: string, sync: Synchronous, n: number): Loop {
  const db = new Database(path.join(dir, `raw-${sync}.db`));
  db.pragma("journal_mode = WAL");
  db.pragma(`synchronous = ${sync}`);
  db.exec(
    "CREATE TABLE jobs (id TEXT PRIMARY KEY, status TEXT NOT NULL, lock TEXT, done_at INTEGER); CREATE INDEX jobs_status ON jobs(status)",
  );
  const insert = db.prepare("INSERT INTO jobs (id, status) VALUES (?, 'ready')");
  db.transaction(() => {
    for (let i = 0; i < n; i++) insert.run(`t_${i.toString(16).padStart(8, "0")}`);
  })();
  const claim = db.prepare("UPDATE jobs SET status = 'running', lock = ? WHERE id = ? AND status = 'ready'");
  const complete = db.prepare(
    "UPDATE jobs SET status = 'done', lock = NULL, done_at = ? WHERE id = ? AND status = 'running'",
  );
  const claimTx = db.transaction((id: string) => claim.run("bench:1", id));
  const completeTx = db.transaction((id: string) => complete.run(1, id));
  let i = 0;
  return {
    cycle() {
      const id = `t_${(i++ % n).toString(16).padStart(8, "0")}`;
      claimTx.immediate(id);
      completeTx.immediate(id);
    },
    close: () => db.close(),
  };
}

async function kernelLoop(dir: string, sync: Synchronous, n: number): Promise<Loop> {
  const board = openBoard({ path: path.join(dir, `kernel-${sync}.db`), synchronous: sync, warn: () => {} });
  const ids: string[] = [];
  await boardInternals(board).ctx.tx(async () => {
    for (let i = 0; i < n; i++) ids.push((await board.createTask({ title: `job ${i}`, assignee: "bench" })).id);
  });
  let i = 0;
  return {
    async cycleAsync() {
      const id = ids[i++];
      if (id === undefined) throw new Error("ran out of tasks: raise n");
      const t = await board.claimTask(id, { claimer: "bench:1" });
      await board.completeTask(id, { summary: "ok", expected_run_id: t?.current_run_id });
    },
    close: () => board.close(),
  };
}

/**
 * The kernel's write set without the kernel: the same UPDATEs and INSERTs a claim and a completion
 * commit (task CAS, run opened and closed, one event each), as bare prepared statements on a board
 * with Hermes' schema, indexes and PRAGMAs. It separates what the schema costs (pages per commit)
 * from what the kernel's code costs (checks, fencing, reads).
 */
async function schemaLoop(dir: string, sync: Synchronous, n: number): Promise<Loop> {
  const file = path.join(dir, `schema-${sync}.db`);
  const seed = openBoard({ path: file, synchronous: sync, warn: () => {} });
  const ids: string[] = [];
  await boardInternals(seed).ctx.tx(async () => {
    for (let i = 0; i < n; i++) ids.push((await seed.createTask({ title: `job ${i}`, assignee: "bench" })).id);
  });
  seed.close();
  const db = openDatabase({ path: file, synchronous: sync, warn: () => {} });
  const q = db.sqlite;
  const openRun = q.prepare(
    "INSERT INTO task_runs (task_id, profile, status, claim_lock, claim_expires, started_at) VALUES (?, 'bench', 'running', 'bench:1', 1, 1)",
  );
  const claim = q.prepare(
    "UPDATE tasks SET status = 'running', claim_lock = 'bench:1', claim_expires = 1, started_at = 1, current_run_id = ? WHERE id = ? AND status = 'ready'",
  );
  const event = q.prepare(
    "INSERT INTO task_events (task_id, run_id, kind, payload, created_at) VALUES (?, ?, ?, NULL, 1)",
  );
  const complete = q.prepare(
    "UPDATE tasks SET status = 'done', completed_at = 1, claim_lock = NULL, claim_expires = NULL, current_run_id = NULL WHERE id = ? AND status = 'running'",
  );
  const closeRun = q.prepare(
    "UPDATE task_runs SET status = 'done', outcome = 'completed', summary = 'ok', ended_at = 1, claim_lock = NULL WHERE id = ?",
  );
  const claimTx = q.transaction((id: string) => {
    const run = Number(openRun.run(id).lastInsertRowid);
    claim.run(run, id);
    event.run(id, run, "claimed");
    return run;
  });
  const completeTx = q.transaction((id: string, run: number) => {
    complete.run(id);
    closeRun.run(run);
    event.run(id, run, "completed");
  });
  let i = 0;
  return {
    cycle() {
      const id = ids[i++];
      if (id === undefined) throw new Error("ran out of tasks: raise n");
      completeTx.immediate(id, claimTx.immediate(id));
    },
    close: () => db.close(),
  };
}

/** Runs the loops in `rounds` alternating slices of `slice` seconds each; returns each loop's cycles/s. */
async function sideBySide(loops: Loop[], rounds: number, slice: number): Promise<number[]> {
  const ops = loops.map(() => 0);
  for (let r = 0; r < rounds; r++) {
    for (const [k, loop] of loops.entries()) {
      const measured =
        "cycleAsync" in loop
          ? await throughputAsync(slice, () => loop.cycleAsync())
          : throughput(slice, () => loop.cycle());
      ops[k] = (ops[k] ?? 0) + measured.ops;
    }
  }
  return ops.map((o) => o / (rounds * slice));
}

export async function benchClaimCycle(dir: string, quick: boolean) {
  const rounds = quick ? 2 : 6;
  const slice = quick ? 0.25 : 0.5;
  const rows = [];
  for (const sync of ["FULL", "NORMAL"] as const) {
    const n = sync === "FULL" ? (quick ? 5_000 : 30_000) : quick ? 20_000 : 150_000;
    const loops = [rawLoop(dir, sync, n), await schemaLoop(dir, sync, n), await kernelLoop(dir, sync, n)];
    const [raw = 0, schema = 0, kernel = 0] = await sideBySide(loops, rounds, slice);
    for (const loop of loops) loop.close();
    rows.push({
      synchronous: sync,
      raw_cycles_per_s: round(raw),
      schema_cycles_per_s: round(schema),
      kernel_cycles_per_s: round(kernel),
      ratio: round(kernel / raw, 2),
      kernel_to_schema: round(kernel / schema, 2),
    });
  }
  return rows;
}
