import { index, primaryKey, sqliteTable } from "drizzle-orm/sqlite-core";
import { text } from "./hermes-columns.ts";

/** `task_links`: dependency edges (parent must finish before child runs). No foreign keys, as in Hermes. */
export const taskLinks = sqliteTable(
  "task_links",
  {
    parentId: text("parent_id").notNull(),
    childId: text("child_id").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.parentId, t.childId] }),
    index("idx_links_child").on(t.childId),
    index("idx_links_parent").on(t.parentId),
  ],
);
