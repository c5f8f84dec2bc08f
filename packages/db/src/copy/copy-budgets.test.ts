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
 * `kanban db copy` carries budgets (`kanban_budgets`, issue 21) SQLite -> PostgreSQL -> SQLite,
 * counted and hashed like every other table: the operator's '' tenant stays '' (never NULL), an
 * allowance keeps its period, and the unique scope survives on PostgreSQL.
 */
const tempDir = useTempDirs("kanban-copy-budgets-");
const quiet = { warn: () => {} };

let database: TestPgDatabase;
beforeAll(async () => {
  database = await createTestPgDatabase("kanban_copy_budgets");
});
afterAll(async () => {
  await database?.drop();
});

function boardUrl(slug: string): string {
  const u = new URL(database.url);
  u.searchParams.set("board", slug);
  return u.toString();
}

describe("kanban db copy and budgets", () => {
  it("round-trips kanban_budgets with its ids, tenants, allowances and warned periods", async () => {
    const dir = tempDir();
    const source = copyFixture("hermes-v3-2026-07-29", dir);
    openDatabase({ path: source, ...quiet }).close();
    const raw = new Database(source);
    raw.exec(`
      INSERT INTO kanban_budgets (id, scope, scope_key, tenant, limit_micro_usd, warn_percent, allowance_micro_usd, allowance_period, warned_period, updated_at)
        VALUES (3, 'board', '*', '', 5000000, 80, 0, NULL, NULL, 1750000000),
               (5, 'profile', 'coder', 'acme', 2500000, 90, 1000000, 20254, 20254, 1750000060),
               (8, 'card', 't_3ffd9a8a', '', 900000000000, 50, 0, NULL, 0, 1750000120);
    `);
    raw.close();
    const toPg = await copyBoard({ from: source, to: boardUrl("budgets"), location: { home: dir }, ...quiet });
    expect(toPg.verified).toBe(true);
    expect(toPg.tables.find((t) => t.table === "kanban_budgets")?.rows).toBe(3);

    const back = path.join(dir, "budgets-back.db");
    const fromPg = await copyBoard({ from: boardUrl("budgets"), to: back, location: { home: dir }, ...quiet });
    expect(fromPg.verified).toBe(true);
    expect(fromPg.tables.map((t) => [t.table, t.rows, t.sha256])).toEqual(
      toPg.tables.map((t) => [t.table, t.rows, t.sha256]),
    );
    expect(boardRows(back)).toEqual(boardRows(source));

    // The identity moved past the copied ids, and the operator's board budget is still unique.
    const pg = await openPostgres(database.url, { poolSize: 1 });
    try {
      const table = `${boardSchemaName("budgets")}.kanban_budgets`;
      const next = await pg.pool.query(
        `INSERT INTO ${table} (scope, scope_key, limit_micro_usd, updated_at) VALUES ('tenant', 'acme', 1, 1) RETURNING id, tenant`,
      );
      expect({ id: Number(next.rows[0]?.id), tenant: next.rows[0]?.tenant }).toEqual({ id: 9, tenant: "" });
      await expect(
        pg.pool.query(
          `INSERT INTO ${table} (scope, scope_key, limit_micro_usd, updated_at) VALUES ('board', '*', 1, 1)`,
        ),
      ).rejects.toThrow(/unique/i);
    } finally {
      await pg.close();
    }
  });
});
