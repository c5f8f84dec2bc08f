import type { Board, TaskEvent } from "@kanban/kernel";
import type { LiveEvent } from "./queue.ts";
import type { BoardWatcher } from "./watcher.ts";

export interface LiveFilter {
  task_id?: string | null;
  tenant?: string | null;
  assignee?: string | null;
  kinds?: string[] | null;
}

/** Rows read per catch-up query (the board's page size for event reads). */
const CATCH_UP_PAGE = 200;

export function matchesFilter(e: LiveEvent, f: LiveFilter): boolean {
  if (f.task_id && e.task_id !== f.task_id) return false;
  if (f.tenant && e.tenant !== f.tenant) return false;
  if (f.assignee && e.assignee !== f.assignee) return false;
  if (f.kinds && f.kinds.length > 0 && !f.kinds.includes(e.kind)) return false;
  return true;
}

function plain(e: LiveEvent): TaskEvent {
  return { id: e.id, task_id: e.task_id, run_id: e.run_id, kind: e.kind, payload: e.payload, created_at: e.created_at };
}

/**
 * Every matching event after `after`, then live ones as they are committed, until `signal` aborts,
 * one at a time (see {@link streamEventBatches}).
 */
export async function* streamEvents(opts: StreamOptions): AsyncGenerator<TaskEvent, void> {
  for await (const batch of streamEventBatches(opts)) yield* batch;
}

export interface StreamOptions {
  /** Looked up on every catch-up: the registry may have reopened the board (or found it removed) meanwhile. */
  board: () => Board;
  watcher: BoardWatcher;
  after: number;
  filter: LiveFilter;
  signal?: AbortSignal;
  queueCapacity?: number;
}

/**
 * Every matching event after `after`, then live ones as they are committed, until `signal` aborts,
 * in the batches they arrive in: a catch-up page, or what the watcher read in one poll (the same
 * burst every subscriber of the board receives). A batch is never empty.
 *
 * The subscription is registered before the backlog is read, so nothing committed in between is
 * missed; anything delivered twice (backlog and queue) is dropped by id. When the queue overflows
 * (this consumer fell behind) the stream re-reads from the database by its cursor.
 */
export async function* streamEventBatches(opts: StreamOptions): AsyncGenerator<TaskEvent[], void> {
  const sub = await opts.watcher.subscribe(opts.queueCapacity);
  let cursor = opts.after;
  const { filter } = opts;
  async function* catchUp(): AsyncGenerator<TaskEvent[], void> {
    for (;;) {
      // The watcher stopped (the board was removed, the server is stopping): the stream ends, even
      // when that happened while it was starting, before a read that would find no board.
      if (sub.queue.isClosed) return;
      let page: TaskEvent[];
      try {
        page = await opts.board().eventsAfter(cursor, {
          task_id: filter.task_id,
          tenant: filter.tenant,
          assignee: filter.assignee,
          kinds: filter.kinds,
          limit: CATCH_UP_PAGE,
        });
      } catch (err) {
        if (sub.queue.isClosed) return;
        throw err;
      }
      if (opts.signal?.aborted) return;
      const last = page.at(-1);
      if (last) {
        cursor = last.id;
        yield page;
      }
      if (page.length < CATCH_UP_PAGE) return;
    }
  }
  try {
    yield* catchUp();
    for (;;) {
      const got = await sub.queue.take(opts.signal);
      if (got === null) return;
      if (got === "overflow") {
        yield* catchUp();
        continue;
      }
      const batch: TaskEvent[] = [];
      for (const e of got) {
        if (e.id <= cursor) continue;
        cursor = e.id;
        if (matchesFilter(e, filter)) batch.push(plain(e));
      }
      if (batch.length > 0 && !opts.signal?.aborted) yield batch;
    }
  } finally {
    sub.close();
  }
}
