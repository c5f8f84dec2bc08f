import path from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { createTestBoard, type TestBoard } from "../../testing/index.ts";
import { STILL_READY_SQL } from "./ready-lane.ts";

// The walk's re-check of lane rows (stillReady) runs once per 64 rows of a lane; it must find its ids by
// key, not read every ready task each time (which made a dispatcher tick over a long lane quadratic).

let b: TestBoard | null = null;
afterEach(() => {
  b?.cleanup();
  b = null;
});

describe("the lane re-check's statement (store/sqlite/ready-lane.ts)", () => {
  it("looks each id up by the tasks' key on an unanalyzed board, not through the status index", async () => {
    b = createTestBoard();
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) ids.push((await b.createTask({ title: `t${i}`, assignee: "bench" })).id);
    const sqlite = new Database(path.join(b.dir, "kanban.db"), { readonly: true });
    try {
      const plan = (
        sqlite.prepare(`EXPLAIN QUERY PLAN ${STILL_READY_SQL}`).all(JSON.stringify(ids)) as { detail: string }[]
      )
        .map((r) => r.detail)
        .join(" | ");
      expect(plan).toMatch(/SEARCH tasks USING INDEX sqlite_autoindex_tasks_1 \(id=\?\)/);
      expect(plan).not.toContain("idx_tasks_status");
      // And it answers what it should: the ready ones of the list.
      const found = sqlite.prepare(STILL_READY_SQL).all(JSON.stringify([ids[0], ids[1], "t_missing"])) as {
        id: string;
      }[];
      expect(found.map((r) => r.id).sort()).toEqual([ids[0], ids[1]].sort());
    } finally {
      sqlite.close();
    }
  });
});
