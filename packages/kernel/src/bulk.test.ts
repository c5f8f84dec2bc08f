import { useTestBoards } from "./testing/helpers.ts";
import { beforeEach, describe, expect, it } from "vitest";
import { bulkUpdate } from "./bulk.ts";
import { scopeBoard } from "./scoped-board.ts";
import type { TestBoard } from "./testing/test-board.ts";

const boards = useTestBoards();

let board: TestBoard;
beforeEach(() => {
  board = boards();
});

describe("bulkUpdate", () => {
  it("each row is one transaction: a row refused at its status step keeps its earlier reassignment undone", async () => {
    const a = await board.createTask({ title: "a", assignee: "coder" });
    const b = await board.createTask({ title: "b", assignee: "coder" });
    const out = await bulkUpdate(scopeBoard(board, { tenant: null }), [a.id, b.id, "t_nosuchtask"], {
      assignee: "reviewer",
      status: "nonsense",
    });
    expect(out.results.map((r) => r.ok)).toEqual([false, false, false]);
    expect(out.results[0]?.error).toMatch(/^transition to 'nonsense' refused: /);
    expect(out.results[2]).toEqual({ id: "t_nosuchtask", ok: false, error: "not found" });
    expect((await board.getTask(a.id))?.assignee).toBe("coder");
    expect(out.terminate).toEqual([]);
  });

  it("stops only the workers of committed rows, and a tenant's rows on other tenants' tasks are 'not found'", async () => {
    const mine = await board.createTask({ title: "mine", assignee: "coder", tenant: "acme" });
    const theirs = await board.createTask({ title: "theirs", assignee: "coder", tenant: "zeta" });
    await board.claimTask(mine.id);
    await board.recordSpawn(mine.id, 4321, (await board.requireTask(mine.id)).current_run_id as number);
    const out = await bulkUpdate(scopeBoard(board, { tenant: "acme" }), [mine.id, theirs.id], { archive: true });
    expect(out.results).toEqual([
      { id: mine.id, ok: true },
      { id: theirs.id, ok: false, error: "not found" },
    ]);
    expect(out.terminate.map((t) => t.pid)).toEqual([4321]);
    expect((await board.getTask(mine.id))?.status).toBe("archived");
    expect((await board.getTask(theirs.id))?.status).toBe("ready");
  });
});
