import path from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "../connection.ts";
import { boardSchemaName } from "../pg-board-schema.ts";
import { openPostgres } from "../pg-connection.ts";
import { useTempDirs } from "../test/temp-dirs.ts";
import { createTestPgDatabase, type TestPgDatabase } from "../testing-pg.ts";
import { copyBoard } from "./copy-board.ts";

/**
 * The kernel orders tasks of one second by `rowid` (`ORDER BY created_at, rowid`: the ready lane,
 * idempotency look-ups, list pages). A copy must carry each task's rowid, or the target numbers its
 * rows in the copy's primary-key order (task ids, random) and reorders them.
 */
const tempDir = useTempDirs("kanban-copy-rowid-");
const quiet = { warn: () => {} };

/** Every task is created in this one second (a fixed clock). */
const SECOND = 1_767_225_600;
/** In creation order. */
const TITLES = ["first", "second", "third", "fourth", "fifth"];
/** The order the kernel sees among tasks of one second. */
const KERNEL_ORDER = "ORDER BY created_at, rowid";

let database: TestPgDatabase;

beforeAll(async () => {
  database = await createTestPgDatabase("kanban_copy_rowid");
});

afterAll(async () => {
  await database?.drop();
});

function boardUrl(slug: string): string {
  const u = new URL(database.url);
  u.searchParams.set("board", slug);
  return u.toString();
}

async function pgQuery<T>(text: string, values: unknown[] = []): Promise<T[]> {
  const db = await openPostgres(database.url, { poolSize: 1 });
  try {
    return (await db.pool.query(text, values)).rows as T[];
  } finally {
    await db.close();
  }
}

/**
 * A new SQLite board whose tasks are created one by one in TITLES order, all at SECOND, with ids
 * from an id source counting down: id order is the reverse of creation order. One more task is
 * created and deleted in the middle, so the rowids have a gap (the copy carries values, not ranks).
 */
function boardCreatedInOneSecond(dir: string): string {
  const file = path.join(dir, "source.db");
  openDatabase({ path: file, ...quiet }).close();
  const now = () => SECOND;
  let serial = 100;
  const nextId = () => `t_${String(serial--).padStart(8, "0")}`;
  const sqlite = new Database(file);
  const create = sqlite.prepare("INSERT INTO tasks (id, title, status, created_at) VALUES (?, ?, 'ready', ?)");
  for (const title of TITLES) {
    create.run(nextId(), title, now());
    if (title === "second") {
      const gone = nextId();
      create.run(gone, "deleted", now());
      sqlite.prepare("DELETE FROM tasks WHERE id = ?").run(gone);
    }
  }
  sqlite.close();
  return file;
}

function sqliteTasks(file: string): { id: string; title: string; rowid: bigint }[] {
  const sqlite = new Database(file, { readonly: true });
  try {
    return sqlite.prepare(`SELECT id, title, rowid FROM tasks ${KERNEL_ORDER}`).safeIntegers(true).all() as {
      id: string;
      title: string;
      rowid: bigint;
    }[];
  } finally {
    sqlite.close();
  }
}

async function pgTasks(slug: string): Promise<{ id: string; title: string; rowid: bigint }[]> {
  const rows = await pgQuery<{ id: string; title: string; rowid: string }>(
    `SELECT id, title, rowid::text AS rowid FROM "${boardSchemaName(slug)}".tasks ${KERNEL_ORDER}`,
  );
  return rows.map((r) => ({ id: r.id, title: r.title, rowid: BigInt(r.rowid) }));
}

