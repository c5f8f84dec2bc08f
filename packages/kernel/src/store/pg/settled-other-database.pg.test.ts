// PostgreSQL only: a board's readers that resume "after event id N" stop at the newest settled id,
// which waits for the transactions holding that board's writer lock. Advisory locks are visible
// server-wide, and two databases on one server can each hold a board of the same slug (the same
// schema name, so the same lock key): a writer of the other database's board must not be waited for.
import { createTestPgDatabase, type TestPgDatabase } from "@kanban/db/testing-pg";
import { afterEach, describe, expect, it } from "vitest";
import type { Board } from "../../board.ts";
import { pgBoard } from "../../open-pg-board.ts";
import { boardInternals } from "../../testing/index.ts";
import { holdWriterLock } from "../../testing/writer-spies.ts";
import { dropTestSchemaLater, testStoreUrl } from "../../testing/test-store.ts";

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

describe("the settled event id of a board", () => {
  it("is not held back by a writer of the same slug's board in another database", async () => {
    const slug = `same_slug_${process.pid}`;
    const other: TestPgDatabase = await createTestPgDatabase("kanban_other");
    cleanup.push(async () => await other.drop());
    const here: Board = pgBoard({ url: testStoreUrl(), board: slug, poolSize: 2, warn: () => {} });
    cleanup.push(async () => {
      await here.close();
      dropTestSchemaLater(slug);
    });
    const there: Board = pgBoard({ url: other.url, board: slug, poolSize: 2, warn: () => {} });
    cleanup.push(async () => there.close());
    await there.createTask({ title: "on the other database" });

    // The other database's board keeps its writer lock (exclusively) for the whole test.
    const release = await holdWriterLock(boardInternals(there).ctx);
    cleanup.push(release);
    const task = await here.createTask({ title: "written here" });
    const [created] = await here.listEvents(task.id);
    if (!created) throw new Error("no created event");

    // Every reader after a cursor sees it now (the old holder query waited for the other database's
    // holder, gave up, and kept the bound at 0).
    expect(await here.latestEventId()).toBe(created.id);
    expect((await here.liveEventRows(0, 10)).map((e) => e.id)).toEqual([created.id]);
    expect((await here.eventsAfter(0)).map((e) => e.id)).toEqual([created.id]);
  });
});
