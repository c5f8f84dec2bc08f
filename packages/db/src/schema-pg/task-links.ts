import { index, pgTable, primaryKey } from "drizzle-orm/pg-core";
import { text } from "./columns.ts";

/** `task_links` on PostgreSQL (see `../schema/task-links.ts`): no foreign keys, as in Hermes. */
export const taskLinks = pgTable(
  "task_links",
  {
    parentId: text("parent_id").notNull(),
    childId: text("child_id").notNull(),
  },
  (t) => [
    primaryKey({ name: "task_links_pkey", columns: [t.parentId, t.childId] }),
    index("idx_links_child").on(t.childId),
    index("idx_links_parent").on(t.parentId),
  ],
);
