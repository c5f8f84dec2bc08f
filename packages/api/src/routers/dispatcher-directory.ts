import type { DispatcherEntry, KanbanPostgres } from "@kanban/db";
import { nudgePgDispatchers, pgDispatcherEntries } from "@kanban/kernel";

/**
 * Where the API finds a board's dispatchers when they do not live in the home's files: on
 * PostgreSQL, several dispatchers on several hosts serve one board and each has a row in the board's
 * `kanban_dispatchers` table; a nudge is a NOTIFY they LISTEN for. Without a directory (SQLite) the
 * router reads `<home>/kanban/dispatcher.json` and the lock, as it always has.
 */
export interface DispatcherDirectory {
  /** Every dispatcher that served the board, judged at `now` (unix seconds). */
  list(slug: string, now: number): Promise<DispatcherEntry[]>;
  /** Asks the board's dispatchers to tick now; returns how many are connected to hear it. */
  nudge(slug: string): Promise<number>;
}

/** The directory of boards on PostgreSQL (the server's pool; the SQL is the kernel's). */
export function pgDispatcherDirectory(db: KanbanPostgres): DispatcherDirectory {
  return {
    list: (slug, now) => pgDispatcherEntries(db, slug, now),
    nudge: (slug) => nudgePgDispatchers(db, slug),
  };
}

/** The same over a connection opened on first use (a server's catalog connection). */
export function lazyPgDispatcherDirectory(db: () => Promise<KanbanPostgres>): DispatcherDirectory {
  return {
    list: async (slug, now) => await pgDispatcherDirectory(await db()).list(slug, now),
    nudge: async (slug) => await pgDispatcherDirectory(await db()).nudge(slug),
  };
}
