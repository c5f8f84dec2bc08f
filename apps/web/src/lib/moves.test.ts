import { describe, expect, it } from "vitest";
import { applyOptimisticMove, deleteGuard, moveGuard, removeCards, reopenGuard, chunksOf } from "./moves.ts";

const board = {
  board: "default",
  columns: [
    {
      name: "ready",
      total: 2,
      tasks: [
        { id: "a", status: "ready" },
        { id: "b", status: "ready" },
      ],
    },
    { name: "blocked", total: 1, tasks: [{ id: "c", status: "blocked" }] },
    { name: "done", total: 250, tasks: [{ id: "d", status: "done" }] },
  ],
};

describe("moveGuard", () => {
  it("asks for a summary before done", () => {
    expect(moveGuard("done", 1)).toMatchObject({ kind: "summary", title: "Mark this task as done?" });
    expect(moveGuard("done", 3)).toMatchObject({ kind: "summary", title: "Mark 3 tasks as done?" });
  });
  it("confirms blocked (with an optional reason) and archived", () => {
    expect(moveGuard("blocked", 1)).toMatchObject({
      kind: "confirm",
      title: "Mark this task as blocked?",
      reason: { label: "Reason (optional)" },
    });
    expect(moveGuard("archived", 2)).toMatchObject({ kind: "confirm", title: "Archive 2 tasks?" });
  });
  it("lets other moves through", () => {
    expect(moveGuard("ready", 1)).toEqual({ kind: "none" });
  });
  it("words deletes for one and many", () => {
    expect(deleteGuard(1).title).toBe("Permanently delete this task?");
    expect(deleteGuard(4).title).toBe("Permanently delete 4 selected tasks?");
  });
});

describe("applyOptimisticMove", () => {
  it("moves cards to the top of the target with their new status and fixes the counts", () => {
    const next = applyOptimisticMove(board, ["b"], "blocked");
    expect(next.columns.map((c) => [c.name, c.total, c.tasks.map((t) => `${t.id}:${t.status}`)])).toEqual([
      ["ready", 1, ["a:ready"]],
      ["blocked", 2, ["b:blocked", "c:blocked"]],
      ["done", 250, ["d:done"]],
    ]);
    expect(board.columns[0]?.tasks).toHaveLength(2);
  });
  it("leaves the board alone for unknown ids or a move into the same column", () => {
    expect(applyOptimisticMove(board, ["zz"], "blocked").columns).toEqual(board.columns);
    expect(applyOptimisticMove(board, ["c"], "blocked").columns).toEqual(board.columns);
  });
  it("keeps the total of a paged column honest", () => {
    const next = applyOptimisticMove(board, ["d"], "ready");
    expect(next.columns.find((c) => c.name === "done")?.total).toBe(249);
  });
});

describe("removeCards", () => {
  it("drops cards and lowers the totals", () => {
    const next = removeCards(board, ["a", "c"]);
    expect(next.columns.map((c) => [c.name, c.total, c.tasks.length])).toEqual([
      ["ready", 1, 1],
      ["blocked", 0, 0],
      ["done", 250, 1],
    ]);
  });
});

describe("reopenGuard", () => {
  it("asks before Done cards leave Done, naming how many will run again", () => {
    expect(reopenGuard("ready", 0, 5)).toBeNull();
    expect(reopenGuard("archived", 3, 3)).toBeNull();
    expect(reopenGuard("done", 3, 3)).toBeNull();
    const g = reopenGuard("ready", 1805, 1805);
    expect(g?.title).toBe("Reopen 1805 done tasks?");
    expect(g?.body).toContain("All 1805 tasks are done");
    expect(g?.body).toContain("dispatcher runs their agents again");
    expect(reopenGuard("todo", 2, 5)?.body).toMatch(/^2 of the 5 tasks are done\. They leave Done/);
    expect(reopenGuard("ready", 1, 1)).toMatchObject({ title: "Reopen 1 done task?", confirmLabel: "Reopen it" });
  });
});

describe("chunksOf", () => {
  it("splits a large selection into bulk-sized calls", () => {
    const ids = Array.from({ length: 1805 }, (_, i) => `t${i}`);
    const parts = chunksOf(ids);
    expect(parts.map((p) => p.length)).toEqual([500, 500, 500, 305]);
    expect(parts.flat()).toEqual(ids);
    expect(chunksOf([])).toEqual([]);
  });
});
