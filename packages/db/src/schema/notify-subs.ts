import { index, primaryKey, sqliteTable } from "drizzle-orm/sqlite-core";
import { integer, text } from "./hermes-columns.ts";

/** `kanban_notify_subs`: chat/gateway subscriptions to a task's events, with a delivery cursor. */
export const kanbanNotifySubs = sqliteTable(
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
  (t) => [primaryKey({ columns: [t.taskId, t.platform, t.chatId, t.threadId] }), index("idx_notify_task").on(t.taskId)],
);
