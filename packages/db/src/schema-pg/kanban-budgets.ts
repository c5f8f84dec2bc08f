import { pgTable, uniqueIndex } from "drizzle-orm/pg-core";
import { autoincrementId, integer, text } from "./columns.ts";

/** `kanban_budgets` on PostgreSQL (see `../schema/kanban-budgets.ts`). */
export const kanbanBudgets = pgTable(
  "kanban_budgets",
  {
    id: autoincrementId("id"),
    scope: text("scope").notNull(),
    scopeKey: text("scope_key").notNull(),
    tenant: text("tenant").notNull().default(""),
    limitMicroUsd: integer("limit_micro_usd").notNull(),
    warnPercent: integer("warn_percent").notNull().default(80),
    allowanceMicroUsd: integer("allowance_micro_usd").notNull().default(0),
    allowancePeriod: integer("allowance_period"),
    warnedPeriod: integer("warned_period"),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [uniqueIndex("idx_budgets_scope").on(t.scope, t.scopeKey, t.tenant)],
);
