// PostgreSQL only: a pool connection plans a prepared statement once for all (the generic plan, from
// its sixth run on), with the tables' sizes of that moment. The claim's "has this task ever had a
// run" test was then planned as one hashed scan of all of task_runs while the table was small, and
// every later claim on that connection read the whole run history, however large it grew.
import { randomBytes } from "node:crypto";
import { boardSchemaName, type KanbanPostgres, openPostgres } from "@kanban/db";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Board } from "../../board.ts";
import { pgBoard } from "../../open-pg-board.ts";
import { ReadyLane } from "../../claim-next.ts";
import { rawSql } from "../../testing/index.ts";
import { dropTestSchemaLater, testStoreUrl } from "../../testing/test-store.ts";

const slug = `history_${randomBytes(4).toString("hex")}`;
let admin: KanbanPostgres;
let board: Board;

beforeAll(async () => {
  admin = await openPostgres(testStoreUrl(), { poolSize: 1, applicationName: "kanban-test-history" });
  // One connection: the statements planned early are the ones used after the history grew.
  board = pgBoard({ url: testStoreUrl(), board: slug, poolSize: 1, warn: () => {} });
});

afterAll(async () => {
  await board?.close();
  await admin?.close();
  dropTestSchemaLater(slug);
});

/** Rows read by sequential scans of the board's task_runs, after the board's connection reported its own. */
async function runsReadBySeqScan(): Promise<number> {
  // Statistics reach the shared counters when a backend goes idle, at most once a second unless asked.
  await rawSql(board).get("SELECT pg_stat_force_next_flush()");
  const { rows } = await admin.pool.query<{ n: string }>(
    "SELECT seq_tup_read AS n FROM pg_stat_user_tables WHERE schemaname = $1 AND relname = 'task_runs'",
    [boardSchemaName(slug)],
  );
  return Number(rows[0]?.n);
}

it("a claim probes the task's own runs, however much history was added after its statement was planned", async () => {
  for (let i = 0; i < 40; i++) await board.createTask({ title: `job ${i}`, assignee: "worker" });
  const lane = new ReadyLane();
  const cycle = async () => {
    const { claimed } = await board.claimNext(lane, { claimer: "worker:1" }, 1);
    const task = claimed[0]?.task;
    if (!task) throw new Error("nothing claimed");
    await board.completeTask(task.id, { summary: "ok", expected_run_id: task.current_run_id });
    return task.id;
  };
  // Eight claims with a history of at most eight runs: the claim statement is now planned for good.
  const done: string[] = [];
  for (let i = 0; i < 8; i++) done.push(await cycle());
  // The history grows by 3,000 runs (of a finished task), as a board's does over its life.
  await rawSql(board).run(
    `INSERT INTO task_runs (task_id, profile, status, outcome, started_at, ended_at)
       SELECT ?, 'worker', 'done', 'completed', g, g + 1 FROM generate_series(1, 3000) g`,
    done[0],
  );
  const before = await runsReadBySeqScan();
  for (let i = 0; i < 10; i++) await cycle();
  const read = (await runsReadBySeqScan()) - before;
  // A hashed scan reads every run on each of the ten claims (30,000 rows and more); probes read none.
  expect(read).toBeLessThan(3000);
});
