import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { openBoardDatabase } from "./board-database.ts";
import { boardLocationFromEnv } from "./boards.ts";
import { forgetInitialised, openDatabase } from "./connection.ts";
import { writeTxn } from "./write-txn.ts";
import { useTempDirs } from "./test/temp-dirs.ts";

/** Issue 31: a board keeps the journal mode we found it in, unless the operator opts in to WAL. */
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const fixturesDir = path.resolve(repoRoot, "..", "shared", "fixtures");
const DELETE_MODE_FIXTURE = path.join(fixturesDir, "hermes-v3-2026-07-29.db");
const WAL_FIXTURE = path.join(fixturesDir, "hermes-v1-2026-04-30.db");

const tempDir = useTempDirs();

/** The file format bytes of the header: 1/1 = rollback journal (DELETE…), 2/2 = WAL. */
function headerMode(file: string): "wal" | "rollback" {
  const head = fs.readFileSync(file).subarray(18, 20);
  return head[0] === 2 && head[1] === 2 ? "wal" : "rollback";
}

function copyOf(fixture: string): string {
  const file = path.join(tempDir(), "kanban.db");
  fs.copyFileSync(fixture, file);
  forgetInitialised(file);
  return file;
}

describe("journal mode", () => {
  it("keeps a Hermes DELETE-mode board in DELETE mode, through the upgrade and writes", () => {
    const file = copyOf(DELETE_MODE_FIXTURE);
    expect(headerMode(file)).toBe("rollback");
    const db = openDatabase({ path: file, warn: () => {} });
    expect(db.journalMode).toBe("delete");
    expect(db.sqlite.pragma("journal_mode", { simple: true })).toBe("delete");
    writeTxn(db.sqlite, () =>
      db.sqlite
        .prepare("INSERT INTO task_comments (task_id, author, body, created_at) VALUES ('t_x', 'me', 'hi', 1)")
        .run(),
    );
    expect(fs.existsSync(`${file}-wal`)).toBe(false);
    db.close();
    expect(headerMode(file)).toBe("rollback");
    // A second process's first open keeps it too.
    forgetInitialised(file);
    const again = openDatabase({ path: file, warn: () => {} });
    expect(again.journalMode).toBe("delete");
    again.close();
  });

  it("keeps a WAL board in WAL and creates new boards in WAL", () => {
    const wal = openDatabase({ path: copyOf(WAL_FIXTURE), warn: () => {} });
    expect(wal.journalMode).toBe("wal");
    wal.close();
    const fresh = openDatabase({ path: path.join(tempDir(), "new.db"), warn: () => {} });
    expect(fresh.journalMode).toBe("wal");
    fresh.close();
    expect(headerMode(fresh.path)).toBe("wal");
  });

  it("switches a DELETE-mode board to WAL when the operator opts in with KANBAN_JOURNAL_MODE=wal", () => {
    const file = copyOf(DELETE_MODE_FIXTURE);
    const home = path.dirname(file);
    const db = openBoardDatabase(boardLocationFromEnv({ KANBAN_HOME: home, KANBAN_JOURNAL_MODE: "WAL" }), "default", {
      warn: () => {},
    });
    expect(db.journalMode).toBe("wal");
    db.close();
    expect(headerMode(file)).toBe("wal");

    const kept = copyOf(DELETE_MODE_FIXTURE);
    const db2 = openBoardDatabase(
      boardLocationFromEnv({ KANBAN_HOME: path.dirname(kept), KANBAN_JOURNAL_MODE: "keep" }),
      "default",
      { warn: () => {} },
    );
    expect(db2.journalMode).toBe("delete");
    db2.close();
  });

  it("refuses an unknown KANBAN_JOURNAL_MODE with CONFIG_INVALID", () => {
    expect(() => boardLocationFromEnv({ KANBAN_HOME: "/tmp/x", KANBAN_JOURNAL_MODE: "truncate" })).toThrow(
      expect.objectContaining({
        code: "CONFIG_INVALID",
        message: "invalid KANBAN_JOURNAL_MODE='truncate': expected 'wal' or 'keep'",
      }),
    );
  });
});
