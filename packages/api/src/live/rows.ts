import type { LiveEventRow } from "@kanban/kernel";
import type { LiveEvent } from "./queue.ts";

/** A watcher row as the kernel decodes it, frozen: one object is shared by all subscribers. */
export function eventFromRowForLive(row: LiveEventRow): LiveEvent {
  return Object.freeze(row);
}
