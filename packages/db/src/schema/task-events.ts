import { index, sqliteTable } from "drizzle-orm/sqlite-core";
import { integer, text } from "./hermes-columns.ts";

/**
 * `task_events`: the append-only audit log. Its AUTOINCREMENT id is the monotonic cursor every
 * consumer (live subscriptions, notifiers) resumes from, so ids are never reused.
 */
export const taskEvents = sqliteTable(
  "task_events",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    taskId: text("task_id").notNull(),
    runId: integer("run_id"),
    kind: text("kind").notNull(),
    payload: text("payload"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("idx_events_task").on(t.taskId, t.createdAt), index("idx_events_run").on(t.runId, t.id)],
);
