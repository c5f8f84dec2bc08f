import { index, pgTable, primaryKey } from "drizzle-orm/pg-core";
import { text } from "./columns.ts";

/** `kanban_task_requires` on PostgreSQL (see `../schema/task-requires.ts`). */
export const kanbanTaskRequires = pgTable(
  "kanban_task_requires",
  {
    taskId: text("task_id").notNull(),
    label: text("label").notNull(),
  },
  (t) => [
    primaryKey({ name: "kanban_task_requires_pkey", columns: [t.taskId, t.label] }),
    index("idx_task_requires_label").on(t.label),
  ],
);
