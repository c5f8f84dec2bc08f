import { index, sqliteTable, uniqueIndex } from "drizzle-orm/sqlite-core";
import { integer, text } from "./hermes-columns.ts";

/**
 * `kanban_notify_rules`: subscriptions wider than one card. Not a Hermes table. A rule gives every
 * matching card a `kanban_notify_subs` row of its own (when the card is created, or assigned to the
 * rule's profile), so delivery keeps Hermes' per-card cursor semantics; the rule itself receives the
 * board-wide messages (incidents).
 *
 * - `scope` / `scope_key`: `board` + '' (every card), or `assignee` + a profile name.
 * - `platform`, `chat_id`, `thread_id`, ...: the subscription every matched card gets.
 * - `tenant`: the rule only matches that tenant's cards (NULL: an operator's rule, every card).
 * - `last_incident_id`: the newest incident already delivered to this rule (its cursor).
 */
export const kanbanNotifyRules = sqliteTable(
  "kanban_notify_rules",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
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

/**
 * `kanban_notify_deliveries`: the delivery log. One row per attempt to deliver one event (or a test
 * message, or an incident) to one subscription, whatever came of it. Not a Hermes table. The
 * notifier also reads its own back-off from it: the failures since the last success.
 *
 * - `task_id` .. `thread_id`: the subscription (for a rule's incident message, `task_id` is '' and
 *   `rule_id` is set).
 * - `outcome`: `delivered`, `failed` (counted towards dropping the subscription), `network`
 *   (backed off, not counted), `dropped` (the subscription was removed), `test`.
 */
export const kanbanNotifyDeliveries = sqliteTable(
  "kanban_notify_deliveries",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
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
