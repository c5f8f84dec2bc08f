import { pgTable, uniqueIndex } from "drizzle-orm/pg-core";
import { autoincrementId, integer, text } from "./columns.ts";

/** `kanban_views` on PostgreSQL (see `../schema/kanban-views.ts`). */
export const kanbanViews = pgTable(
  "kanban_views",
  {
    id: autoincrementId("id"),
    name: text("name").notNull(),
    tenant: text("tenant").notNull().default(""),
    query: text("query").notNull(),
    createdBy: text("created_by"),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [uniqueIndex("idx_views_name").on(t.tenant, t.name)],
);
