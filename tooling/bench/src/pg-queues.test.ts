import { DEFAULT_PG_POOL_SIZE, openPostgres } from "@kanban/db";
import { testPostgresAdminUrl } from "@kanban/db/testing-pg";
import { describe, expect, it } from "vitest";
import { type PgContender, pullContender } from "./pg-contender.ts";
import { benchPgQueues, pgQueueMarkdownRows } from "./pg-queues.ts";

// The PostgreSQL rows of `npm run bench` at a tiny size, on the run's real PostgreSQL: each contender
// (pg-boss, graphile-worker, from npm) drains every job exactly once at 1 and 8 workers, as counted
// in the database, and a contender that loses or repeats a job makes the scenario throw instead of
// reporting a speed. No speed is asserted.

/**
 * A minimal SKIP LOCKED queue in one table, written as a contender would be. `lose` leaves one
 * fetched job uncompleted (a worker that died); `repeat` reports one job completed twice.
 */
function tableQueue(fault: "none" | "lose" | "repeat"): PgContender {
  return pullContender({
    name: `table queue (${fault})`,
    cycle: "UPDATE … FOR UPDATE SKIP LOCKED, then UPDATE to done",
    async setup(url) {
      const db = await openPostgres(url, { poolSize: 8, applicationName: "bench-test" });
      await db.pool.query("CREATE TABLE jobs (id bigint PRIMARY KEY, state text NOT NULL, deliveries int NOT NULL)");
      let faulted = false;
      return {
        async enqueue(n) {
          await db.pool.query("INSERT INTO jobs SELECT g, 'ready', 0 FROM generate_series(1, $1) g", [n]);
        },
        async worker() {
          return async () => {
            const { rows } = await db.pool.query<{ id: number }>(
              `UPDATE jobs SET state = 'running', deliveries = deliveries + 1
                WHERE id = (SELECT id FROM jobs WHERE state = 'ready' ORDER BY id FOR UPDATE SKIP LOCKED LIMIT 1)
                RETURNING id`,
            );
            const id = rows[0]?.id;
            if (id === undefined) return null;
            if (fault === "lose" && !faulted) {
              faulted = true;
              return String(id);
            }
            await db.pool.query("UPDATE jobs SET state = 'done' WHERE id = $1 AND state = 'running'", [id]);
            if (fault === "repeat" && !faulted) {
              faulted = true;
              return `${id}` === "1" ? "2" : "1";
            }
            return String(id);
          };
        },
        async verify() {
          const { rows } = await db.pool.query<{ completed: number; pending: number; redelivered: number }>(
            `SELECT count(*) FILTER (WHERE state = 'done' AND deliveries = 1) AS completed,
                    count(*) FILTER (WHERE state <> 'done') AS pending,
                    count(*) FILTER (WHERE deliveries > 1) AS redelivered FROM jobs`,
          );
          return rows[0] ?? { completed: 0, pending: 0, redelivered: 0 };
        },
        teardown: () => db.close(),
      };
    },
  });
}

