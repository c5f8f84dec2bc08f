import { DEFAULT_PG_POOL_SIZE } from "@kanban/db";
import { graphileWorkerContender } from "./pg-graphile-contender.ts";
import { pgBossContender } from "./pg-boss-contender.ts";
import { kanbanContender } from "./pg-kanban-contender.ts";
import type { PgContender } from "./pg-contender.ts";
import { benchPgServer, freshDatabase } from "./pg-server.ts";
import { median, round } from "./stats.ts";

/**
 * The contenders, the first being the reference the others are divided by (pg-boss: the issue's bar
 * is "at or above pg-boss at 8 workers"). Adding one is adding its factory here. Each product runs at
 * its own defaults, pool size included (pg-boss and graphile-worker 10 connections, ours 4); pg-boss
 * runs a second time on our pool size, because on a small server the pool alone moves a drain by a
 * tenth or more, so ours is also shown beside it on equal pools.
 */
export const PG_CONTENDERS: Array<() => PgContender> = [
  () => pgBossContender(),
  () => pgBossContender({ pool: DEFAULT_PG_POOL_SIZE }),
  graphileWorkerContender,
  kanbanContender,
];

export const PG_WORKER_COUNTS = [1, 8] as const;

export interface PgQueueRow {
  contender: string;
  cycle: string;
  workers: number;
  jobs: number;
  /** Rounds measured; `seconds` and `jobs_per_s` are their medians. */
  rounds: number;
  seconds: number;
  jobs_per_s: number;
  /** Each round's jobs/s, in the order the rounds ran. */
  round_jobs_per_s: number[];
  /**
   * This contender's jobs/s over the reference's in the same round, the median over the rounds (1 for
   * the reference itself): what the table's last column shows.
   */
  vs_reference: number;
  /**
   * When this contender's pool differs from the reference's and the reference's product also ran on
   * this pool size: that run's name and this contender's ratio to it (the median over the rounds, as
   * `vs_reference`). Absent otherwise.
   */
  vs_same_pool?: { contender: string; ratio: number };
  /** The connections its workers shared, when the contender says. */
  pool?: number;
  /** From the database: completed after exactly one delivery (always `jobs`, or the run throws). */
  completed: number;
  /** Jobs a worker completed more than once, as the workers saw it (always 0, or the run throws). */
  duplicates: number;
}

export interface PgQueuesResult {
  jobs: number;
  reference: string;
  rows: PgQueueRow[];
}

/**
 * For each worker count, `rounds` rounds of every contender in turn: a fresh database on
 * `adminUrl`'s server, the contender's schema, `jobs` jobs enqueued (not timed), then the time
 * `workers` concurrent workers take to fetch and complete all of them. Every worker is a loop (or, for
 * a runner, a concurrency slot) in this one process, with its own connection from the contender's
 * pool. A run where any job is lost, left pending, delivered twice or completed twice throws: its
 * speed would mean nothing.
 *
 * Rounds, because one drain of a few thousand jobs lasts seconds, and on a shared machine the speed
 * of those seconds moves by a fifth from one drain to the next, for every contender alike: a
 * contender's figure is the median of its rounds, and its ratio to the reference the median of the
 * ratios of drains run side by side. Every other round runs the contenders in reverse order, so none
 * always goes first (onto a server the previous drain left busy vacuuming) or last.
 */
export async function benchPgQueues(opts: {
  adminUrl: string;
  jobs: number;
  workers?: readonly number[];
  contenders?: PgContender[];
  rounds?: number;
  log?: (line: string) => void;
}): Promise<PgQueuesResult> {
  const contenders = opts.contenders ?? PG_CONTENDERS.map((make) => make());
  const reference = contenders[0];
  if (!reference) throw new Error("pg-queues: no contender");
  const rounds = Math.max(1, Math.floor(opts.rounds ?? 1));
  const rows: PgQueueRow[] = [];
  for (const workers of opts.workers ?? PG_WORKER_COUNTS) {
    const drains = new Map<PgContender, Drain[]>(contenders.map((c) => [c, []]));
    for (let r = 0; r < rounds; r++) {
      for (const contender of r % 2 === 0 ? contenders : [...contenders].reverse()) {
        const of = rounds === 1 ? "" : ` (round ${r + 1} of ${rounds})`;
        opts.log?.(`${contender.name}, ${workers} worker(s), ${opts.jobs} jobs${of}`);
        drains.get(contender)?.push(await measure(contender, opts.adminUrl, opts.jobs, workers));
      }
    }
    const ref = drains.get(reference) ?? [];
    const ratioTo = (own: Drain[], to: Drain[]) =>
      round(median(own.map((d, i) => d.jobs_per_s / (to[i]?.jobs_per_s ?? Number.NaN))), 2);
    const productOf = (c: PgContender) => c.product ?? c.name;
    for (const contender of contenders) {
      const own = drains.get(contender) ?? [];
      const peer =
        contender.pool === undefined || contender.pool === reference.pool
          ? undefined
          : contenders.find(
              (c) => c !== contender && productOf(c) === productOf(reference) && c.pool === contender.pool,
            );
      rows.push({
        contender: contender.name,
        cycle: contender.cycle,
        workers,
        jobs: opts.jobs,
        rounds,
        seconds: round(median(own.map((d) => d.seconds)), 3),
        jobs_per_s: round(median(own.map((d) => d.jobs_per_s))),
        round_jobs_per_s: own.map((d) => d.jobs_per_s),
        vs_reference: ratioTo(own, ref),
        ...(peer ? { vs_same_pool: { contender: peer.name, ratio: ratioTo(own, drains.get(peer) ?? []) } } : {}),
        ...(contender.pool === undefined ? {} : { pool: contender.pool }),
        completed: Math.min(...own.map((d) => d.completed)),
        duplicates: Math.max(...own.map((d) => d.duplicates)),
      });
    }
  }
  return { jobs: opts.jobs, reference: reference.name, rows };
}

