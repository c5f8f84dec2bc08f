import { LIST_ORDER_NAMES, TASK_PAGE } from "@kanban/kernel";
import { rawSql } from "@kanban/kernel/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createTestApi, type TestApi } from "../../testing.ts";

let t: TestApi;
beforeEach(() => {
  t = createTestApi();
});
afterEach(() => t.cleanup());

type ListInput = NonNullable<Parameters<TestApi["api"]["tasks"]["list"]>[0]>;

/** Follows `next_cursor` to the end; returns every page. */
async function allPages(input: ListInput, api = t.api): Promise<{ id: string }[][]> {
  const pages: { id: string }[][] = [];
  let cursor: string | null = null;
  for (let i = 0; i < 10_000; i++) {
    const page: { tasks: { id: string }[]; next_cursor: string | null } = await api.tasks.list({ ...input, cursor });
    pages.push(page.tasks);
    cursor = page.next_cursor;
    if (cursor === null) return pages;
  }
  throw new Error("paging never ended");
}

/**
 * A board whose tasks differ in every column an order reads, with NULLs where a column may be NULL
 * (unassigned, never started) and distinct created_at and titles, so every order is total.
 */
async function variedBoard(n: number): Promise<string[]> {
  const board = t.board();
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    t.clock.advance(1);
    const task = await board.createTask({
      title: `task ${String((i * 7) % n).padStart(3, "0")}`,
      assignee: i % 3 === 0 ? null : `agent${i % 4}`,
      priority: i % 5,
    });
    ids.push(task.id);
    if (i % 4 === 1)
      await board.claimTask(task.id); // started_at set, status running
    else if (i % 4 === 2) await board.blockTask(task.id, { reason: "wait" });
  }
  return ids;
}

