import { index, pgTable } from "drizzle-orm/pg-core";
import { autoincrementId, integer, text } from "./columns.ts";

/** `task_attachments` on PostgreSQL (see `../schema/task-attachments.ts`; v1 does not write it). */
export const taskAttachments = pgTable(
  "task_attachments",
  {
    id: autoincrementId("id"),
    taskId: text("task_id").notNull(),
    filename: text("filename").notNull(),
    storedPath: text("stored_path").notNull(),
    contentType: text("content_type"),
    size: integer("size").notNull().default(0),
    uploadedBy: text("uploaded_by"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("idx_attachments_task").on(t.taskId, t.createdAt)],
);
