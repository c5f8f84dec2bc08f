import type { BoardContext } from "./context.ts";
import { invalid } from "./errors.ts";
import { childIdsSorted, doneParentResults, parentIdsSorted } from "./store/sqlite/links.ts";
import {
  LIST_ORDERS,
  type ListOrder,
  type ListTasksFilter,
  listTasksWhere,
  taskRows,
} from "./store/sqlite/task-lists.ts";
import type { Task } from "./types.ts";

// The filter and the orders are SQL, so they live in the store; outside the kernel only the order
// names are public (what `order_by` accepts), never their SQL text.
export type { ListOrder, ListTasksFilter };

/** The orders a task list can be sorted by (`order_by`; `priority` when absent). */
export const LIST_ORDER_NAMES = Object.freeze(Object.keys(LIST_ORDERS)) as readonly [ListOrder, ...ListOrder[]];

/** Lists tasks; archived ones only when asked for (or when filtering on `archived`). */
export async function listTasks(ctx: BoardContext, filter: ListTasksFilter = {}): Promise<Task[]> {
  const where = listTasksWhere(filter);
  const order = (filter.order_by ?? "priority") as ListOrder;
  if (!Object.hasOwn(LIST_ORDERS, order)) {
    throw invalid(`order_by must be one of ${Object.keys(LIST_ORDERS).join(", ")}`);
  }
  const limit = filter.limit ?? null;
  if (limit !== null && (!Number.isInteger(limit) || limit < 1)) throw invalid("limit must be an integer >= 1");
  return await taskRows(ctx, where, order, limit);
}

export async function parentIds(ctx: BoardContext, id: string): Promise<string[]> {
  return await parentIdsSorted(ctx, id);
}

export async function childIds(ctx: BoardContext, id: string): Promise<string[]> {
  return await childIdsSorted(ctx, id);
}

/** `[parent id, result]` of the done parents, oldest completion first. */
export async function parentResults(ctx: BoardContext, id: string): Promise<[string, string | null][]> {
  return (await doneParentResults(ctx, id)).map((r) => [r.id, r.result]);
}
