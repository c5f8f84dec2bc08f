import { index, pgTable, primaryKey } from "drizzle-orm/pg-core";
import { integer, text } from "./columns.ts";

/** `kanban_notify_subs` on PostgreSQL (see `../schema/notify-subs.ts`). */
export const kanbanNotifySubs = pgTable(
  "kanban_notify_subs",
  {
    taskId: text("task_id").notNull(),
    platform: text("platform").notNull(),
    chatId: text("chat_id").notNull(),
    threadId: text("thread_id").notNull().default(""),
    userId: text("user_id"),
    userIdAlt: text("user_id_alt"),
    chatType: text("chat_type"),
    notifierProfile: text("notifier_profile"),
    deliveryMode: text("delivery_mode").notNull().default("notify"),
    deliveryMetadata: text("delivery_metadata"),
    createdAt: integer("created_at").notNull(),
    lastEventId: integer("last_event_id").notNull().default(0),
    lastPingEventId: integer("last_ping_event_id").notNull().default(0),
  },
  (t) => [
    primaryKey({ name: "kanban_notify_subs_pkey", columns: [t.taskId, t.platform, t.chatId, t.threadId] }),
    index("idx_notify_task").on(t.taskId),
  ],
);
