import { describe, expect, it } from "vitest";
import { useTestBoards } from "./helpers.ts";
import { rawSql } from "./internals.ts";

// On PostgreSQL the boards of `useTestBoards` reuse the schema (and pool) of the file's previous test,
// emptied (test-store.ts). Each test here must still start from what a fresh migration leaves,
// whatever the test before it did; the tests run in order and depend on that order.

const board = useTestBoards();
/** The slug of each test's board, in order: on PostgreSQL it says which schema was reused. */
const slugs: string[] = [];

async function columns(b: ReturnType<typeof board>): Promise<string[]> {
  const b2 = rawSql(b);
  return b.engine === "postgres"
    ? (
        await b2.all<{ name: string }>(
          "SELECT column_name AS name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'tasks'",
        )
      ).map((r) => r.name)
    : (await b2.all<{ name: string }>("SELECT name FROM pragma_table_info('tasks')")).map((r) => r.name);
}

describe("test boards: every test starts on an empty, freshly migrated board", () => {
  it("fills a board: tasks, links, runs, events, comments", async () => {
    const b = board();
    slugs.push(b.slug ?? "");
    const parent = await b.createTask({ title: "parent" });
    const child = await b.createTask({ title: "child", parents: [parent.id] });
    await b.addComment(child.id, "me", "a comment");
    await b.claimTask(parent.id);
    expect((await rawSql(b).get<{ n: number }>("SELECT count(*) AS n FROM task_events"))?.n).toBeGreaterThan(2);
  });

  it("the next board has no rows, and its event ids and run ids start again at 1", async () => {
    const b = board();
    slugs.push(b.slug ?? "");
    // The previous test's schema, emptied (else this test would not be testing the reuse).
    if (b.engine === "postgres") expect(b.slug).toBe(slugs[0]);
    for (const table of ["tasks", "task_links", "task_runs", "task_events", "task_comments"])
      expect((await rawSql(b).get<{ n: number }>(`SELECT count(*) AS n FROM ${table}`))?.n, table).toBe(0);
    const t = await b.createTask({ title: "first" });
    const claimed = await b.claimTask(t.id);
    expect(claimed?.current_run_id).toBe(1);
    expect((await b.listEvents(t.id)).map((e) => e.id)).toEqual([1, 2]);
  });

  it("alters its board's schema (as a test of an older board would)", async () => {
    const b = board();
    slugs.push(b.slug ?? "");
    await rawSql(b).run("ALTER TABLE tasks ADD COLUMN stray_column INTEGER");
    expect(await columns(b)).toContain("stray_column");
  });

  it("the next board has the migrated columns only", async () => {
    const b = board();
    // An altered schema is dropped, never handed on.
    if (b.engine === "postgres") expect(b.slug).not.toBe(slugs[2]);
    expect(await columns(b)).not.toContain("stray_column");
    expect((await b.createTask({ title: "still works" })).status).toBe("ready");
  });
});
