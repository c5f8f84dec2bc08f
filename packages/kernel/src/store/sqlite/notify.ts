import type { SqlContext } from "./session.ts";
import { parseJsonObject } from "../../rows.ts";

// Chat subscriptions to a task's events (`kanban_notify_subs`) and their delivery cursors (notify.ts).

export interface NotifySubKey {
  task_id: string;
  platform: string;
  chat_id: string;
  thread_id?: string | null;
}

export interface NotifySub {
  task_id: string;
  platform: string;
  chat_id: string;
  thread_id: string;
  user_id: string | null;
  user_id_alt: string | null;
  chat_type: string | null;
  notifier_profile: string | null;
  delivery_mode: string;
  delivery_metadata: Record<string, unknown> | null;
  created_at: number;
  last_event_id: number;
}

/** A new subscription row: `delivery_metadata` is already JSON text (or null). */
export type NewNotifySub = Omit<NotifySub, "delivery_metadata" | "thread_id"> & {
  thread_id: string;
  delivery_metadata: string | null;
};

/** The fields a repeated subscribe may change; `delivery_metadata` is JSON text (or null). */
export interface NotifySubUpdate {
  user_id: string | null;
  user_id_alt: string | null;
  chat_type: string | null;
  notifier_profile: string | null;
  delivery_mode: string;
  delivery_metadata: string | null;
}

function subFromRow(r: Record<string, unknown>): NotifySub {
  return {
    task_id: String(r.task_id),
    platform: String(r.platform),
    chat_id: String(r.chat_id),
    thread_id: String(r.thread_id ?? ""),
    user_id: (r.user_id as string | null) ?? null,
    user_id_alt: (r.user_id_alt as string | null) ?? null,
    chat_type: (r.chat_type as string | null) ?? null,
    notifier_profile: (r.notifier_profile as string | null) ?? null,
    delivery_mode: String(r.delivery_mode ?? "notify"),
    delivery_metadata: parseJsonObject(r.delivery_metadata),
    created_at: Number(r.created_at),
    last_event_id: Number(r.last_event_id ?? 0),
  };
}

const keyWhere = "task_id = ? AND platform = ? AND chat_id = ? AND thread_id = ?";
const keyArgs = (k: NotifySubKey) => [k.task_id, k.platform, k.chat_id, k.thread_id ?? ""];

/** The subscription with this key, or null. */
export async function notifySub(ctx: SqlContext, key: NotifySubKey): Promise<NotifySub | null> {
  const row = (await ctx.get(`SELECT * FROM kanban_notify_subs WHERE ${keyWhere}`, ...keyArgs(key))) as
    | Record<string, unknown>
    | undefined;
  return row ? subFromRow(row) : null;
}

export async function insertNotifySub(ctx: SqlContext, sub: NewNotifySub): Promise<void> {
  await ctx.run(
    `INSERT INTO kanban_notify_subs (task_id, platform, chat_id, thread_id, user_id, user_id_alt, chat_type,
             notifier_profile, delivery_mode, delivery_metadata, created_at, last_event_id)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    sub.task_id,
    sub.platform,
    sub.chat_id,
    sub.thread_id,
    sub.user_id,
    sub.user_id_alt,
    sub.chat_type,
    sub.notifier_profile,
    sub.delivery_mode,
    sub.delivery_metadata,
    sub.created_at,
    sub.last_event_id,
  );
}

export async function updateNotifySub(ctx: SqlContext, key: NotifySubKey, fields: NotifySubUpdate): Promise<void> {
  await ctx.run(
    `UPDATE kanban_notify_subs SET user_id = ?, user_id_alt = ?, chat_type = ?, notifier_profile = ?, delivery_mode = ?,
             delivery_metadata = ? WHERE ${keyWhere}`,
    fields.user_id,
    fields.user_id_alt,
    fields.chat_type,
    fields.notifier_profile,
    fields.delivery_mode,
    fields.delivery_metadata,
    ...keyArgs(key),
  );
}

/** One task's subscriptions (by creation), or every subscription (by task, then creation). */
export async function notifySubs(ctx: SqlContext, taskId?: string | null): Promise<NotifySub[]> {
  const rows = taskId
    ? await ctx.all("SELECT * FROM kanban_notify_subs WHERE task_id = ? ORDER BY created_at, platform, chat_id", taskId)
    : await ctx.all("SELECT * FROM kanban_notify_subs ORDER BY task_id, created_at, platform, chat_id");
  return (rows as Record<string, unknown>[]).map(subFromRow);
}

export async function deleteNotifySub(ctx: SqlContext, key: NotifySubKey): Promise<boolean> {
  return (await ctx.run(`DELETE FROM kanban_notify_subs WHERE ${keyWhere}`, ...keyArgs(key))).changes > 0;
}

/** The subscription's cursor (the last event id it was given), or null when there is no such subscription. */
export async function notifyCursor(ctx: SqlContext, key: NotifySubKey): Promise<number | null> {
  const sub = (await ctx.get(`SELECT last_event_id FROM kanban_notify_subs WHERE ${keyWhere}`, ...keyArgs(key))) as
    | { last_event_id: number }
    | undefined;
  return sub ? sub.last_event_id : null;
}

/** Moves the cursor to `next` if it still is `expected` (compare-and-swap); false when it moved meanwhile. */
export async function swapNotifyCursor(
  ctx: SqlContext,
  key: NotifySubKey,
  next: number,
  expected: number,
): Promise<boolean> {
  return (
    (
      await ctx.run(
        `UPDATE kanban_notify_subs SET last_event_id = ? WHERE ${keyWhere} AND last_event_id = ?`,
        next,
        ...keyArgs(key),
        expected,
      )
    ).changes === 1
  );
}

/** Moves the cursor forward to `next`; false when it was already there or past it. */
export async function raiseNotifyCursor(ctx: SqlContext, key: NotifySubKey, next: number): Promise<boolean> {
  return (
    (
      await ctx.run(
        `UPDATE kanban_notify_subs SET last_event_id = ? WHERE ${keyWhere} AND last_event_id < ?`,
        next,
        ...keyArgs(key),
        next,
      )
    ).changes === 1
  );
}

/** The tenants of two tasks (a task that does not exist is absent). */
export async function tenantsOfPair(
  ctx: SqlContext,
  a: string,
  b: string,
): Promise<{ id: string; tenant: string | null }[]> {
  return (await ctx.all("SELECT id, tenant FROM tasks WHERE id IN (?, ?)", a, b)) as {
    id: string;
    tenant: string | null;
  }[];
}

/** Gives `toTask` a copy of each of `fromTask`'s subscriptions it lacks, its cursor at `toTask`'s newest event. */
export async function copySubscriptions(ctx: SqlContext, fromTask: string, toTask: string, at: number): Promise<void> {
  await ctx.run(
    `INSERT INTO kanban_notify_subs (task_id, platform, chat_id, thread_id, user_id, user_id_alt, chat_type,
         notifier_profile, delivery_mode, delivery_metadata, created_at, last_event_id)
       SELECT ?, platform, chat_id, thread_id, user_id, user_id_alt, COALESCE(chat_type, 'dm'), notifier_profile,
         COALESCE(delivery_mode, 'notify'), delivery_metadata, ?, (SELECT COALESCE(MAX(id), 0) FROM task_events WHERE task_id = ?)
       FROM kanban_notify_subs WHERE task_id = ?
       ON CONFLICT DO NOTHING`,
    toTask,
    at,
    toTask,
    fromTask,
  );
}
