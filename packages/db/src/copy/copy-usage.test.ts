import path from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "../connection.ts";
import { boardSchemaName } from "../pg-board-schema.ts";
import { openPostgres } from "../pg-connection.ts";
import { boardRows, copyFixture } from "../test/board-rows.ts";
import { useTempDirs } from "../test/temp-dirs.ts";
import { createTestPgDatabase, type TestPgDatabase } from "../testing-pg.ts";
import { copyBoard } from "./copy-board.ts";

/**
 * `kanban db copy` carries usage reports (`kanban_usage`, issue 21) SQLite -> PostgreSQL -> SQLite,
 * counted and hashed like every other table: micro-dollar sums come back to the unit, and an
 * unknown cost stays NULL (never 0).
 */
const tempDir = useTempDirs("kanban-copy-usage-");
const quiet = { warn: () => {} };

let database: TestPgDatabase;
beforeAll(async () => {
  database = await createTestPgDatabase("kanban_copy_usage");
});
afterAll(async () => {
  await database?.drop();
});

function boardUrl(slug: string): string {
  const u = new URL(database.url);
  u.searchParams.set("board", slug);
  return u.toString();
}

describe("kanban db copy and usage reports", () => {
  it("round-trips kanban_usage with its ids, NULL costs and large sums", async () => {
    const dir = tempDir();
    const source = copyFixture("hermes-v3-2026-07-29", dir);
    openDatabase({ path: source, ...quiet }).close();
    const raw = new Database(source);
    raw.exec(`
      INSERT INTO kanban_usage (id, task_id, run_id, profile, model, tokens_in, tokens_out, cache_read, cache_write, cost_micro_usd, cost_source, via, tenant, reported_at)
        VALUES (7, 't_3ffd9a8a', 3, 'coder', 'sonnet', 1234567, 89012, 0, 0, 5038881, 'price_table', 'heartbeat', NULL, 1750000000),
               (9, 't_3ffd9a8a', 3, 'coder', NULL, 0, 0, 0, 0, 900000000000, 'worker', 'report', 'acme', 1750000060),
               (12, 't_3ffd9a8a', NULL, NULL, 'mystery', 5, 0, 0, 0, NULL, NULL, 'complete', NULL, 1750000120);
    `);
    raw.close();
    const toPg = await copyBoard({ from: source, to: boardUrl("usage"), location: { home: dir }, ...quiet });
    expect(toPg.verified).toBe(true);
    expect(toPg.tables.find((t) => t.table === "kanban_usage")?.rows).toBe(3);

    const db = await openPostgres(database.url, { poolSize: 1 });
    try {
      const { rows } = await db.pool.query(
        `SELECT SUM(cost_micro_usd)::text AS cost, COUNT(*) FILTER (WHERE cost_micro_usd IS NULL)::int AS unpriced
           FROM ${boardSchemaName("usage")}.kanban_usage`,
      );
      expect(rows).toEqual([{ cost: "900005038881", unpriced: 1 }]);
    } finally {
      await db.close();
    }

    const back = path.join(dir, "usage-back.db");
    const fromPg = await copyBoard({ from: boardUrl("usage"), to: back, location: { home: dir }, ...quiet });
    expect(fromPg.verified).toBe(true);
    expect(fromPg.tables.map((t) => [t.table, t.rows, t.sha256])).toEqual(
      toPg.tables.map((t) => [t.table, t.rows, t.sha256]),
    );
    expect(boardRows(back)).toEqual(boardRows(source));

    // The identity moved past the copied ids: the next report on PostgreSQL gets a fresh one.
    const pg = await openPostgres(database.url, { poolSize: 1 });
    try {
      const next = await pg.pool.query(
        `INSERT INTO ${boardSchemaName("usage")}.kanban_usage (task_id, via, reported_at) VALUES ('t_x', 'report', 1) RETURNING id`,
      );
      expect(Number(next.rows[0]?.id)).toBe(13);
    } finally {
      await pg.close();
    }
  });
});
