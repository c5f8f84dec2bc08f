import type { Board, ListTasksFilter, TaskPage } from "@kanban/kernel";

// `tasks.list`'s keyset pages are a kernel read (packages/kernel/src/store/sqlite/task-pages.ts).
export { TASK_PAGE, type TaskPage } from "@kanban/kernel";

/** One page of `tasks.list` (see `Board.taskPage`). */
export function taskPage(
  board: Board,
  filter: Omit<ListTasksFilter, "limit">,
  opts: { cursor?: string | null; limit?: number | null; maxBytes?: number },
): TaskPage {
  return board.taskPage(filter, opts);
}
