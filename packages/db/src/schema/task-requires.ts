import { index, primaryKey, sqliteTable } from "drizzle-orm/sqlite-core";
import { text } from "./hermes-columns.ts";

/**
 * `kanban_task_requires`: the labels a task requires of the host that claims it (`kanban create
 * --requires macos`). A side table rather than a column, so Hermes' `tasks` stays column for column
 * Hermes'. No foreign key, as in Hermes' own tables: the kernel deletes a task's rows with the task.
 */
export const kanbanTaskRequires = sqliteTable(
  "kanban_task_requires",
  {
    taskId: text("task_id").notNull(),
    label: text("label").notNull(),
  },
  (t) => [primaryKey({ columns: [t.taskId, t.label] }), index("idx_task_requires_label").on(t.label)],
);
