import type { Board, BoardColumn, BoardFilter, BoardView } from "@kanban/kernel";

// The board view is a kernel read (packages/kernel/src/store/sqlite/board-reads.ts); this module
// keeps the routers' names for it.
export {
  type BoardCard,
  type BoardColumn,
  type BoardFilter,
  type BoardView,
  CARD_SUMMARY_CHARS,
  type CardExtras,
  COLUMN_NAMES,
  DEFAULT_COLUMN_LIMIT,
  DEFAULT_DONE_LIMIT,
  type DecorateOptions,
  PAGED_COLUMNS,
} from "@kanban/kernel";

/** The whole board in a fixed number of queries (see `Board.boardView`). */
export function boardView(
  board: Board,
  slug: string,
  filter: BoardFilter,
  opts: Parameters<Board["boardView"]>[2],
): BoardView {
  return board.boardView(slug, filter, opts);
}

/** One page of one column, continuing from `cursor`, with the same card extras. */
export function columnPage(
  board: Board,
  column: string,
  filter: BoardFilter,
  opts: Parameters<Board["columnPage"]>[2],
): BoardColumn {
  return board.columnPage(column, filter, opts);
}