describe("tasks.list paging (interface C)", () => {
  it("lists cards created in the same second in the order they were created, across pages, for every order without an id tie-break", async () => {
    const board = t.board();
    const created: string[] = [];
    for (let i = 0; i < 30; i++) created.push((await board.createTask({ title: "same", priority: 1 })).id);
    for (const order_by of ["priority", "priority-desc", "status", "assignee"] as const) {
      const ids = (await allPages({ order_by, limit: 7 })).flat().map((x) => x.id);
      expect(ids, order_by).toEqual(created);
    }
    const updated = (await allPages({ order_by: "updated", limit: 7 })).flat().map((x) => x.id);
    expect(updated).toEqual([...created].reverse());
  });

  it("defaults to pages of 200 and visits every task exactly once", async () => {
    const board = t.board();
    for (let i = 0; i < 450; i++) await board.createTask({ title: `t${i}` });
    const first = await t.api.tasks.list();
    expect(first.tasks).toHaveLength(TASK_PAGE.defaultLimit);
    expect(first.next_cursor).not.toBeNull();
    const pages = await allPages({});
    expect(pages.map((p) => p.length)).toEqual([200, 200, 50]);
    const ids = pages.flat().map((x) => x.id);
    expect(new Set(ids).size).toBe(450);
  });

  it("refuses a page larger than 1000, a forged cursor and a cursor of another order", async () => {
    for (let i = 0; i < 3; i++) await t.board().createTask({ title: `t${i}` });
    await expect(t.api.tasks.list({ limit: TASK_PAGE.maxLimit + 1 })).rejects.toMatchObject({ code: "BAD_REQUEST" });
    await expect(t.api.tasks.list({ cursor: "not-a-cursor" })).rejects.toMatchObject({ code: "BAD_REQUEST" });
    const forged = Buffer.from(JSON.stringify({ o: "priority", k: [{}, 1, 2, 3] })).toString("base64url");
    await expect(t.api.tasks.list({ cursor: forged })).rejects.toMatchObject({
      code: "BAD_REQUEST",
      message: "invalid cursor",
    });
    const { next_cursor } = await t.api.tasks.list({ limit: 1, order_by: "title" });
    await expect(t.api.tasks.list({ cursor: next_cursor, order_by: "created" })).rejects.toMatchObject({
      code: "BAD_REQUEST",
      message: "this cursor continues a list ordered by 'title', not 'created'",
    });
  });

  it.each(LIST_ORDER_NAMES)("pages in the kernel's '%s' order, NULLs included", async (order) => {
    await variedBoard(40);
    const expected = (await t.board().listTasks({ order_by: order })).map((x) => x.id);
    const pages = await allPages({ order_by: order, limit: 6 });
    expect(pages.every((p) => p.length <= 6)).toBe(true);
    expect(pages.flat().map((x) => x.id)).toEqual(expected);
  });

  it.each(LIST_ORDER_NAMES)("'%s': tasks inserted between pages never repeat or hide existing ones", async (order) => {
    const before = await variedBoard(30);
    const seen: string[] = [];
    let cursor: string | null = null;
    let inserted = 0;
    do {
      const page: { tasks: { id: string }[]; next_cursor: string | null } = await t.api.tasks.list({
        order_by: order,
        limit: 4,
        cursor,
      });
      seen.push(...page.tasks.map((x) => x.id));
      cursor = page.next_cursor;
      // Someone else keeps adding work, sorting anywhere (old and new created_at, every priority).
      t.clock.advance(inserted % 2 === 0 ? 1 : -1);
      await t.board().createTask({
        title: `task ${String(inserted % 30).padStart(3, "0")}b`,
        priority: inserted % 5,
        assignee: inserted % 2 ? "agent1" : null,
      });
      inserted++;
    } while (cursor !== null);
    expect(new Set(seen).size).toBe(seen.length);
    for (const id of before) expect(seen).toContain(id);
  });

  it("keeps pages near 4 MiB when bodies are 1 MiB each, and pages through all of them", async () => {
    const board = t.board();
    const ids = new Set<string>();
    for (let i = 0; i < 24; i++) ids.add((await board.createTask({ title: `big ${i}` })).id);
    // The 1 MiB bodies in one statement: creating each through the verb sends it to the database and
    // reads the row back (48 MiB of round trips, seconds on PostgreSQL), and creation is not under test.
    const { changes } = await rawSql(board).run(
      "UPDATE tasks SET body = ? WHERE title LIKE 'big %'",
      "x".repeat(1024 * 1024 - 100),
    );
    expect(changes).toBe(24);
    const sizes: number[] = [];
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { tasks: { id: string }[]; next_cursor: string | null } = await t.api.tasks.list({
        cursor,
        limit: TASK_PAGE.maxLimit,
      });
      sizes.push(Buffer.byteLength(JSON.stringify(page)));
      expect(page.tasks.length).toBeGreaterThan(0);
      seen.push(...page.tasks.map((x) => x.id));
      cursor = page.next_cursor;
    } while (cursor !== null);
    expect(seen.sort()).toEqual([...ids].sort());
    // 3 tasks of ~1 MiB fit under 4 MiB, a 4th would not: 8 pages, none over the budget.
    expect(sizes).toHaveLength(8);
    for (const size of sizes) expect(size).toBeLessThanOrEqual(TASK_PAGE.maxBytes + 16 * 1024);
  });

  it("returns a single task bigger than the budget on a page of its own", async () => {
    const board = t.board();
    const huge = await board.createTask({ title: "huge", body: "y".repeat(1024 * 1024) });
    await board.completeTask(huge.id, { result: "z".repeat(1024 * 1024) });
    await board.createTask({ title: "small" });
    const pages = await allPages({ include_archived: true, order_by: "created" });
    expect(pages.flat()).toHaveLength(2);
  });

  it("confines a tenant's pages to its tenant and keeps include_links per page", async () => {
    const board = t.board();
    const parent = await board.createTask({ title: "p", tenant: "acme" });
    t.clock.advance(1);
    for (let i = 0; i < 5; i++) await board.createTask({ title: `c${i}`, tenant: "acme", parents: [parent.id] });
    for (let i = 0; i < 5; i++) await board.createTask({ title: `g${i}`, tenant: "globex" });
    const pages = await allPages(
      { limit: 2, include_links: true, tenant: "globex", order_by: "created" },
      t.caller("acme"),
    );
    const tasks = pages.flat() as { id: string; tenant: string | null; parents?: string[]; children?: string[] }[];
    expect(tasks).toHaveLength(6);
    expect(tasks.every((x) => x.tenant === "acme")).toBe(true);
    expect(tasks[0]).toMatchObject({ id: parent.id, parents: [] });
    expect(tasks[0]?.children).toHaveLength(5);
    expect(tasks.slice(1).every((x) => x.parents?.[0] === parent.id)).toBe(true);
  });
});
