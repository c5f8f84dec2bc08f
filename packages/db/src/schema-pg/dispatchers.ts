import { index, pgTable } from "drizzle-orm/pg-core";
import { integer, text } from "./columns.ts";

/**
 * `kanban_dispatchers`: PostgreSQL only (Hermes has no such table, and SQLite boards must stay
 * Hermes-compatible, so ../schema has no twin; on SQLite the same facts live in
 * `<home>/kanban/dispatcher.json`). One row per dispatcher process that has served this board,
 * written by that dispatcher alone through `@kanban/kernel`'s coordination: several dispatchers on
 * several hosts may serve one board, and the board shows each of them.
 *
 * - `id`: random per process start (a pid alone repeats across hosts and restarts).
 * - times are unix seconds from the dispatcher's injected clock; `heartbeat_at` moves on every tick,
 *   so a reader judges a silent dispatcher by `heartbeat_at` against `interval_seconds`.
 * - `last_tick`: the last tick's summary for this board, JSON as text (like every JSON column here).
 * - `stopped_at`: set by a graceful stop; a killed dispatcher never sets it (its session-level
 *   advisory lock tells readers it is gone).
 */
export const kanbanDispatchers = pgTable(
  "kanban_dispatchers",
  {
    id: text("id").primaryKey(),
    host: text("host").notNull(),
    pid: integer("pid").notNull(),
    startedAt: integer("started_at").notNull(),
    heartbeatAt: integer("heartbeat_at").notNull(),
    intervalSeconds: integer("interval_seconds").notNull(),
    ticks: integer("ticks").notNull().default(0),
    lastTickAt: integer("last_tick_at"),
    lastTick: text("last_tick"),
    stoppedAt: integer("stopped_at"),
  },
  (t) => [index("idx_dispatchers_heartbeat").on(t.heartbeatAt)],
);
