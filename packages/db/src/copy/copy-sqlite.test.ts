import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import type { BoardLocation } from "../boards.ts";
import { forgetInitialised, openDatabase } from "../connection.ts";
import {
  boardRows,
  copyFixture,
  FLOW_LEDGER_ROWS,
  fixtureWithLedger,
  flowLedgerCounts,
  integrityCheck,
} from "../test/board-rows.ts";
import { useTempDirs } from "../test/temp-dirs.ts";
import { copyBoard } from "./copy-board.ts";
import { isDerivedTable } from "./tables.ts";

/** SQLite → SQLite copies of real Hermes boards (the PostgreSQL directions are in copy-postgres.test.ts). */
const tempDir = useTempDirs("kanban-copy-");

function location(home: string): BoardLocation {
  return { home };
}

function fileHash(file: string): string {
  return createHash("sha256").update(fs.readFileSync(file)).digest("hex");
}

const quiet = { warn: () => {} };

describe("kanban db copy, SQLite to SQLite", () => {
  it("copies every table of a Hermes v3 board row for row, with its counters, into a file that passes integrity_check", async () => {
    const dir = tempDir();
    const source = copyFixture("hermes-v3-2026-07-29", dir);
    // Opening upgrades a Hermes board in place (as every process of ours does); the copy itself only reads.
    openDatabase({ path: source, ...quiet }).close();
    const sourceBytes = fileHash(source);
    const target = path.join(dir, "copy.db");
    const report = await copyBoard({ from: source, to: target, location: location(dir), ...quiet });
    expect(fileHash(source)).toBe(sourceBytes);

    expect(report.verified).toBe(true);
    expect(report.mismatches).toEqual([]);
    const rows = Object.fromEntries(report.tables.map((t) => [t.table, t.rows]));
    // The manifest's counts (the upgrade may add an open run for a running task without one: none here).
    expect(rows).toMatchObject({
      tasks: 39,
      task_links: 12,
      task_runs: 20,
      task_events: 116,
      task_comments: 19,
      task_attachments: 2,
      kanban_notify_subs: 5,
    });
    for (const t of report.tables) {
      expect(t.target).toEqual({ rows: t.rows, sha256: t.sha256 });
      expect(t.sha256).toMatch(/^[0-9a-f]{64}$/);
    }
    expect(boardRows(target)).toEqual(boardRows(source));
    expect(integrityCheck(target)).toEqual(["ok"]);
    // The copy opens with our connection (migrations already current) as any board does.
    forgetInitialised(target);
    openDatabase({ path: target, ...quiet }).close();
  });

  it("leaves behind the legacy columns of an upgraded v1 board and names them", async () => {
    const dir = tempDir();
    const source = copyFixture("hermes-v1-2026-04-30", dir);
    const target = path.join(dir, "copy.db");
    const report = await copyBoard({ from: source, to: target, location: location(dir), ...quiet });
    expect(report.verified).toBe(true);
    expect(report.skippedColumns).toEqual(["tasks.spawn_failures", "tasks.last_spawn_error"]);
    expect(boardRows(target).tables).toEqual(boardRows(source).tables);
  });

  it("refuses a non-empty target in one line and leaves it byte for byte as it was; --replace overwrites it", async () => {
    const dir = tempDir();
    const source = copyFixture("hermes-v3-2026-07-29", dir);
    const target = copyFixture("hermes-v1-2026-04-30", dir);
    const before = fileHash(target);
    await expect(copyBoard({ from: source, to: target, location: location(dir), ...quiet })).rejects.toMatchObject({
      code: "COPY_TARGET_NOT_EMPTY",
      message: expect.stringMatching(/already holds a board \(tasks: 37, .*\); pass --replace to overwrite it$/),
    });
    expect(fileHash(target)).toBe(before);

    const report = await copyBoard({ from: source, to: target, location: location(dir), replace: true, ...quiet });
    expect(report.verified).toBe(true);
    expect(boardRows(target).tables).toEqual(boardRows(source).tables);
  });

  it("leaves the flow ledger behind (derived): not copied nor reported, and emptied on the target, with and without --replace", async () => {
    const dir = tempDir();
    const { source, filled, empty } = fixtureWithLedger("hermes-v3-2026-07-29", dir);
    expect(Object.keys(filled)).toHaveLength(5);
    expect(Object.values(filled)).toEqual([1, 1, 1, 1, 1]);

    // A board whose kernel already wrote a ledger but which holds no board rows: not refused.
    const target = path.join(dir, "ledger.db");
    const fresh = openDatabase({ path: target, ...quiet });
    fresh.sqlite.exec(FLOW_LEDGER_ROWS);
    fresh.close();
    const report = await copyBoard({ from: source, to: target, location: location(dir), ...quiet });
    expect(report.verified).toBe(true);
    expect(report.tables.map((t) => t.table).filter(isDerivedTable)).toEqual([]);
    expect(flowLedgerCounts(target)).toEqual(empty);
    expect(flowLedgerCounts(source)).toEqual(filled);

    // Its kernel rebuilt the ledger since; --replace empties it again.
    const rebuilt = new Database(target);
    rebuilt.exec(FLOW_LEDGER_ROWS);
    rebuilt.close();
    const replaced = await copyBoard({ from: source, to: target, location: location(dir), replace: true, ...quiet });
    expect(replaced.verified).toBe(true);
    expect(flowLedgerCounts(target)).toEqual(empty);
    expect(boardRows(target)).toEqual(boardRows(source));
  });

  it("reports a table whose rows differ on the target after the commit (one line per table, not verified)", async () => {
    const dir = tempDir();
    const source = copyFixture("hermes-v3-2026-07-29", dir);
    const target = path.join(dir, "copy.db");
    const report = await copyBoard({
      from: source,
      to: target,
      location: location(dir),
      ...quiet,
      afterCommit: () => {
        const sqlite = new Database(target);
        sqlite
          .prepare("UPDATE task_comments SET body = body || ' ' WHERE id = (SELECT min(id) FROM task_comments)")
          .run();
        sqlite.close();
      },
    });
    expect(report.verified).toBe(false);
    expect(report.mismatches).toHaveLength(1);
    expect(report.mismatches[0]).toMatch(
      /^task_comments: the target has 19 rows \(sha256 [0-9a-f]{16}\), the source 19/,
    );
    expect(report.tables.filter((t) => !t.ok).map((t) => t.table)).toEqual(["task_comments"]);
  });

  it("rolls back, leaving the target as it was, when the rows written do not read back identical before the commit", async () => {
    const dir = tempDir();
    const source = copyFixture("hermes-v3-2026-07-29", dir);
    const target = path.join(dir, "trigger.db");
    openDatabase({ path: target, ...quiet }).close();
    // An empty board whose engine changes what it is given: a trigger rewrites every comment.
    const raw = new Database(target);
    raw.exec(
      "CREATE TRIGGER shout AFTER INSERT ON task_comments BEGIN UPDATE task_comments SET body = upper(body) WHERE id = NEW.id; END",
    );
    raw.close();
    const err = await copyBoard({ from: source, to: target, location: location(dir), ...quiet }).then(
      () => null,
      (e: Error & { code?: string }) => e,
    );
    expect(err?.code).toBe("COPY_VERIFY_FAILED");
    expect(err?.message).toMatch(
      /did not read back identical \(task_comments: task_comments: the target has 19 rows .*\); rolled back, the target is as it was$/,
    );
    const counts = new Database(target, { readonly: true });
    expect(
      counts.prepare("SELECT (SELECT count(*) FROM tasks) + (SELECT count(*) FROM task_comments) AS n").get(),
    ).toEqual({ n: 0 });
    counts.close();
  });

  it("carries an AUTOINCREMENT counter that is past the highest id, so deleted ids are never handed out again", async () => {
    const dir = tempDir();
    const source = copyFixture("hermes-v3-2026-07-29", dir);
    openDatabase({ path: source, ...quiet }).close();
    const raw = new Database(source);
    const top = (raw.prepare("SELECT max(id) AS id FROM task_events").get() as { id: number }).id;
    raw.prepare("DELETE FROM task_events WHERE id = ?").run(top);
    raw.close();
    const target = path.join(dir, "copy.db");
    const report = await copyBoard({ from: source, to: target, location: location(dir), ...quiet });
    expect(report.tables.find((t) => t.table === "task_events")?.sequence).toEqual({
      source: String(top),
      target: String(top),
    });
    expect(boardRows(target).sequences.task_events).toBe(String(top));
  });

  it("copies a board named by its slug under KANBAN_HOME to a new slug, which becomes a board", async () => {
    const home = tempDir();
    fs.copyFileSync(copyFixture("hermes-v3-2026-07-29", tempDir()), path.join(home, "kanban.db"));
    const report = await copyBoard({ from: "default", to: "archive-2026", location: location(home), ...quiet });
    expect(report.verified).toBe(true);
    const copied = path.join(home, "kanban", "boards", "archive-2026", "kanban.db");
    expect(boardRows(copied).tables).toEqual(boardRows(path.join(home, "kanban.db")).tables);
    expect(fs.existsSync(path.join(home, "kanban", "boards", "archive-2026", "board.json"))).toBe(true);
  });

  it("refuses data the schema does not know, writes nothing, and removes the target it had created", async () => {
    const dir = tempDir();
    const source = copyFixture("hermes-v3-2026-07-29", dir);
    openDatabase({ path: source, ...quiet }).close();
    const raw = new Database(source);
    raw.exec("ALTER TABLE tasks ADD COLUMN future_field TEXT; UPDATE tasks SET future_field = 'x' WHERE rowid = 1");
    raw.close();
    const target = path.join(dir, "copy.db");
    await expect(copyBoard({ from: source, to: target, location: location(dir), ...quiet })).rejects.toMatchObject({
      code: "COPY_UNSUPPORTED",
      message: expect.stringContaining("column tasks.future_field (1 values)"),
    });
    expect(fs.readdirSync(dir).filter((f) => f.startsWith("copy.db"))).toEqual([]);
  });

  it("answers bad endpoints with one typed line", async () => {
    const dir = tempDir();
    const notDb = path.join(dir, "notes.db");
    fs.writeFileSync(notDb, "just some text, not SQLite\n");
    const loc = location(dir);
    const cases: [string, string, string][] = [
      [notDb, path.join(dir, "x.db"), "DB_NOT_A_DATABASE"],
      [path.join(dir, "missing.db"), path.join(dir, "x.db"), "DB_PATH_INVALID"],
      ["no-such-board", path.join(dir, "x.db"), "BOARD_NOT_FOUND"],
      ["Bad Slug!", path.join(dir, "x.db"), "BOARD_INVALID"],
      ["mysql://u:secret@h/db", path.join(dir, "x.db"), "COPY_ENDPOINT_INVALID"],
      [notDb, notDb, "COPY_SAME_BOARD"],
    ];
    for (const [from, to, code] of cases) {
      const err = await copyBoard({ from, to, location: loc, ...quiet }).then(
        () => null,
        (e: Error & { code?: string }) => e,
      );
      expect(err?.code, `${from} -> ${to}`).toBe(code);
      expect(err?.message).not.toContain("\n");
      expect(err?.message).not.toContain("secret");
    }
    // The file that is not a database was never touched.
    expect(fs.readFileSync(notDb, "utf8")).toBe("just some text, not SQLite\n");
  });
});
