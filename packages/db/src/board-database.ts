import fs from "node:fs";
import path from "node:path";
import {
  type BoardLocation,
  type BoardMetadata,
  type BoardMetadataPatch,
  boardDbPath,
  boardExists,
  DEFAULT_BOARD,
  normaliseSlug,
  readBoardMetadata,
  writeBoardMetadata,
} from "./boards.ts";
import { type KanbanDatabase, type OpenDatabaseOptions, openDatabase } from "./connection.ts";
import { KanbanDbError } from "./errors.ts";

export type BoardOpenOptions = Omit<OpenDatabaseOptions, "path">;

/**
 * Opens the database of an existing board, creating the home directory (and the default board's
 * file) on first use. A non-default board that does not exist is an error: boards are created
 * explicitly with {@link createBoard}.
 */
export function openBoardDatabase(loc: BoardLocation, slug: string, opts: BoardOpenOptions = {}): KanbanDatabase {
  const s = normaliseSlug(slug);
  if (!loc.dbOverride) {
    if (s !== DEFAULT_BOARD && !boardExists(loc, s)) {
      throw new KanbanDbError(
        "BOARD_NOT_FOUND",
        `board '${s}' does not exist. Create it with \`kanban boards create ${s}\`.`,
        { slug: s },
      );
    }
    fs.mkdirSync(path.dirname(boardDbPath(loc, s)), { recursive: true });
  }
  return openDatabase({ journalMode: loc.journalMode, ...opts, path: boardDbPath(loc, s) });
}

/** Creates a board (mkdir -p semantics: an existing board keeps its data and returns its metadata). */
export function createBoard(
  loc: BoardLocation,
  slug: string,
  meta: BoardMetadataPatch = {},
  opts: BoardOpenOptions = {},
): BoardMetadata {
  const s = normaliseSlug(slug);
  const existed =
    boardExists(loc, s) &&
    (s === DEFAULT_BOARD || fs.existsSync(path.join(path.dirname(boardDbPath(loc, s)), "board.json")));
  const written =
    existed && Object.keys(meta).length === 0 ? readBoardMetadata(loc, s) : writeBoardMetadata(loc, s, meta);
  if (!loc.dbOverride) openBoardDatabase(loc, s, opts).close();
  return written;
}
