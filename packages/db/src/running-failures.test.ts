import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { forgetInitialised, openDatabase } from "./connection.ts";
import { KanbanDbCorruptError, KanbanDbError } from "./errors.ts";
import { makeTempDir } from "./testing.ts";
import { writeTxn } from "./write-txn.ts";

/**
 * Issue 15 (db part): failures of a board that appear after it was opened are typed errors, and
 * corruption stops all writing to the file, including SQLite's checkpoint when the connection closes.
 */
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const DELETE_MODE_FIXTURE = path.resolve(repoRoot, "..", "shared", "fixtures", "hermes-v3-2026-07-29.db");

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});
function tempDir(): string {
  const t = makeTempDir();
  cleanups.push(t.cleanup);
  return t.dir;
}
const quiet = { warn: () => {} };

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error("expected a throw");
}

/** A read-only view of `src` at `dir/ro` (a bind mount remounted read-only: root ignores chmod). */
function readOnlyView(src: string): string {
  const ro = path.join(path.dirname(src), "ro");
  fs.mkdirSync(ro);
  execFileSync("mount", ["--bind", src, ro]);
  cleanups.push(() => execFileSync("umount", ["-l", ro]));
  execFileSync("mount", ["-o", "remount,ro,bind", ro]);
  return ro;
}

describe("corruption found by a running connection", () => {
  it("stops writing, quarantines a copy, answers DB_CORRUPT, and closes without checkpointing into the file", () => {
    const file = path.join(tempDir(), "kanban.db");
    const seed = openDatabase({ path: file, ...quiet });
    const insert = seed.sqlite.prepare("INSERT INTO tasks (id, title, status, created_at) VALUES (?, ?, 'todo', 1)");
    writeTxn(seed.sqlite, () => {
      for (let i = 0; i < 400; i++) insert.run(`t_${i.toString(16).padStart(8, "0")}`, "x".repeat(200));
    });
    seed.sqlite.pragma("wal_checkpoint(TRUNCATE)");
    const { rootpage } = seed.sqlite.prepare("SELECT rootpage FROM sqlite_master WHERE name = 'tasks'").get() as {
      rootpage: number;
    };
    const pageSize = Number(seed.sqlite.pragma("page_size", { simple: true }));
    seed.close();

    // The live connection (already past its open checks) commits a write that stays in the WAL...
    const db = openDatabase({ path: file, ...quiet });
    writeTxn(db.sqlite, () =>
      db.sqlite
        .prepare(
          "INSERT INTO task_comments (task_id, author, body, created_at) VALUES ('t_1', 'me', 'kept in the WAL', 2)",
        )
        .run(),
    );
    expect(fs.statSync(`${file}-wal`).size).toBeGreaterThan(0);
    // ...then a page of the file goes bad under it (the root page of `tasks`, overwritten in place).
    const fd = fs.openSync(file, "r+");
    fs.writeSync(fd, Buffer.alloc(pageSize, 0xa5), 0, pageSize, (rootpage - 1) * pageSize);
    fs.closeSync(fd);
    const corruptBytes = fs.readFileSync(file);
    const walBytes = fs.readFileSync(`${file}-wal`);

    const err = caught(() => writeTxn(db.sqlite, () => db.sqlite.prepare("UPDATE tasks SET title = 'y'").run()));
    expect(err).toBeInstanceOf(KanbanDbCorruptError);
    const corrupt = err as KanbanDbCorruptError;
    expect(corrupt.code).toBe("DB_CORRUPT");
    expect(corrupt.message).toContain(`Kanban DB at ${file} became corrupt while open`);
    expect(corrupt.message).toContain("Writes stopped");
    expect(corrupt.backupPath).toMatch(/kanban\.db\.corrupt\.[0-9a-f]{16}\.bak$/);
    expect(fs.readFileSync(corrupt.backupPath as string).equals(corruptBytes)).toBe(true);
    expect(fs.readFileSync(`${corrupt.backupPath}-wal`).equals(walBytes)).toBe(true);

    // Every later write on this connection is refused before it reaches the file, even a raw one.
    const insertComment = () =>
      db.sqlite
        .prepare("INSERT INTO task_comments (task_id, author, body, created_at) VALUES ('t_1', 'me', 'no', 3)")
        .run();
    expect(caught(() => writeTxn(db.sqlite, insertComment))).toBe(corrupt);
    expect(caught(insertComment)).toMatchObject({ code: "SQLITE_READONLY" });

    // Closing would normally checkpoint the WAL into the (corrupt) file: it must not.
    db.close();
    expect(fs.readFileSync(file).equals(corruptBytes)).toBe(true);
    expect(fs.readFileSync(`${file}-wal`).equals(walBytes)).toBe(true);
    forgetInitialised(file);
  });
});

describe("storage that refuses writes", () => {
  it("a DELETE-mode board in a read-only directory: open refuses to upgrade with DB_UNAVAILABLE, never a bare SqliteError", () => {
    const dir = tempDir();
    const src = path.join(dir, "board");
    fs.mkdirSync(src);
    fs.copyFileSync(DELETE_MODE_FIXTURE, path.join(src, "kanban.db"));
    const ro = readOnlyView(src);
    const file = path.join(ro, "kanban.db");
    forgetInitialised(file);
    const err = caught(() => openDatabase({ path: file, ...quiet }));
    expect(err).toBeInstanceOf(KanbanDbError);
    expect(err).toMatchObject({ code: "DB_UNAVAILABLE" });
  });

  it("a writable board file in a read-only directory (DELETE mode: no room for its journal): writes are DB_UNAVAILABLE, reads work", () => {
    const dir = tempDir();
    const src = path.join(dir, "board");
    fs.mkdirSync(src);
    const original = path.join(src, "kanban.db");
    fs.copyFileSync(DELETE_MODE_FIXTURE, original);
    forgetInitialised(original);
    openDatabase({ path: original, ...quiet }).close(); // upgraded while the directory was writable
    const ro = readOnlyView(src);
    const file = path.join(ro, "kanban.db");
    // The file itself stays writable (as with `chmod 555` on the directory only): bind it over its read-only view.
    execFileSync("mount", ["--bind", original, file]);
    cleanups.push(() => execFileSync("umount", ["-l", file]));
    expect(() => fs.writeFileSync(path.join(ro, "probe"), "")).toThrow(/EROFS/);

    forgetInitialised(file);
    const db = openDatabase({ path: file, ...quiet });
    expect(db.journalMode).toBe("delete");
    const before = db.sqlite.prepare("SELECT count(*) AS n FROM task_comments").get();
    const err = caught(() =>
      writeTxn(db.sqlite, () =>
        db.sqlite
          .prepare("INSERT INTO task_comments (task_id, author, body, created_at) VALUES ('t_1', 'me', 'x', 1)")
          .run(),
      ),
    );
    expect(err).toBeInstanceOf(KanbanDbError);
    expect((err as KanbanDbError).code).toBe("DB_UNAVAILABLE");
    expect((err as KanbanDbError).message).toContain("cannot use the kanban database");
    expect(db.sqlite.prepare("SELECT count(*) AS n FROM task_comments").get()).toEqual(before);
    db.close();
    forgetInitialised(file);
  });
});
