import { index, sqliteTable } from "drizzle-orm/sqlite-core";
import { integer, text } from "./hermes-columns.ts";

/**
 * `task_attachments`: created so that boards written by newer Hermes versions (which have this
 * table) and boards we create have the same shape. v1 does not write it.
 */
export const taskAttachments = sqliteTable(
  "task_attachments",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
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
