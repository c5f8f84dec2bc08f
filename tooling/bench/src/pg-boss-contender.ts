import { openPostgres } from "@kanban/db";
import { PgBoss } from "pg-boss";
import { type PgContender, pullContender } from "./pg-contender.ts";
import { installedVersion } from "./pg-version.ts";

const QUEUE = "bench";
/** pg-boss's `insert` takes an array; chunks keep one statement's parameters reasonable. */
const INSERT_CHUNK = 1_000;

/** pg-boss's pool size when `max` is not given: it leaves node-postgres' default (10) in place. */
const PG_BOSS_DEFAULT_POOL = 10;

/**
 * pg-boss as its docs show it used by hand: one `PgBoss` per process with its defaults (its own pool
 * of 10 connections, maintenance and scheduling on), a queue made with `createQueue`, jobs added
 * with `insert`, and each worker a loop of `fetch(queue)` (one job) then `complete(queue, job)`.
 * Completing with the fetched job (its id and `retryCount`) rather than the bare id is pg-boss's own
 * fencing: the completion only lands on the attempt that was fetched.
 *
 * `pool` sets its `max` (connections) instead of the default, to measure it on the pool another
 * contender opens; the row's name then says so.
 */
export function pgBossContender(opts: { pool?: number } = {}): PgContender {
  const product = `pg-boss ${installedVersion("pg-boss")}`;
  return pullContender({
    name: opts.pool === undefined ? product : `${product}, pool of ${opts.pool}`,
    product,
    pool: opts.pool ?? PG_BOSS_DEFAULT_POOL,
    cycle: "fetch(queue) of one job, then complete(queue, {id, retryCount}) (fenced to that attempt)",
    async setup(url) {
      const errors: unknown[] = [];
      const boss = opts.pool === undefined ? new PgBoss(url) : new PgBoss({ connectionString: url, max: opts.pool });
      // An EventEmitter 'error' without a listener would crash the process; a bench keeps them and fails.
      boss.on("error", (err) => errors.push(err));
      await boss.start();
      await boss.createQueue(QUEUE);
      const failIfErrored = () => {
        if (errors.length > 0) throw new Error(`pg-boss reported ${errors.length} error(s): ${String(errors[0])}`);
      };
      return {
        async enqueue(n) {
          for (let from = 0; from < n; from += INSERT_CHUNK) {
            const jobs = Array.from({ length: Math.min(INSERT_CHUNK, n - from) }, (_, k) => ({
              data: { i: from + k },
            }));
            await boss.insert(QUEUE, jobs);
          }
        },
        async worker() {
          return async () => {
            const [job] = await boss.fetch(QUEUE);
            if (!job) return null;
            const res = await boss.complete(QUEUE, { id: job.id, retryCount: job.retryCount });
            // 12.38.1 declares CommandResponse empty, yet returns `affected` (the jobs completed).
            const affected = (res as { affected?: number }).affected;
            if (affected !== 1) throw new Error(`pg-boss complete of ${job.id} affected ${affected} jobs`);
            return job.id;
          };
        },
        async verify(n) {
          failIfErrored();
          // Counted in pg-boss's own table, by a connection of ours, not through its API.
          const db = await openPostgres(url, { poolSize: 1, applicationName: "kanban-bench-verify" });
          try {
            const { rows } = await db.pool.query<{
              completed: number;
              pending: number;
              redelivered: number;
              total: number;
            }>(
              `SELECT count(*) FILTER (WHERE state = 'completed' AND retry_count = 0) AS completed,
                      count(*) FILTER (WHERE state <> 'completed') AS pending,
                      count(*) FILTER (WHERE retry_count > 0) AS redelivered,
                      count(*) AS total
                 FROM pgboss.job WHERE name = $1`,
              [QUEUE],
            );
            const r = rows[0];
            if (r?.total !== n) throw new Error(`pg-boss holds ${r?.total} jobs in '${QUEUE}', ${n} were enqueued`);
            return { completed: r.completed, pending: r.pending, redelivered: r.redelivered };
          } finally {
            await db.close();
          }
        },
        async teardown() {
          await boss.stop({ graceful: true });
        },
      };
    },
  });
}
