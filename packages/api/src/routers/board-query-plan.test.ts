import { boardInternals, rawSql } from "@kanban/kernel/testing";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { countStatements, seedBoard } from "../test/board-seed.ts";
import { createTestApi, type TestApi } from "../testing.ts";

// SQLite's query plans (EXPLAIN QUERY PLAN, its index names): this file runs on SQLite only
// (vitest.config.ts). The statement count of the same view is checked on both stores in board.test.ts.
let t: TestApi;
beforeEach(() => {
  t = createTestApi();
});
afterEach(async () => {
  vi.restoreAllMocks();
  await t.cleanup();
});

describe("board.get query plan on SQLite", () => {
  it("reads through indexes, never the whole tasks table, and pages a tied ready column without sorting it", async () => {
    const board = t.board();
    expect(board.engine).toBe("sqlite");
    await seedBoard(board, 200);
    // A bulk import: 300 ready cards with the same priority, all created in the same second.
    await boardInternals(board).ctx.tx(async () => {
      for (let i = 0; i < 300; i++) await board.createTask({ title: `import ${i}` });
    });
    await t.api.board.get();
    const counter = countStatements(board);
    counter.reset();
    await t.api.board.get({ column_limit: 50 });
    const executed = counter.executed;
    vi.restoreAllMocks();
    expect(executed.length).toBeGreaterThan(0);
    const plans: { sql: string; plan: string[] }[] = [];
    for (const { sql, args } of executed) {
      const rows = await rawSql(board).all<{ detail: string }>(`EXPLAIN QUERY PLAN ${sql}`, ...args);
      plans.push({ sql, plan: rows.map((r) => r.detail) });
    }
    const fullScans = plans.filter((p) => p.plan.some((d) => /^SCAN (t|tasks|x)$/.test(d)));
    expect(fullScans.map((p) => p.sql)).toEqual([]);
    const ready = plans.find((p) => p.sql.includes("t.status = 'ready'"));
    expect(ready?.plan.join(" | ")).toMatch(/idx_tasks_ready_priority/);
    expect(ready?.plan.join(" | ")).not.toMatch(/TEMP B-TREE/);
    const candidates = plans.find((p) => p.sql.includes("idx_tasks_failing"));
    expect(candidates?.plan.join(" | ")).toMatch(/idx_tasks_failing/);
  });
});

describe("a card's worker context on SQLite", () => {
  it("finds the done parents from the child's links, not from every done card of the board", async () => {
    const board = t.board();
    // Many done cards and one child with one done parent: a plan led by idx_tasks_status reads them all.
    await boardInternals(board).ctx.tx(async () => {
      for (let i = 0; i < 300; i++) {
        const id = (await board.createTask({ title: `old ${i}` })).id;
        await board.completeTask(id, { summary: `done ${i}` });
      }
    });
    const parent = (await board.createTask({ title: "parent" })).id;
    const child = (await board.createTask({ title: "child", parents: [parent] })).id;
    await board.completeTask(parent, { summary: "the parent's result" });
    const counter = countStatements(board);
    counter.reset();
    const context = await t.api.tasks.context({ id: child });
    const executed = counter.executed;
    vi.restoreAllMocks();
    expect(JSON.stringify(context)).toContain("the parent's result");
    const plans: { sql: string; plan: string }[] = [];
    for (const { sql, args } of executed.filter((e) => e.sql.includes("task_links"))) {
      const rows = await rawSql(board).all<{ detail: string }>(`EXPLAIN QUERY PLAN ${sql}`, ...args);
      plans.push({ sql, plan: rows.map((r) => r.detail).join(" | ") });
    }
    expect(plans.length).toBeGreaterThan(0);
    expect(plans.filter((p) => p.plan.includes("idx_tasks_status")).map((p) => p.sql)).toEqual([]);
  });
});