describe("kanban db copy keeps the order of tasks created in the same second", () => {
  it("SQLite -> PostgreSQL -> SQLite: (created_at, rowid) gives the creation order on every side, with the same rowids", async () => {
    const dir = tempDir();
    const source = boardCreatedInOneSecond(dir);
    const original = sqliteTasks(source);
    expect(original.map((t) => t.title)).toEqual(TITLES);
    // The premise: id order is the reverse of creation order.
    expect(original.map((t) => t.id)).toEqual(
      original
        .map((t) => t.id)
        .sort()
        .reverse(),
    );

    const toPg = await copyBoard({ from: source, to: boardUrl("same-second"), location: { home: dir }, ...quiet });
    expect(toPg.verified).toBe(true);
    expect(await pgTasks("same-second")).toEqual(original);

    const back = path.join(dir, "back.db");
    const fromPg = await copyBoard({ from: boardUrl("same-second"), to: back, location: { home: dir }, ...quiet });
    expect(fromPg.verified).toBe(true);
    expect(sqliteTasks(back)).toEqual(original);
    const tasksSha = (r: typeof toPg) => r.tables.find((t) => t.table === "tasks")?.sha256;
    expect(tasksSha(fromPg)).toBe(tasksSha(toPg));
  });

  it("moves PostgreSQL's rowid identity past the copied rowids: a task created after the copy sorts after them", async () => {
    const dir = tempDir();
    const source = boardCreatedInOneSecond(dir);
    const copied = sqliteTasks(source);
    await copyBoard({ from: source, to: boardUrl("after-copy"), location: { home: dir }, ...quiet });

    // Created as the kernel creates a task on PostgreSQL: no rowid given, the identity numbers it.
    const [row] = await pgQuery<{ rowid: string }>(
      `INSERT INTO "${boardSchemaName("after-copy")}".tasks (id, title, status, created_at) VALUES ('t_00000001', 'sixth', 'ready', $1) RETURNING rowid::text AS rowid`,
      [SECOND],
    );
    // All of one second, so the kernel's order is rowid order: the last copied holds the highest.
    expect(BigInt(row?.rowid ?? "0")).toBeGreaterThan(copied.at(-1)?.rowid ?? 0n);
    expect((await pgTasks("after-copy")).map((t) => t.title)).toEqual([...TITLES, "sixth"]);

    // And back on SQLite the new task keeps its place, and SQLite numbers the next one after it.
    const back = path.join(dir, "after.db");
    await copyBoard({ from: boardUrl("after-copy"), to: back, location: { home: dir }, ...quiet });
    const sqlite = new Database(back);
    sqlite
      .prepare("INSERT INTO tasks (id, title, status, created_at) VALUES ('t_00000000', 'seventh', 'ready', ?)")
      .run(SECOND);
    sqlite.close();
    expect(sqliteTasks(back).map((t) => t.title)).toEqual([...TITLES, "sixth", "seventh"]);
  });

  it("PostgreSQL -> PostgreSQL and SQLite -> SQLite keep the rowids too", async () => {
    const dir = tempDir();
    const source = boardCreatedInOneSecond(dir);
    const original = sqliteTasks(source);
    const twin = path.join(dir, "twin.db");
    expect((await copyBoard({ from: source, to: twin, location: { home: dir }, ...quiet })).verified).toBe(true);
    expect(sqliteTasks(twin)).toEqual(original);

    await copyBoard({ from: source, to: boardUrl("pg-one"), location: { home: dir }, ...quiet });
    const onPg = await copyBoard({
      from: boardUrl("pg-one"),
      to: boardUrl("pg-two"),
      location: { home: dir },
      ...quiet,
    });
    expect(onPg.verified).toBe(true);
    expect(await pgTasks("pg-two")).toEqual(original);
    const [row] = await pgQuery<{ rowid: string }>(
      `INSERT INTO "${boardSchemaName("pg-two")}".tasks (id, title, status, created_at) VALUES ('t_00000001', 'sixth', 'ready', $1) RETURNING rowid::text AS rowid`,
      [SECOND],
    );
    expect(BigInt(row?.rowid ?? "0")).toBeGreaterThan(original.at(-1)?.rowid ?? 0n);
  });

  it("verifies the rowids: two tasks swapping places on the target after the commit make tasks differ", async () => {
    const dir = tempDir();
    const source = boardCreatedInOneSecond(dir);
    const [a, b] = sqliteTasks(source);
    const schema = boardSchemaName("swapped");
    const onPg = await copyBoard({
      from: source,
      to: boardUrl("swapped"),
      location: { home: dir },
      ...quiet,
      afterCommit: async () => {
        // Only the order changes: every column of the schema stays as it was. Through a spare
        // value, as idx_tasks_rowid is unique.
        const move = `UPDATE "${schema}".tasks SET rowid = $1::bigint WHERE id = $2`;
        await pgQuery(move, ["-1", a?.id]);
        await pgQuery(move, [String(a?.rowid), b?.id]);
        await pgQuery(move, [String(b?.rowid), a?.id]);
      },
    });
    expect(onPg.verified).toBe(false);
    expect(onPg.mismatches).toEqual([expect.stringMatching(/^tasks: the target has 5 rows \(sha256 [0-9a-f]{16}\)/)]);

    const file = path.join(dir, "swapped.db");
    const onSqlite = await copyBoard({
      from: source,
      to: file,
      location: { home: dir },
      ...quiet,
      afterCommit: () => {
        const sqlite = new Database(file);
        const move = sqlite.prepare("UPDATE tasks SET rowid = ? WHERE id = ?");
        sqlite.transaction(() => {
          move.run(-1, a?.id);
          move.run(a?.rowid, b?.id);
          move.run(b?.rowid, a?.id);
        })();
        sqlite.close();
      },
    });
    expect(onSqlite.verified).toBe(false);
    expect(onSqlite.mismatches).toEqual([expect.stringMatching(/^tasks: /)]);
  });
});
