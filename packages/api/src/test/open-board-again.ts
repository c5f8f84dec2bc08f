import type { BoardLocation } from "@kanban/db";
import { type Board, type OpenPgBoardOptions, openBoard, openPgBoard } from "@kanban/kernel";
import { testPgUrl, testStoreIsPostgres } from "./pg-store.ts";

/** What a second handle may differ in: the options another process (a dispatcher, a CLI) would open with. */
type AgainOptions = Omit<OpenPgBoardOptions, "url" | "board">;

/**
 * A second, independent handle on a board of a test API's home, as another process would open it
 * (its own connections, its own options): the board's SQLite file, or under the "postgres" project
 * the board's schema in the test file's database. Close it when done.
 */
export async function openBoardAgain(
  location: BoardLocation,
  opts: AgainOptions & { slug?: string } = {},
): Promise<Board> {
  const { slug, ...rest } = opts;
  if (testStoreIsPostgres()) return await openPgBoard({ ...rest, url: testPgUrl(), board: slug });
  return openBoard({ ...rest, location, board: slug });
}
