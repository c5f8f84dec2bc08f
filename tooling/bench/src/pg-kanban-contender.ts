import { DEFAULT_PG_POOL_SIZE } from "@kanban/db";
import { type Board, openPgBoard, ReadyLane } from "@kanban/kernel";
import { boardInternals, rawSql } from "@kanban/kernel/testing";
import { type PgContender, pullContender } from "./pg-contender.ts";

const BOARD = "bench";
/** Tasks created per transaction while enqueueing (not timed). */
const ENQUEUE_CHUNK = 500;

/**
 * Our kernel on PostgreSQL as a fleet uses it: each worker is a dispatcher-style loop that takes the
 * next ready task of the lane (`claimNext`, which claims with a lease and opens a run) and completes
 * it fenced to that run (`expected_run_id`), so a completion can only land on the attempt it
 * claimed, as pg-boss's does. Each worker walks its own view of the lane, re-read when it runs out;
 * a task another worker took first is skipped (its claim misses). One board opened as a process
 * opens it by default (a pool of `DEFAULT_PG_POOL_SIZE` connections, 4), shared by the workers, as
 * pg-boss and graphile-worker run at their own defaults (10); the scenario also measures pg-boss on
 * our pool size, so the table pairs us with it on equal pools too.
 */
export function kanbanContender(): PgContender {
  return pullContender({
    name: "kanban (PostgreSQL store)",
    pool: DEFAULT_PG_POOL_SIZE,
    cycle: "claimNext (lease + run + event) of one task, then completeTask fenced to its run",
    async setup(url) {
      const board: Board = await openPgBoard({ url, board: BOARD, applicationName: "kanban-bench" });
      return {
        async enqueue(n) {
          for (let from = 0; from < n; from += ENQUEUE_CHUNK) {
            await boardInternals(board).ctx.tx(async () => {
              for (let i = from; i < Math.min(n, from + ENQUEUE_CHUNK); i++) {
                await board.createTask({ title: `job ${i}`, assignee: "bench" });
              }
            });
          }
        },
        async worker(index) {
          const claimer = `bench-${index}:1`;
          let lane = new ReadyLane();
          return async () => {
            // A fresh read of the lane that claims nothing means nothing is left.
            let fresh = lane.rows === null;
            for (;;) {
              const { claimed, more } = await board.claimNext(lane, { claimer }, 1);
              const task = claimed[0]?.task;
              if (task) {
                await board.completeTask(task.id, { summary: "ok", expected_run_id: task.current_run_id });
                return task.id;
              }
              if (more) continue;
              if (fresh) return null;
              lane = new ReadyLane();
              fresh = true;
            }
          };
        },
        async verify(n) {
          const [row] = await rawSql(board).all<{ total: number; completed: number; pending: number; runs: number }>(
            `SELECT COUNT(*) AS total,
                    SUM(CASE WHEN status = 'done' THEN 1 ELSE 0 END) AS completed,
                    SUM(CASE WHEN status != 'done' THEN 1 ELSE 0 END) AS pending,
                    (SELECT COUNT(*) FROM task_runs) AS runs
               FROM tasks`,
          );
          if (row?.total !== n) throw new Error(`the board holds ${row?.total} tasks, ${n} were enqueued`);
          return { completed: Number(row.completed), pending: Number(row.pending), redelivered: Number(row.runs) - n };
        },
        async teardown() {
          // Every connection closed before the scenario drops the database.
          await board.close();
        },
      };
    },
  });
}
