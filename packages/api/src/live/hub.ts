import path from "node:path";
import type { Logger } from "../logger.ts";
import { BoardWatcher } from "./watcher.ts";

/**
 * The watchers of one process: exactly one per board database, created by its first subscriber and
 * stopped (its connection closed) when the last one leaves.
 */
export class LiveHub {
  private readonly watchers = new Map<string, BoardWatcher>();

  constructor(private readonly opts: { intervalMs?: number; logger?: Logger } = {}) {}

  watcher(dbPath: string): BoardWatcher {
    const key = path.resolve(dbPath);
    let w = this.watchers.get(key);
    if (!w) {
      w = new BoardWatcher(key, {
        intervalMs: this.opts.intervalMs,
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

  /** Ends every stream of one board (it was removed): its subscribers see their stream complete. */
  stopBoard(dbPath: string): void {
    const key = path.resolve(dbPath);
    this.watchers.get(key)?.stop();
    this.watchers.delete(key);
  }

  close(): void {
    for (const w of this.watchers.values()) w.stop();
    this.watchers.clear();
  }
}