describe("pg-queues: job queues on PostgreSQL, fetch+complete", () => {
  it("pg-boss (on its pool and ours), graphile-worker and our kernel each complete every job exactly once at 1 and 8 workers", async () => {
    const r = await benchPgQueues({ adminUrl: testPostgresAdminUrl(), jobs: 50 });
    expect(r.reference).toMatch(/^pg-boss \d+\.\d+\.\d+$/);
    expect(r.rows.map((row) => [row.contender.split(" ")[0], row.workers, row.pool])).toEqual([
      ["pg-boss", 1, 10],
      ["pg-boss", 1, DEFAULT_PG_POOL_SIZE],
      ["graphile-worker", 1, 10],
      ["kanban", 1, DEFAULT_PG_POOL_SIZE],
      ["pg-boss", 8, 10],
      ["pg-boss", 8, DEFAULT_PG_POOL_SIZE],
      ["graphile-worker", 8, 10],
      ["kanban", 8, DEFAULT_PG_POOL_SIZE],
    ]);
    expect(r.rows[1]?.contender).toBe(`${r.reference}, pool of ${DEFAULT_PG_POOL_SIZE}`);
    // Ours is paired with pg-boss on our pool size; the others run on the reference's pool or are it.
    expect(r.rows.map((row) => row.vs_same_pool?.contender)).toEqual([
      undefined,
      undefined,
      undefined,
      r.rows[1]?.contender,
      undefined,
      undefined,
      undefined,
      r.rows[5]?.contender,
    ]);
    for (const row of r.rows) {
      expect(row).toMatchObject({ jobs: 50, completed: 50, duplicates: 0, rounds: 1 });
      expect(row.jobs_per_s).toBeGreaterThan(0);
      expect(row.seconds).toBeGreaterThan(0);
      expect(row.round_jobs_per_s).toEqual([row.jobs_per_s]);
    }
    // The bench table: graphile-worker and ours beside pg-boss (the reference) at each worker count.
    const md = pgQueueMarkdownRows({ ...r, server: { source: "test", version: "18.4" } });
    expect(md).toHaveLength(6);
    const [, , , , boss8, , graphile8, ours8] = r.rows;
    expect(md[4]).toBe(
      `| PostgreSQL 18.4: ${graphile8?.contender} fetch+complete of 50 jobs, 8 workers | ${graphile8?.jobs_per_s} jobs/s | ${boss8?.jobs_per_s} jobs/s ${r.reference} | ${Math.round(((graphile8?.jobs_per_s ?? 0) / (boss8?.jobs_per_s ?? 1)) * 100) / 100} |`,
    );
    expect(md[0]).toContain(", 1 worker | ");
    expect(md[5]).toMatch(
      new RegExp(
        `\\| ${ours8?.vs_reference}; ${ours8?.vs_same_pool?.ratio} against pg-boss [0-9.]+, pool of ${DEFAULT_PG_POOL_SIZE} \\|$`,
      ),
    );
  });

  it("rounds: every contender drains once per round, in reverse order every other round; medians and the median ratio reported", async () => {
    const order: string[] = [];
    const traced = (fault: "none" | "lose" | "repeat", name: string): PgContender => {
      const inner = tableQueue(fault);
      return {
        ...inner,
        name,
        async setup(url) {
          order.push(name);
          return await inner.setup(url);
        },
      };
    };
    const r = await benchPgQueues({
      adminUrl: testPostgresAdminUrl(),
      jobs: 30,
      workers: [2],
      rounds: 3,
      contenders: [traced("none", "ref"), traced("none", "other")],
    });
    expect(order).toEqual(["ref", "other", "other", "ref", "ref", "other"]);
    const [ref, other] = r.rows;
    for (const row of r.rows) {
      expect(row).toMatchObject({ rounds: 3, jobs: 30, completed: 30, duplicates: 0 });
      expect(row.round_jobs_per_s).toHaveLength(3);
      const sorted = [...row.round_jobs_per_s].sort((a, b) => a - b);
      expect(row.jobs_per_s).toBe(sorted[1]);
    }
    expect(ref?.vs_reference).toBe(1);
    const ratios = (other?.round_jobs_per_s ?? [])
      .map((x, i) => x / (ref?.round_jobs_per_s[i] ?? 1))
      .sort((a, b) => a - b);
    expect(other?.vs_reference).toBe(Math.round((ratios[1] ?? 0) * 100) / 100);
    const md = pgQueueMarkdownRows({ ...r, server: { source: "test", version: "18.4" } });
    expect(md).toEqual([
      `| PostgreSQL 18.4: other fetch+complete of 30 jobs, 2 workers, median of 3 rounds | ${other?.jobs_per_s} jobs/s | ${ref?.jobs_per_s} jobs/s ref | ${other?.vs_reference} |`,
    ]);
  });

  it("a contender on another pool than the reference's is also divided by the reference's product on that pool", async () => {
    const as = (name: string, product: string, pool: number): PgContender => ({
      ...tableQueue("none"),
      name,
      product,
      pool,
    });
    const r = await benchPgQueues({
      adminUrl: testPostgresAdminUrl(),
      jobs: 30,
      workers: [2],
      rounds: 3,
      contenders: [as("q", "q", 10), as("q, pool of 4", "q", 4), as("ours", "ours", 4), as("theirs", "theirs", 10)],
    });
    const [, q4, ours, theirs] = r.rows;
    const medianRatio = (a: number[], b: number[]) =>
      Math.round(([...a.map((x, i) => x / (b[i] ?? 1))].sort((x, y) => x - y)[1] ?? 0) * 100) / 100;
    expect(ours?.vs_same_pool).toEqual({
      contender: "q, pool of 4",
      ratio: medianRatio(ours?.round_jobs_per_s ?? [], q4?.round_jobs_per_s ?? []),
    });
    // The reference's own product on another pool, and a contender on the reference's pool: no pair.
    expect(q4?.vs_same_pool).toBeUndefined();
    expect(theirs?.vs_same_pool).toBeUndefined();
    const md = pgQueueMarkdownRows({ ...r, server: { source: "test", version: "18.4" } });
    expect(md[1]).toMatch(
      new RegExp(`\\| ${ours?.vs_reference}; ${ours?.vs_same_pool?.ratio} against q, pool of 4 \\|$`),
    );
    expect(md[2]).toMatch(new RegExp(`\\| ${theirs?.vs_reference} \\|$`));
  });

  it("a contender written as one pullContender runs beside them; one that loses a job or completes one twice fails the run", async () => {
    const adminUrl = testPostgresAdminUrl();
    const sound = await benchPgQueues({ adminUrl, jobs: 50, contenders: [tableQueue("none")] });
    expect(sound.rows.map((row) => [row.workers, row.completed, row.duplicates])).toEqual([
      [1, 50, 0],
      [8, 50, 0],
    ]);
    await expect(benchPgQueues({ adminUrl, jobs: 50, workers: [8], contenders: [tableQueue("lose")] })).rejects.toThrow(
      "table queue (lose) at 8 worker(s): 49 of 50 jobs completed exactly once (1 pending",
    );
    await expect(
      benchPgQueues({ adminUrl, jobs: 50, workers: [1], contenders: [tableQueue("repeat")] }),
    ).rejects.toThrow("1 completed twice by the workers");
  });
});
