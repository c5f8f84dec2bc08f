import path from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createTestBoard, type TestBoard } from "../../testing/index.ts";
import type { TransitionVerb } from "../../transitions.ts";
import { SqlSession } from "./session.ts";
import { swapStatus, transitionSql } from "./tasks.ts";

/** A store session on its own connection to the test board's file (no reach into the Board). */
function rawSession(b: TestBoard, opened: Database.Database[]): SqlSession {
  const sqlite = new Database(path.join(b.dir, "kanban.db"));
  sqlite.pragma("busy_timeout = 5000");
  opened.push(sqlite);
  return new SqlSession(sqlite, b.clock);
}

describe("the compare-and-swap's SQL (store/sqlite/tasks.ts)", () => {
  it("takes the from-states from the TRANSITIONS table, never from the caller", () => {
    expect(transitionSql("complete", { to: "done" }, false)).toBe(
      "UPDATE tasks SET status = 'done' WHERE id = ? AND status IN ('running', 'ready', 'blocked', 'review')",
    );
    expect(
      transitionSql(
        "requeue",
        { to: "ready", from: "running", set: "claim_expires = ?", where: "claim_lock IS ?" },
        true,
      ),
    ).toBe(
      "UPDATE tasks SET status = 'ready', claim_expires = ? WHERE id = ? AND status = 'running' AND status = ? AND claim_lock IS ? RETURNING *",
    );
  });

  it("builds each shape once (the hot paths pay lookups, not string builds)", () => {
    const w = { to: "blocked" as const, set: "worker_pid = NULL" };
    expect(transitionSql("block", w, false)).toBe(transitionSql("block", { ...w }, false));
    expect(transitionSql("block", w, true)).not.toBe(transitionSql("block", w, false));
  });

  it("refuses a verb the table does not have, and a to-state the verb may not land in", () => {
    expect(() => transitionSql("teleport" as TransitionVerb, { to: "done" }, false)).toThrow(/unknown verb 'teleport'/);
    // Refused again: a failed build leaves nothing cached under the unknown verb.
    expect(() => transitionSql("teleport" as TransitionVerb, { to: "done" }, false)).toThrow(/unknown verb/);
    expect(() => transitionSql("claim", { to: "done" }, false)).toThrow(/'claim' cannot land in 'done'/);
  });

  describe("on a real board", () => {
    let b: TestBoard;
    const opened: Database.Database[] = [];
    beforeEach(() => {
      b = createTestBoard();
    });
    afterEach(() => {
      for (const db of opened.splice(0)) db.close();
      b.cleanup();
    });

    it("an unknown verb writes nothing", async () => {
      const id = (await b.createTask({ title: "t" })).id;
      const session = rawSession(b, opened);
      await expect(
        session.tx(async () => await swapStatus(session, "teleport" as TransitionVerb, id, { to: "done" })),
      ).rejects.toThrow(/unknown verb/);
      expect((await b.requireTask(id)).status).toBe("ready");
    });
  });
});

describe("SqlSession (store/sqlite/session.ts)", () => {
  let b: TestBoard;
  const opened: Database.Database[] = [];
  beforeEach(() => {
    b = createTestBoard();
  });
  afterEach(() => {
    for (const db of opened.splice(0)) db.close();
    b.cleanup();
  });

  it("prepares each statement once per connection", () => {
    const session = rawSession(b, opened);
    const sql = "SELECT COUNT(*) AS n FROM tasks";
    expect(session.stmt(sql)).toBe(session.stmt(sql));
  });

  it("reads whole task rows through tasks()/task() and rolls a throwing tx back", async () => {
    const session = rawSession(b, opened);
    const id = (await b.createTask({ title: "row" })).id;
    expect(session.task("SELECT * FROM tasks WHERE id = ?", id)).toMatchObject({ id, title: "row", status: "ready" });
    expect(session.tasks("SELECT * FROM tasks WHERE id = ?", "missing")).toEqual([]);
    await expect(
      session.tx(() => {
        session.stmt("UPDATE tasks SET title = 'changed' WHERE id = ?").run(id);
        throw new Error("undo");
      }),
    ).rejects.toThrow("undo");
    expect((await b.requireTask(id)).title).toBe("row");
  });
});
