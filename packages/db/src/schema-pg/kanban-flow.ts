import { index, pgTable, primaryKey } from "drizzle-orm/pg-core";
import { integer, text } from "./columns.ts";

// The flow ledger on PostgreSQL (see `../schema/kanban-flow.ts`): derived tables the kernel rebuilds
// from tasks, runs and events, which `kanban db copy` does not carry.

/** `kanban_flow_state` on PostgreSQL: how far the ledger has got, in a single row (`id` 1). */
export const kanbanFlowState = pgTable("kanban_flow_state", {
  id: integer("id").primaryKey(),
  version: integer("version").notNull(),
  eventId: integer("event_id").notNull(),
  rebuildAfter: text("rebuild_after"),
});

/** `kanban_flow_cards` on PostgreSQL: one row per done card and its flow figures. */
export const kanbanFlowCards = pgTable(
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

/** `kanban_flow_hist` on PostgreSQL: per tenant, UTC day and metric, a histogram of the done cards' figures. */
export const kanbanFlowHist = pgTable(
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
  (t) => [
    primaryKey({ name: "kanban_flow_hist_pkey", columns: [t.tenant, t.day, t.metric, t.bucket] }),
    index("idx_flow_hist_day").on(t.day),
  ],
);

/** `kanban_flow_ready` on PostgreSQL: each ready card and when it last came into the ready lane. */
export const kanbanFlowReady = pgTable(
  "kanban_flow_ready",
  {
    taskId: text("task_id").primaryKey(),
    tenant: text("tenant").notNull(),
    readySince: integer("ready_since").notNull(),
  },
  (t) => [index("idx_flow_ready_since").on(t.readySince), index("idx_flow_ready_tenant").on(t.tenant, t.readySince)],
);

/** `kanban_flow_blocks` on PostgreSQL: every blocked episode of every card (`ended_at` NULL while open). */
export const kanbanFlowBlocks = pgTable(
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
    primaryKey({ name: "kanban_flow_blocks_pkey", columns: [t.taskId, t.seq] }),
    index("idx_flow_blocks_start").on(t.startedAt),
    index("idx_flow_blocks_tenant").on(t.tenant, t.startedAt),
  ],
);
