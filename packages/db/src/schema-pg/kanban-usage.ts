import { index, pgTable } from "drizzle-orm/pg-core";
import { autoincrementId, integer, text } from "./columns.ts";

/** `kanban_usage` on PostgreSQL (see `../schema/kanban-usage.ts`). */
export const kanbanUsage = pgTable(
  "kanban_usage",
  {
    id: autoincrementId("id"),
    taskId: text("task_id").notNull(),
    runId: integer("run_id"),
    profile: text("profile"),
    model: text("model"),
    tokensIn: integer("tokens_in").notNull().default(0),
    tokensOut: integer("tokens_out").notNull().default(0),
    cacheRead: integer("cache_read").notNull().default(0),
    cacheWrite: integer("cache_write").notNull().default(0),
    costMicroUsd: integer("cost_micro_usd"),
    costSource: text("cost_source"),
    via: text("via").notNull(),
    tenant: text("tenant"),
    reportedAt: integer("reported_at").notNull(),
  },
  (t) => [index("idx_usage_task").on(t.taskId, t.runId), index("idx_usage_reported").on(t.reportedAt)],
);
