import { sqliteTable, uniqueIndex } from "drizzle-orm/sqlite-core";
import { integer, text } from "./hermes-columns.ts";

/**
 * `kanban_budgets`: spending limits that pause work (issue 21). Not a Hermes table. One row per
 * scope, owner and key; the spend it limits is read from `kanban_usage`, never stored twice.
 *
 * - `scope` / `scope_key`: `card` + a task id (the card with every card below it, as the usage
 *   roll-up of a task counts it), `board` + `*` (the whole board), `profile` + an assignee, or
 *   `tenant` + a tenant. A card's limit is for the card's whole life; the others are per UTC day.
 * - `tenant`: whose budget it is, `''` for the operator's. A tenant's budget counts only its own
 *   usage, and a tenant reads and sets only its own rows. Not NULL on purpose: NULLs are distinct in
 *   a unique index on both engines, and the operator's row must be as unique as a tenant's.
 * - `limit_micro_usd`: the limit in whole micro-dollars, like every sum of `kanban_usage`.
 * - `warn_percent`: the share of the limit (1-100) at which a `budget_warning` event is recorded;
 *   a whole percent rather than a REAL, so no float is ever compared with money.
 * - `allowance_micro_usd` / `allowance_period`: "allow N more" on top of the limit, for the period
 *   it was granted in (the UTC day number; `0` for a card, whose period is its whole life), so an
 *   allowance given today does not raise tomorrow's limit.
 * - `warned_period`: the period whose warning was recorded, so it is recorded once per period.
 */
export const kanbanBudgets = sqliteTable(
  "kanban_budgets",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
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
