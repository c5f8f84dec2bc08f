import type { EventKind } from "../../constants.ts";
import type { Awaitable } from "../port.ts";
import type { SqlContext } from "./session.ts";

// Writes of the audit trail (`task_events`). Payloads are stored as JSON text, NULL for none.

/**
 * Appends one event to a task's history, stamped with the board's clock; returns its id. The kind is
 * one of the shared contract's, so the kernel never writes a kind Hermes and the board cannot name.
 */
export function appendEvent(
  ctx: SqlContext,
  taskId: string,
  kind: EventKind,
  payload: Record<string, unknown> | null,
  runId: number | null = null,
): Awaitable<number> {
  return ctx.insert(
    "INSERT INTO task_events (task_id, run_id, kind, payload, created_at) VALUES (?, ?, ?, ?, ?)",
    taskId,
    runId,
    kind,
    payload === null ? null : JSON.stringify(payload),
    ctx.now(),
  );
}
