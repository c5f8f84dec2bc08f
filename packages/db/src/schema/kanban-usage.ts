import { index, sqliteTable } from "drizzle-orm/sqlite-core";
import { integer, text } from "./hermes-columns.ts";

/**
 * `kanban_usage`: what a worker's run consumed, one row per report (issue 21). Not a Hermes table.
 * A worker reports with its heartbeat, its terminal call (complete, block) or on its own; each row
 * is the usage since the previous report of the same run, so a run's usage is the sum of its rows.
 *
 * - `profile` / `tenant`: the task's assignee and tenant when the report arrived, kept on the row so
 *   a roll-up by profile or tenant needs no join and does not move when the card is reassigned.
 * - `cost_micro_usd`: money as whole micro-dollars (never a float): the worker's own figure
 *   (`cost_source` 'worker'), or tokens times the price table of config.json ('price_table'); NULL
 *   when neither was known.
 * - `via`: which call carried the report (`heartbeat`, `complete`, `block` or `report`).
 */
export const kanbanUsage = sqliteTable(
  "kanban_usage",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
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
