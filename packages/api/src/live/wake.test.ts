import type { PgBoardEventHandler, PgEventListener } from "@kanban/db";
import type { LiveEventRow } from "@kanban/kernel";
import { describe, expect, it } from "vitest";
import { LiveHub } from "./hub.ts";
import { pgLiveSource } from "./pg-source.ts";
import type { LiveEvent } from "./queue.ts";
import { BoardWatcher, type LiveBoardReader, type LiveBoardSource } from "./watcher.ts";

/**
 * The watcher's pluggable wake-up: a board whose events arrive as notifications is read as soon as one
 * comes, and still polled on a slow backstop timer for a notification that never came. The board and
 * the wake-ups here are in memory (the real PostgreSQL path is in pg-live.test.ts).
 */

const HOUR = 3_600_000;

/** A board in memory: its events, and a count of the reads the watcher made. */
function memoryBoard(): LiveBoardReader & { rows: LiveEventRow[]; latestReads: number; add(n?: number): number } {
  const b = {
    rows: [] as LiveEventRow[],
    latestReads: 0,
    async latestEventId() {
      b.latestReads++;
      return b.rows.at(-1)?.id ?? 0;
    },
    async liveEventRows(afterId: number, limit: number) {
      return b.rows.filter((r) => r.id > afterId).slice(0, limit);
    },
    add(n = 1) {
      for (let i = 0; i < n; i++) {
        const id = (b.rows.at(-1)?.id ?? 0) + 1;
        b.rows.push({
          id,
          task_id: "t",
          run_id: null,
          kind: "commented",
          payload: null,
          created_at: 0,
          tenant: null,
          assignee: null,
        });
      }
      return b.rows.at(-1)?.id ?? 0;
    },
  };
  return b;
}

