import path from "node:path";
import type { PgEventListener } from "@kanban/db";
import type { Logger } from "../logger.ts";
import { MAX_DELTA_IDS } from "@kanban/kernel";
import { DeltaMemo } from "./delta-memo.ts";
import { pgLiveSource } from "./pg-source.ts";
import { BoardWatcher, type LiveBoardReader, type LiveBoardSource } from "./watcher.ts";

export interface LiveHubOptions {
  /** Poll interval of a watcher nothing else wakes (SQLite boards; default 150 ms). */
  intervalMs?: number;
  /** Poll interval of a watcher that notifications wake: the backstop (default 5 s). */
  backstopMs?: number;
  logger?: Logger;
  /**
   * The process's listener for PostgreSQL boards (`openPgEventListener`, LISTEN or poll-only). The
   * hub does not own it: whoever opened it closes it, after `close()`. Without one, PostgreSQL
   * boards are polled every `intervalMs`.
   */
  pgEvents?: PgEventListener;
}

/**
 * The watchers of one process: exactly one per board database, created by its first subscriber and
 * stopped (its connection closed) when the last one leaves.
 */
export class LiveHub {
  private readonly watchers = new Map<string, BoardWatcher>();
  /** Board deltas read for a burst, shared by the viewers of the same view (`board.changes`). */
  readonly deltas = new DeltaMemo({ maxIds: MAX_DELTA_IDS });

  constructor(private readonly opts: LiveHubOptions = {}) {}

  /** The watcher of the SQLite board at `dbPath` (a connection of its own, polled). */
  watcher(dbPath: string): BoardWatcher {
    return this.watcherFor(path.resolve(dbPath));
  }

  /**
   * The watcher of the PostgreSQL board `slug`, read through `board` (the process's board, looked up
   * at each read) and woken by the hub's `pgEvents` listener.
   */
  pgWatcher(slug: string, board: () => LiveBoardReader): BoardWatcher {
    return this.watcherFor(pgWatcherKey(slug), pgLiveSource({ board, slug, events: this.opts.pgEvents }));
  }

  /**
   * The watcher under `key`, made from `source` by the first subscriber (default: the SQLite board at
   * path `key`). Any other engine plugs in here.
   */
  watcherFor(key: string, source?: LiveBoardSource): BoardWatcher {
    let w = this.watchers.get(key);
    if (!w) {
      w = new BoardWatcher(key, {
        intervalMs: this.opts.intervalMs,
        backstopMs: this.opts.backstopMs,
        source,
        logger: this.opts.logger,
        onIdle: (idle) => {
          if (this.watchers.get(key) === idle) this.watchers.delete(key);
        },
      });
      this.watchers.set(key, w);
    }
    return w;
  }

  /** Active watchers (one per board with subscribers). */
  get size(): number {
    return this.watchers.size;
  }

  /** After a write in this process: every watcher polls now instead of at its next tick. */
  pokeAll(): void {
    for (const w of this.watchers.values()) w.poke();
  }

  /** Ends every stream of one SQLite board (it was removed): its subscribers see their stream complete. */
  stopBoard(dbPath: string): void {
    this.stopKey(path.resolve(dbPath));
  }

  /** Ends every stream of one PostgreSQL board (it was removed). */
  stopPgBoard(slug: string): void {
    this.stopKey(pgWatcherKey(slug));
  }

  private stopKey(key: string): void {
    this.watchers.get(key)?.stop();
    this.watchers.delete(key);
  }

  close(): void {
    for (const w of this.watchers.values()) w.stop();
    this.watchers.clear();
  }
}

/** A PostgreSQL board's key among the watchers (never an absolute path, so never an SQLite board's). */
export function pgWatcherKey(slug: string): string {
  return `postgres:${slug}`;
}
