import type { PgEventListener } from "@kanban/db";
import type { LiveBoardReader, LiveBoardSource, LiveWakeSource } from "./watcher.ts";

/**
 * A PostgreSQL board's wake-ups: the process's one listener (`openPgEventListener`: a LISTEN
 * connection, or poll-only behind a transaction-pooling proxy). A notification for the board and a
 * reconnect (after which notifications may have been lost) both wake the watcher, which reads after
 * its cursor either way; the payload's id is not trusted to be the whole story.
 */
export function pgWakeSource(events: PgEventListener, slug: string): LiveWakeSource {
  return {
    watch: (wake) => events.subscribe(slug, { onEvent: () => wake(), onResync: () => wake() }),
  };
}

/**
 * A watcher source for a board on PostgreSQL. Unlike SQLite's, the watcher opens no connection of its
 * own: it reads through the board the process already has (its pool; looked up at each read, as the
 * registry may reopen it), and releasing it closes nothing. Without a listener (`events` undefined)
 * the watcher falls back to plain polling at its `intervalMs`.
 */
export function pgLiveSource(opts: {
  board: () => LiveBoardReader;
  slug: string;
  events?: PgEventListener;
}): LiveBoardSource {
  const reader: LiveBoardReader = {
    latestEventId: () => opts.board().latestEventId(),
    liveEventRows: (afterId, limit) => opts.board().liveEventRows(afterId, limit),
  };
  return {
    open: async () => ({ reader, release: () => {} }),
    ...(opts.events ? { wake: pgWakeSource(opts.events, opts.slug) } : {}),
  };
}
