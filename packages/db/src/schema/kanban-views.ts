import { sqliteTable, uniqueIndex } from "drizzle-orm/sqlite-core";
import { integer, text } from "./hermes-columns.ts";

/**
 * `kanban_views`: a board's saved views by name (issue 19). Not a Hermes table. A view is the
 * board's filters as the URL holds them, kept under a name so a team opens the same view.
 *
 * - `tenant`: whose view it is, `''` for the operator's. A tenant lists, saves and deletes only its
 *   own; not NULL for the same reason as `kanban_budgets.tenant` (a unique index).
 * - `query`: the filters as JSON (`search`, `tenant`, `assignee`, `include_archived`).
 * - `created_by`: who saved it last (the board's display name or the CLI's author), or NULL.
 */
export const kanbanViews = sqliteTable(
  "kanban_views",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    name: text("name").notNull(),
    tenant: text("tenant").notNull().default(""),
    query: text("query").notNull(),
    createdBy: text("created_by"),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [uniqueIndex("idx_views_name").on(t.tenant, t.name)],
);
