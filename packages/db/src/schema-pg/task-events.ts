import { HALLUCINATION_EVENT_KINDS } from "@kanban/contract";
import { sql } from "drizzle-orm";
import { index, pgTable } from "drizzle-orm/pg-core";
import { autoincrementId, integer, text } from "./columns.ts";

/**
 * `task_events` on PostgreSQL (see `../schema/task-events.ts`). The id is the cursor consumers resume
 * from. Unlike SQLite's single writer, PostgreSQL hands out identity values before commit, so two
 * concurrent transactions may commit ids out of order: whoever reads "events after id N" from this
 * table must account for that (the store's job, not the schema's).
 */
export const taskEvents = pgTable(
  "task_events",
  {
    id: autoincrementId("id"),
    taskId: text("task_id").notNull(),
    runId: integer("run_id"),
    kind: text("kind").notNull(),
    payload: text("payload"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [
    index("idx_events_task").on(t.taskId, t.createdAt),
    index("idx_events_run").on(t.runId, t.id),
    // SQLite migration 0001: warning badges find hallucination events without scanning the log.
    index("idx_events_warnings")
      .on(t.taskId, t.id)
      .where(sql.raw(`"kind" IN (${HALLUCINATION_EVENT_KINDS.map((k) => `'${k}'`).join(", ")})`)),
  ],
);