/** Resolves when `check` holds; fails with `what` after a bound (a hang guard, not a speed assertion). */
async function waitFor(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A source over `board` woken by hand: `fire()` wakes every watcher; counts watch/unwatch/release. */
function wokenSource(board: LiveBoardReader) {
  const wakes = new Set<() => void>();
  const counts = { watched: 0, unwatched: 0, opened: 0, released: 0 };
  const source: LiveBoardSource = {
    open: async () => {
      counts.opened++;
      return { reader: board, release: () => counts.released++ };
    },
    wake: {
      watch(wake) {
        counts.watched++;
        wakes.add(wake);
        return () => {
          counts.unwatched++;
          wakes.delete(wake);
        };
      },
    },
  };
  const fire = () => {
    for (const w of [...wakes]) w();
  };
  return { source, counts, fire };
}

const ids = (got: unknown) => (got as LiveEvent[]).map((e) => e.id);

describe("a watcher with a wake-up source", () => {
  it("reads at once when woken, though neither its poll interval nor its backstop would for an hour", async () => {
    const board = memoryBoard();
    board.add(3);
    const { source, fire } = wokenSource(board);
    const watcher = new BoardWatcher("mem:wake", { source, intervalMs: HOUR, backstopMs: HOUR });
    const sub = await watcher.subscribe();
    expect(watcher.cursor).toBe(3);
    expect(watcher.woken).toBe(true);
    const id = board.add(2);
    fire();
    expect(ids(await sub.queue.take())).toEqual([4, 5]);
    expect(id).toBe(5);
    // Many wake-ups at once are one read.
    board.add();
    fire();
    fire();
    fire();
    expect(ids(await sub.queue.take())).toEqual([6]);
    expect(watcher.reads).toBe(2);
    sub.close();
  });

  it("still polls on its backstop when no wake-up comes (a lost notification), and not at the plain poll interval", async () => {
    const board = memoryBoard();
    const { source } = wokenSource(board);
    // The backstop is short here, the plain interval an hour: only the backstop can find the event.
    const watcher = new BoardWatcher("mem:backstop", { source, intervalMs: HOUR, backstopMs: 20 });
    const sub = await watcher.subscribe();
    board.add();
    expect(ids(await sub.queue.take())).toEqual([1]);
    sub.close();
  });

  it("without a wake-up source polls at its interval, and its backstop setting is unused", async () => {
    const board = memoryBoard();
    const watcher = new BoardWatcher("mem:plain", {
      source: { open: async () => ({ reader: board, release: () => {} }) },
      intervalMs: 20,
      backstopMs: HOUR,
    });
    const sub = await watcher.subscribe();
    expect(watcher.woken).toBe(false);
    board.add();
    expect(ids(await sub.queue.take())).toEqual([1]);
    sub.close();
  });

  it("watches before reading its cursor, and a wake-up that comes while it starts is not dropped", async () => {
    const board = memoryBoard();
    const { source, counts, fire } = wokenSource(board);
    // The event commits, and its notification arrives, while the cursor read is in flight and after
    // the snapshot it reads: the watcher must read again once started.
    let first = true;
    const reader: LiveBoardReader = {
      latestEventId: async () => {
        const cursor = await board.latestEventId();
        if (first) {
          first = false;
          board.add();
          fire();
        }
        return cursor;
      },
      liveEventRows: (a, l) => board.liveEventRows(a, l),
    };
    const watcher = new BoardWatcher("mem:starting", {
      source: { ...source, open: async () => ({ reader, release: () => {} }) },
      intervalMs: HOUR,
      backstopMs: HOUR,
    });
    const sub = await watcher.subscribe();
    expect(counts.watched).toBe(1);
    expect(ids(await sub.queue.take())).toEqual([1]);
    sub.close();
  });

  it("stops watching and releases its board when the last subscriber leaves", async () => {
    const board = memoryBoard();
    const { source, counts, fire } = wokenSource(board);
    const hub = new LiveHub({ intervalMs: HOUR, backstopMs: HOUR });
    const watcher = hub.watcherFor("mem:idle", source);
    const a = await watcher.subscribe();
    const b = await hub.watcherFor("mem:idle", source).subscribe();
    expect(hub.size).toBe(1);
    expect(counts).toEqual({ watched: 1, unwatched: 0, opened: 1, released: 0 });
    a.close();
    b.close();
    expect(counts).toEqual({ watched: 1, unwatched: 1, opened: 1, released: 1 });
    expect(hub.size).toBe(0);
    const before = board.latestReads;
    fire(); // nobody listens any more
    await new Promise((r) => setImmediate(r));
    expect(board.latestReads).toBe(before);
  });

  it("a watcher stopped while its source opens gives the board back", async () => {
    const board = memoryBoard();
    const { source, counts } = wokenSource(board);
    const watcher = new BoardWatcher("mem:stop-opening", { source, intervalMs: HOUR, backstopMs: HOUR });
    const subscribing = watcher.subscribe();
    watcher.stop();
    await subscribing;
    expect(counts).toEqual({ watched: 0, unwatched: 0, opened: 1, released: 1 });
  });
});

describe("a PostgreSQL board's watcher (pgLiveSource, pgWatcher)", () => {
  /** A listener double with the real interface: the test plays the notifications and the reconnect. */
  function fakeListener() {
    const subs = new Map<string, Set<PgBoardEventHandler>>();
    const listener: PgEventListener = {
      mode: "listen",
      target: { host: "h", port: 5432, database: "d", user: null, label: "h:5432/d" },
      backendPid: 1,
      reconnects: 0,
      subscribe(slug, handler) {
        const set = subs.get(slug) ?? new Set();
        subs.set(slug, set);
        set.add(handler);
        return () => set.delete(handler);
      },
      close: async () => {},
    };
    return {
      listener,
      notify: (slug: string, id: number) => {
        for (const h of subs.get(slug) ?? []) h.onEvent(id);
      },
      resync: () => {
        for (const set of subs.values()) for (const h of set) h.onResync();
      },
      count: (slug: string) => subs.get(slug)?.size ?? 0,
    };
  }

  it("a notification for its board, and a reconnect, each wake it; another board's notification does not", async () => {
    const alpha = memoryBoard();
    const fake = fakeListener();
    const hub = new LiveHub({ intervalMs: HOUR, backstopMs: HOUR, pgEvents: fake.listener });
    const watcher = hub.pgWatcher("alpha", () => alpha);
    const sub = await watcher.subscribe();
    expect(fake.count("alpha")).toBe(1);

    alpha.add();
    fake.notify("beta", 1);
    await new Promise((r) => setImmediate(r));
    expect(sub.queue.length).toBe(0);
    fake.notify("alpha", 1);
    expect(ids(await sub.queue.take())).toEqual([1]);

    // Committed while the listener was down: no notification, only the reconnect's resync.
    alpha.add();
    fake.resync();
    expect(ids(await sub.queue.take())).toEqual([2]);

    sub.close();
    expect(fake.count("alpha")).toBe(0);
    expect(hub.size).toBe(0);
  });

  it("reads through the board the process has, looked up at each read", async () => {
    let current = memoryBoard();
    const fake = fakeListener();
    const watcher = new BoardWatcher("postgres:x", {
      source: pgLiveSource({ board: () => current, slug: "x", events: fake.listener }),
      intervalMs: HOUR,
      backstopMs: HOUR,
    });
    const sub = await watcher.subscribe();
    // The registry reopened the board: the next read goes to the new one.
    const reopened = memoryBoard();
    reopened.add(2);
    current = reopened;
    fake.notify("x", 2);
    expect(ids(await sub.queue.take())).toEqual([1, 2]);
    sub.close();
  });

  it("without a listener, a PostgreSQL board is polled at the plain interval", async () => {
    const board = memoryBoard();
    const hub = new LiveHub({ intervalMs: 20, backstopMs: HOUR });
    const watcher = hub.pgWatcher("solo", () => board);
    const sub = await watcher.subscribe();
    expect(watcher.woken).toBe(false);
    board.add();
    expect(ids(await sub.queue.take())).toEqual([1]);
    sub.close();
    await waitFor(() => hub.size === 0, "the idle watcher to go");
  });
});
