import { boardSchemaName, dropBoardSchema, type KanbanPostgres, migrateBoardSchema, openPostgres } from "@kanban/db";
import { createTestPgDatabase, type TestPgDatabase } from "@kanban/db/testing-pg";
import { listPgBoards } from "@kanban/kernel";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BoardPorts, PgBoardSet } from "./board-set.ts";

/**
 * Which boards a PostgreSQL database holds (the kernel's `listPgBoards`, read from the catalog), and
 * how the dispatcher keeps them open (`PgBoardSet`): one Board per slug for the process's life.
 */
let database: TestPgDatabase;
let db: KanbanPostgres;

beforeAll(async () => {
  database = await createTestPgDatabase();
  db = await openPostgres(database.url, { poolSize: 2 });
});

afterAll(async () => {
  await db?.close();
  await database?.drop();
});

describe("listPgBoards", () => {
  it("lists the schemas a board migration made, as slugs; other schemas, even named kanban_…, are not boards", async () => {
    expect(await listPgBoards(db)).toEqual([]);
    const long = `l${"o".repeat(58)}ng`; // 61 characters: its schema name is shortened and hashed
    for (const slug of ["default", "a-b", long]) await migrateBoardSchema(db, slug);
    // Not boards: an empty kanban_ schema, a look-alike whose `_` is another character, a name no
    // slug gives (upper case), each with a `tasks` table of some other application.
    await db.pool.query('CREATE SCHEMA "kanban_empty"');
    for (const schema of ["kanbanXfoo", "kanban_Upper"]) {
      await db.pool.query(`CREATE SCHEMA "${schema}"`);
      await db.pool.query(`CREATE TABLE "${schema}".tasks (id text)`);
      await db.pool.query(`CREATE TABLE "${schema}".__drizzle_migrations (id int)`);
    }
    const slugs = await listPgBoards(db);
    // The long slug reads back as the shortened name, whose schema is the very same one.
    const readBack = boardSchemaName(long).slice("kanban_".length);
    expect(slugs).toEqual(["a-b", "default", readBack].sort());
    expect(boardSchemaName(readBack)).toBe(boardSchemaName(long));
  });
});

describe("PgBoardSet", () => {
  it("keeps one Board per slug across ticks, reopens one whose claim TTL changed, drops one whose schema is gone, and never creates a board by --board", async () => {
    await migrateBoardSchema(db, "kept");
    let ttl = 900;
    const ports = (): BoardPorts => ({ claimTtlSeconds: ttl, warn: () => {} });
    const set = new PgBoardSet(database.url, db, ports);
    try {
      const target = (await set.list()).find((t) => t.slug === "kept");
      expect(target?.dbPath).toMatch(/^postgres:\/\/127\.0\.0\.1:\d+\/kanban_test_[0-9a-f]+#kanban_kept$/);
      expect(target?.dbPath).not.toContain(new URL(database.url).password);
      if (!target) throw new Error("kept not listed");
      const first = await set.open(target);
      expect(first.engine).toBe("postgres");
      // Two opens at once share one pool; the next tick gets the same Board.
      const [a, b] = await Promise.all([set.open(target), set.open(target)]);
      expect(a).toBe(first);
      expect(b).toBe(first);
      await set.list();
      expect(await set.open(target)).toBe(first);
      // A claim TTL edited in config.json: a new Board carries it.
      ttl = 2;
      const second = await set.open(target);
      expect(second).not.toBe(first);
      const task = await second.createTask({ title: "t", assignee: "x" });
      expect((await second.getTask(task.id))?.status).toBe("ready");
      const before = set.openCount;
      // A board whose schema was dropped is closed at the next listing.
      await dropBoardSchema(db, "kept");
      expect((await set.list()).map((t) => t.slug)).not.toContain("kept");
      expect(set.openCount).toBe(before - 1);
      // `--once --board` names an existing board, or the default; a typo is refused, no schema made.
      await expect(set.target("nope")).rejects.toMatchObject({ code: "BOARD_NOT_FOUND" });
      expect(await listPgBoards(db)).not.toContain("nope");
      expect((await set.target("default")).slug).toBe("default");
    } finally {
      await set.close();
    }
  });
});
