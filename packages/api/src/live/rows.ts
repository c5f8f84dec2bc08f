import { eventFromRow } from "@kanban/kernel";
import type { LiveEvent } from "./queue.ts";

/** A watcher row: the event as the kernel shapes it, plus tenant/assignee for filtering. Frozen: shared by all subscribers. */
export function eventFromRowForLive(r: Record<string, unknown>): LiveEvent {
  return Object.freeze({
    ...eventFromRow(r),
    tenant: r.tenant === null || r.tenant === undefined ? null : String(r.tenant),
    assignee: r.assignee === null || r.assignee === undefined ? null : String(r.assignee),
  });
}