/** One drain of one contender, checked. */
interface Drain {
  seconds: number;
  jobs_per_s: number;
  completed: number;
  duplicates: number;
}

async function measure(contender: PgContender, adminUrl: string, n: number, workers: number): Promise<Drain> {
  const label = `${contender.name} at ${workers} worker(s)`;
  const database = await freshDatabase(adminUrl, "kanban_bench");
  try {
    const session = await contender.setup(database.url);
    try {
      await session.enqueue(n);
      const drain = await session.prepare(workers);
      const t0 = performance.now();
      const { ids, startedAt } = await withDeadline(drain(), 30_000 + n * 20, `${label}: the drain of ${n} jobs`);
      const seconds = (performance.now() - Math.max(t0, startedAt ?? t0)) / 1000;
      const verdict = await session.verify(n);
      const duplicates = ids.length - new Set(ids).size;
      if (verdict.completed !== n || verdict.pending !== 0 || verdict.redelivered !== 0 || duplicates !== 0) {
        throw new Error(
          `${label}: ${verdict.completed} of ${n} jobs completed exactly once (${verdict.pending} pending, ${verdict.redelivered} redelivered, ${duplicates} completed twice by the workers, ${ids.length} completions seen)`,
        );
      }
      return { seconds, jobs_per_s: round(n / seconds), completed: verdict.completed, duplicates };
    } finally {
      await session.teardown();
    }
  } finally {
    await database.drop();
  }
}

export type PgQueuesOnServer = PgQueuesResult & { server: { source: string; version: string } };

/**
 * The bench table's rows: every contender but the reference, beside the reference at the same worker
 * count (the reference's own figure is the third column of each); a row on another pool size than the
 * reference's also gives its ratio to the reference's product on that pool.
 */
export function pgQueueMarkdownRows(r: PgQueuesOnServer): string[] {
  const lines: string[] = [];
  for (const row of r.rows) {
    if (row.contender === r.reference) continue;
    const ref = r.rows.find((x) => x.contender === r.reference && x.workers === row.workers);
    const workers = `${row.workers} worker${row.workers === 1 ? "" : "s"}`;
    const rounds = row.rounds === 1 ? "" : `, median of ${row.rounds} rounds`;
    const samePool = row.vs_same_pool ? `; ${row.vs_same_pool.ratio} against ${row.vs_same_pool.contender}` : "";
    lines.push(
      `| PostgreSQL ${r.server.version}: ${row.contender} fetch+complete of ${row.jobs} jobs, ${workers}${rounds} | ${row.jobs_per_s} jobs/s | ${ref ? `${ref.jobs_per_s} jobs/s ${r.reference}` : "—"} | ${ref ? `${row.vs_reference}${samePool}` : "—"} |`,
    );
  }
  return lines;
}

function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish in ${ms} ms (jobs lost?)`)), ms);
  });
  // Past the deadline the drain may still fail later, on connections teardown closed: that is not news.
  work.catch(() => {});
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

/**
 * The scenario as `npm run bench` runs it: one server for every contender (`--pg-url`, else
 * `KANBAN_TEST_DATABASE_URL`, else an embedded PostgreSQL started here and stopped after).
 */
export async function benchPgQueuesOnServer(opts: {
  quick: boolean;
  pgUrl?: string;
  jobs?: number;
  /** Default: 1 when quick, else 5. */
  rounds?: number;
  log?: (line: string) => void;
}): Promise<PgQueuesOnServer> {
  const server = await benchPgServer(opts.pgUrl);
  try {
    const result = await benchPgQueues({
      adminUrl: server.adminUrl,
      jobs: opts.jobs ?? (opts.quick ? 500 : 5_000),
      rounds: opts.rounds ?? (opts.quick ? 1 : 5),
      log: opts.log,
    });
    return { server: { source: server.source, version: server.version }, ...result };
  } finally {
    await server.stop();
  }
}
