import { index, pgTable, uniqueIndex } from "drizzle-orm/pg-core";
import { autoincrementId, integer, text } from "./columns.ts";

/** `kanban_notify_rules` on PostgreSQL (see `../schema/notify-rules.ts`). */
export const kanbanNotifyRules = pgTable(
  "kanban_notify_rules",
  {
    id: autoincrementId("id"),
    scope: text("scope").notNull(),
    scopeKey: text("scope_key").notNull().default(""),
    platform: text("platform").notNull(),
    chatId: text("chat_id").notNull(),
    threadId: text("thread_id").notNull().default(""),
    userId: text("user_id"),
    chatType: text("chat_type"),
    notifierProfile: text("notifier_profile"),
    deliveryMode: text("delivery_mode").notNull().default("notify"),
    deliveryMetadata: text("delivery_metadata"),
    tenant: text("tenant"),
    createdAt: integer("created_at").notNull(),
    lastIncidentId: integer("last_incident_id").notNull().default(0),
  },
  (t) => [
    uniqueIndex("idx_notify_rules_key").on(t.scope, t.scopeKey, t.platform, t.chatId, t.threadId),
    index("idx_notify_rules_scope").on(t.scope, t.scopeKey),
  ],
);

/** `kanban_notify_deliveries` on PostgreSQL (see `../schema/notify-rules.ts`). */
export const kanbanNotifyDeliveries = pgTable(
  "kanban_notify_deliveries",
  {
    id: autoincrementId("id"),
    taskId: text("task_id").notNull(),
    platform: text("platform").notNull(),
    chatId: text("chat_id").notNull(),
    threadId: text("thread_id").notNull().default(""),
    ruleId: integer("rule_id"),
    eventId: integer("event_id"),
    incidentId: integer("incident_id"),
    kind: text("kind").notNull(),
    outcome: text("outcome").notNull(),
    httpStatus: integer("http_status"),
    error: text("error"),
    attemptedAt: integer("attempted_at").notNull(),
    durationMs: integer("duration_ms"),
  },
  (t) => [index("idx_notify_deliveries_sub").on(t.taskId, t.platform, t.chatId, t.threadId, t.id)],
);
