import type { LiveEvent } from "./queue.ts";

function parsePayload(text: unknown): Record<string, unknown> | null {
  if (typeof text !== "string" || text === "") return null;
  try {
    const v = JSON.parse(text) as unknown;
    return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** A watcher row: the event as the kernel shapes it, plus tenant/assignee for filtering. Frozen: shared by all subscribers. */
export function eventFromRowForLive(r: Record<string, unknown>): LiveEvent {
  return Object.freeze({
    id: Number(r.id),
    task_id: String(r.task_id),
    run_id: r.run_id === null || r.run_id === undefined ? null : Number(r.run_id),
    kind: String(r.kind),
    payload: parsePayload(r.payload),
    created_at: Number(r.created_at),
    tenant: r.tenant === null || r.tenant === undefined ? null : String(r.tenant),
    assignee: r.assignee === null || r.assignee === undefined ? null : String(r.assignee),
  });
}
