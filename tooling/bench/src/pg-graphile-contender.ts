import { EventEmitter } from "node:events";
import { openPostgres } from "@kanban/db";
import { Logger, makeWorkerUtils, run, runMigrations, type WorkerEvents } from "graphile-worker";
import type { PgContender } from "./pg-contender.ts";
import { installedVersion } from "./pg-version.ts";

const TASK = "bench";
const ADD_CHUNK = 1_000;
/** How often the tail of a drain looks for completions still being written (graphile does not await them). */
const TAIL_POLL_MS = 2;

/**
 * graphile-worker has no public "fetch one job" call: its workers fetch, run and complete jobs
 * themselves (`getJob`/`completeJob` are internal; `WorkerUtils.completeJobs` completes jobs by id
 * but offers nothing to fetch them with). So it is measured the way its own docs and perf suite run
 * it: `run()` with `concurrency` = the worker count and a task that does nothing but note the job's
 * id, every other option at its default (pool of 10, no local queue, no batched completion — the
 * batching its perf page enables is opt-in and not used here, as nothing is tuned for anyone).
 * The only option set besides is a silent logger: by default it prints a line per job to the
 * console, which would measure the terminal.
 *
 * The clock starts at the first worker's first fetch (the runner's boot is not a fetch), and stops
 * when the last job's row is gone from `graphile_worker._private_jobs` (a completed job is deleted;
 * its worker does not wait for that delete before fetching the next one, so the last handler
 * returning is not yet the end).
 */
export function graphileWorkerContender(): PgContender {
  return {
    name: `graphile-worker ${installedVersion("graphile-worker")}`,
    // Its `maxPoolSize` default.
    pool: 10,
    cycle: "run() with concurrency = workers and a no-op task: its own fetch (get_job) + complete (delete)",
    async setup(url) {
      const logger = new Logger(() => () => {});
      await runMigrations({ connectionString: url, logger });
      const utils = await makeWorkerUtils({ connectionString: url, logger });
      const db = await openPostgres(url, { poolSize: 1, applicationName: "kanban-bench-verify" });
      const remaining = async () => {
        const { rows } = await db.pool.query<{ n: number }>("SELECT count(*) AS n FROM graphile_worker._private_jobs");
        return rows[0]?.n ?? 0;
      };
      let stopRunner: () => Promise<void> = async () => {};
      const ids: string[] = [];
      return {
        async enqueue(n) {
          for (let from = 0; from < n; from += ADD_CHUNK) {
            const jobs = Array.from({ length: Math.min(ADD_CHUNK, n - from) }, (_, k) => ({
              identifier: TASK,
              payload: { i: from + k },
            }));
            await utils.addJobs(jobs);
          }
        },
        async prepare(workers) {
          const n = await remaining();
          return async () => {
            const events: WorkerEvents = new EventEmitter();
            let startedAt: number | undefined;
            events.once("worker:getJob:start", () => {
              startedAt = performance.now();
            });
            let handled!: () => void;
            const allHandled = new Promise<void>((resolve) => {
              handled = resolve;
            });
            const runner = await run({
              connectionString: url,
              concurrency: workers,
              logger,
              events,
              noHandleSignals: true,
              taskList: {
                [TASK]: async (_payload, helpers) => {
                  ids.push(String(helpers.job.id));
                  if (ids.length >= n) handled();
                },
              },
            });
            stopRunner = () => runner.stop();
            // A runner that dies (lost connection, a failed completion) ends the drain with its error;
            // once the drain is over, its end is teardown's business.
            let drained = false;
            const died = runner.promise.then(() => {
              if (!drained) throw new Error("graphile-worker's runner stopped before every job ran");
            });
            died.catch(() => {});
            await Promise.race([allHandled, died]);
            drained = true;
            while ((await remaining()) > 0) await new Promise((r) => setTimeout(r, TAIL_POLL_MS));
            return { ids: [...ids], startedAt };
          };
        },
        async verify(n) {
          // A completed job's row is deleted; a failed one stays, with its attempts.
          // A handler run twice for one job shows in the ids it noted.
          const left = await remaining();
          const distinct = new Set(ids).size;
          return { completed: Math.min(distinct, n - left), pending: left, redelivered: ids.length - distinct };
        },
        async teardown() {
          await stopRunner();
          await utils.release();
          await db.close();
        },
      };
    },
  };
}
