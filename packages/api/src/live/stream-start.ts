import { invalid } from "@kanban/kernel";
import type { KanbanContext } from "../context.ts";
import type { BoardWatcher } from "./watcher.ts";

/**
 * The watcher of board `slug` for a live stream: SQLite, a watcher polling the file on its own
 * connection; PostgreSQL, one read through this process's board, woken by the LISTEN listener (or
 * polled in poll-only mode).
 */
export function boardWatcher(ctx: KanbanContext, slug: string): BoardWatcher {
  return ctx.boards.engine === "postgres"
    ? ctx.live.pgWatcher(slug, () => ctx.board(slug))
    : ctx.live.watcher(ctx.boards.dbPath(slug));
}

/**
 * Where a stream starts: the reconnecting link's `lastEventId` wins over `after`, so a resumed stream
 * loses nothing; null when neither is given (the caller starts at the board's newest event).
 */
export function resumeAfter(input: { after?: number | null; lastEventId?: string | null }): number | null {
  if (input.lastEventId !== undefined && input.lastEventId !== null) {
    if (!/^\d+$/.test(input.lastEventId)) throw invalid("lastEventId must be an event id");
    return Number(input.lastEventId);
  }
  return input.after ?? null;
}
