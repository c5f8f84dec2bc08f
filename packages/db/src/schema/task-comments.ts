import { index, sqliteTable } from "drizzle-orm/sqlite-core";
import { integer, text } from "./hermes-columns.ts";

/** `task_comments`: the human/agent discussion thread of a task. */
export const taskComments = sqliteTable(
  "task_comments",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    taskId: text("task_id").notNull(),
    author: text("author").notNull(),
    body: text("body").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("idx_comments_task").on(t.taskId, t.createdAt)],
);
