import { index, pgTable } from "drizzle-orm/pg-core";
import { autoincrementId, integer, text } from "./columns.ts";

/** `task_comments` on PostgreSQL (see `../schema/task-comments.ts`). */
export const taskComments = pgTable(
  "task_comments",
  {
    id: autoincrementId("id"),
    taskId: text("task_id").notNull(),
    author: text("author").notNull(),
    body: text("body").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("idx_comments_task").on(t.taskId, t.createdAt)],
);
