import { index, primaryKey, sqliteTable } from "drizzle-orm/sqlite-core";
import { integer, text } from "./hermes-columns.ts";

// The flow ledger (issue 21): flow metrics kept up to date event by event, so that a flow report
// reads a handful of rows rather than every card's history. Not Hermes tables, and derived data:
// every row follows from `tasks`, `task_runs` and `task_events`, and the kernel rebuilds all five
// tables whenever `kanban_flow_state` has no row. That is why `kanban db copy` leaves them behind
// (`isDerivedTable` in ../copy/tables.ts). Times and durations are unix seconds, like Hermes'.

/**
 * `kanban_flow_state`: how far the ledger has got, in a single row (`id` 1).
 *
 * - `version`: the format version of the ledger's rows.
 * - `event_id`: the last `task_events` id the ledger has taken into account; the next update starts
 *   after it.
 * - `rebuild_after`: while a rebuild is under way, the last task id it has finished, so the rebuild
 *   goes on from there; NULL when none is under way.
 */
export const kanbanFlowState = sqliteTable("kanban_flow_state", {
  id: integer("id").primaryKey(),
  version: integer("version").notNull(),
  eventId: integer("event_id").notNull(),
  rebuildAfter: text("rebuild_after"),
});

/**
 * `kanban_flow_cards`: one row per done card, holding what that card contributes to the board's
 * flow figures. Every figure is in seconds except `runs`, a count.
 *
 * - `tenant`: the card's tenant, `''` for none (not NULL, so per-tenant reads go through one index).
 * - `completed_at`: when the card was done.
 * - `cycle`: from the card's first claim to done; NULL for a card that was never claimed.
 * - `lead`: from the card's creation to done.
 * - `running` / `blocked` / `waiting`: the lead time split three ways: being worked on, blocked, and
 *   the rest (waiting in any other lane).
 * - `runs`: how many runs the card took.
 */
export const kanbanFlowCards = sqliteTable(
  "kanban_flow_cards",
  {
    taskId: text("task_id").primaryKey(),
    tenant: text("tenant").notNull().default(""),
    completedAt: integer("completed_at").notNull(),
    cycle: integer("cycle"),
    lead: integer("lead").notNull(),
    running: integer("running").notNull(),
    blocked: integer("blocked").notNull(),
    waiting: integer("waiting").notNull(),
    runs: integer("runs").notNull(),
  },
  (t) => [index("idx_flow_cards_done").on(t.completedAt), index("idx_flow_cards_tenant").on(t.tenant, t.completedAt)],
);

/**
 * `kanban_flow_hist`: histograms of the done cards' figures, one per tenant, UTC day and metric, so
 * that percentiles over a period add up a few rows per day rather than one per card.
 *
 * - `day`: the UTC day the cards were done on, as a unix day number (seconds / 86,400).
 * - `metric`: which figure of `kanban_flow_cards` the histogram counts (numbered by the kernel).
 * - `bucket`: a logarithmic range of values; `n` cards fell in it, `total` is the sum of their
 *   values, `min_value` / `max_value` the smallest and the largest.
 */
export const kanbanFlowHist = sqliteTable(
  "kanban_flow_hist",
  {
    tenant: text("tenant").notNull(),
    day: integer("day").notNull(),
    metric: integer("metric").notNull(),
    bucket: integer("bucket").notNull(),
    n: integer("n").notNull(),
    total: integer("total").notNull(),
    minValue: integer("min_value").notNull(),
    maxValue: integer("max_value").notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenant, t.day, t.metric, t.bucket] }), index("idx_flow_hist_day").on(t.day)],
);

/**
 * `kanban_flow_ready`: every card in the ready lane and when it last came into it (`ready_since`),
 * so the age of the ready queue is read without the event log.
 */
export const kanbanFlowReady = sqliteTable(
  "kanban_flow_ready",
  {
    taskId: text("task_id").primaryKey(),
    tenant: text("tenant").notNull(),
    readySince: integer("ready_since").notNull(),
  },
  (t) => [index("idx_flow_ready_since").on(t.readySince), index("idx_flow_ready_tenant").on(t.tenant, t.readySince)],
);

/**
 * `kanban_flow_blocks`: each time a card was blocked, one row per episode (`seq` numbers a card's
 * episodes), with the reason given, when it began and when it ended (`ended_at` NULL while the card
 * is still blocked).
 */
export const kanbanFlowBlocks = sqliteTable(
  "kanban_flow_blocks",
  {
    taskId: text("task_id").notNull(),
    seq: integer("seq").notNull(),
    tenant: text("tenant").notNull(),
    reason: text("reason").notNull(),
    startedAt: integer("started_at").notNull(),
    endedAt: integer("ended_at"),
  },
  (t) => [
    primaryKey({ columns: [t.taskId, t.seq] }),
    index("idx_flow_blocks_start").on(t.startedAt),
    index("idx_flow_blocks_tenant").on(t.tenant, t.startedAt),
  ],
);
