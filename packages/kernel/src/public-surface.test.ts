import { describe, expect, it } from "vitest";
import * as kernel from "./index.ts";
import { LIST_ORDERS } from "./store/sqlite/task-lists.ts";
import { useTestBoards } from "./testing/helpers.ts";

const board = useTestBoards();

/** A plain function (not a class) whose first parameter is the kernel's internal context. */
function takesContext(value: unknown): boolean {
  if (typeof value !== "function" || /^class\b/.test(Function.prototype.toString.call(value))) return false;
  return /^\s*(?:async\s+)?function\s*\*?\s*[\w$]*\s*\(\s*ctx\b/.test(Function.prototype.toString.call(value));
}

describe("@kanban/kernel's public surface", () => {
  it("publishes no function that takes the internal BoardContext (callers go through Board/ScopedBoard)", () => {
    const leaking = Object.entries(kernel)
      .filter(([, v]) => takesContext(v))
      .map(([k]) => k);
    expect(leaking).toEqual([]);
  });

  it("the detector does recognise a context-taking function", () => {
    expect(
      takesContext(function listComments(ctx: unknown, id: string) {
        return [ctx, id];
      }),
    ).toBe(true);
    expect(takesContext(kernel.openBoard)).toBe(false);
  });

  it("publishes no SQL text and no raw-row decoders", () => {
    for (const name of ["LIST_ORDERS", "listTasksWhere", "taskFromRow", "commentFromRow", "runFromRow", "eventFromRow"])
      expect(Object.hasOwn(kernel, name), name).toBe(false);
  });

  it("LIST_ORDER_NAMES are exactly the orders a list can be sorted by", async () => {
    expect([...kernel.LIST_ORDER_NAMES].sort()).toEqual(Object.keys(LIST_ORDERS).sort());
    for (const order of kernel.LIST_ORDER_NAMES) await board().listTasks({ order_by: order });
  });

  it("liveEventRows hands back decoded events with their task's tenant and assignee", async () => {
    const b = board();
    const task = await b.createTask({ title: "t", tenant: "acme", assignee: "coder" });
    const [created] = await b.liveEventRows(0, 10);
    expect(created).toEqual({
      id: expect.any(Number),
      task_id: task.id,
      run_id: null,
      kind: "created",
      payload: expect.any(Object),
      created_at: b.clock.seconds,
      tenant: "acme",
      assignee: "coder",
    });
  });
});
