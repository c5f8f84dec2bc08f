import type { BoardContext } from "./context.ts";
import { invalid, notFound } from "./errors.ts";
import { eventFromRow, parseJsonObject } from "./rows.ts";
import { storableJson } from "./stored-json.ts";
import type { TaskEvent } from "./types.ts";
import { tenantScope } from "./tenant-scope.ts";

export const DELIVERY_MODES = ["notify", "notify+wake", "wake"] as const;
export const CHAT_TYPES = ["dm", "group", "channel", "thread"] as const;

export interface NotifySubKey {
  task_id: string;
  platform: string;
  chat_id: string;
  thread_id?: string | null;
}

export interface NotifySubInput extends NotifySubKey {
  user_id?: string | null;
  user_id_alt?: string | null;
  chat_type?: string | null;
  notifier_profile?: string | null;
  delivery_mode?: string | null;
  delivery_metadata?: Record<string, string | number | boolean | null> | null;
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

function maxEventId(ctx: BoardContext, taskId: string): number {
  const r = ctx.stmt("SELECT COALESCE(MAX(id), 0) AS m FROM task_events WHERE task_id = ?").get(taskId) as {
    m: number;
  };
  return Number(r.m);
}

const keyWhere = "task_id = ? AND platform = ? AND chat_id = ? AND thread_id = ?";
const keyArgs = (k: NotifySubKey) => [k.task_id, k.platform, k.chat_id, k.thread_id ?? ""];

/**
 * Subscribes a chat to a task's events (idempotent on the key). New rows start caught up (cursor at
 * the task's newest event). On an existing row, chat type, delivery mode and metadata are
 * last-write-wins; user ids and owner only fill blanks; metadata dicts merge.
 */
export function addNotifySub(ctx: BoardContext, input: NotifySubInput): NotifySub {
  if (!input.platform?.trim()) throw invalid("platform is required");
  if (!input.chat_id?.trim()) throw invalid("chat_id is required");
  if (input.delivery_mode && !DELIVERY_MODES.includes(input.delivery_mode as (typeof DELIVERY_MODES)[number])) {
    throw invalid(`delivery_mode must be one of ${DELIVERY_MODES.join(", ")}`);
  }
  if (input.chat_type && !CHAT_TYPES.includes(input.chat_type as (typeof CHAT_TYPES)[number])) {
    throw invalid(`chat_type must be one of ${CHAT_TYPES.join(", ")}`);
  }
  return ctx.tx(() => {
    if (!ctx.getTask(input.task_id)) throw notFound(`unknown task ${input.task_id}`, { task_id: input.task_id });
    const key = { ...input, thread_id: input.thread_id ?? "" };
    const existing = ctx.stmt(`SELECT * FROM kanban_notify_subs WHERE ${keyWhere}`).get(...keyArgs(key)) as
      | Record<string, unknown>
      | undefined;
    if (!existing) {
      const mode = input.delivery_mode ?? (input.platform === "api_server" ? "notify+wake" : "notify");
      ctx
        .stmt(
          `INSERT INTO kanban_notify_subs (task_id, platform, chat_id, thread_id, user_id, user_id_alt, chat_type,
             notifier_profile, delivery_mode, delivery_metadata, created_at, last_event_id)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          key.task_id,
          key.platform,
          key.chat_id,
          key.thread_id,
          input.user_id ?? null,
          input.user_id_alt ?? null,
          input.chat_type ?? "dm",
          input.notifier_profile ?? null,
          mode,
          input.delivery_metadata ? storableJson(input.delivery_metadata, "delivery_metadata") : null,
          ctx.now(),
          maxEventId(ctx, key.task_id),
        );
    } else {
      const cur = subFromRow(existing);
      const meta = input.delivery_metadata
        ? { ...(cur.delivery_metadata ?? {}), ...input.delivery_metadata }
        : cur.delivery_metadata;
      ctx
        .stmt(
          `UPDATE kanban_notify_subs SET user_id = ?, user_id_alt = ?, chat_type = ?, notifier_profile = ?, delivery_mode = ?,
             delivery_metadata = ? WHERE ${keyWhere}`,
        )
        .run(
          cur.user_id || input.user_id || null,
          cur.user_id_alt || input.user_id_alt || null,
          input.chat_type ?? cur.chat_type,
          cur.notifier_profile || input.notifier_profile || null,
          input.delivery_mode ?? cur.delivery_mode,
          meta && Object.keys(meta).length > 0 ? storableJson(meta, "delivery_metadata") : null,
          ...keyArgs(key),
        );
    }
    return subFromRow(
      ctx.stmt(`SELECT * FROM kanban_notify_subs WHERE ${keyWhere}`).get(...keyArgs(key)) as Record<string, unknown>,
    );
  });
}

export function listNotifySubs(ctx: BoardContext, taskId?: string | null): NotifySub[] {
  const rows = taskId
    ? ctx.stmt("SELECT * FROM kanban_notify_subs WHERE task_id = ? ORDER BY created_at, platform, chat_id").all(taskId)
    : ctx.stmt("SELECT * FROM kanban_notify_subs ORDER BY task_id, created_at, platform, chat_id").all();
  return (rows as Record<string, unknown>[]).map(subFromRow);
}

export function removeNotifySub(ctx: BoardContext, key: NotifySubKey): boolean {
  return ctx.tx(() => ctx.stmt(`DELETE FROM kanban_notify_subs WHERE ${keyWhere}`).run(...keyArgs(key)).changes > 0);
}

/** Events after the subscription's cursor (does not advance it). */
export function unseenEventsForSub(
  ctx: BoardContext,
  key: NotifySubKey,
  kinds?: string[],
): { max_id: number; events: TaskEvent[] } {
  const sub = ctx.stmt(`SELECT last_event_id FROM kanban_notify_subs WHERE ${keyWhere}`).get(...keyArgs(key)) as
    | { last_event_id: number }
    | undefined;
  if (!sub) throw notFound("no such subscription");
  const rows = (
    ctx
      .stmt("SELECT * FROM task_events WHERE task_id = ? AND id > ? ORDER BY id")
      .all(key.task_id, sub.last_event_id) as Record<string, unknown>[]
  ).map(eventFromRow);
  const events = kinds && kinds.length > 0 ? rows.filter((e) => kinds.includes(e.kind)) : rows;
  return { max_id: rows.length > 0 ? (rows[rows.length - 1]?.id ?? sub.last_event_id) : sub.last_event_id, events };
}

/**
 * Reads the unseen events and advances the cursor in one write transaction (compare-and-swap on
 * the old cursor), so two notifiers never deliver the same event twice.
 */
export function claimUnseenEventsForSub(
  ctx: BoardContext,
  key: NotifySubKey,
  kinds?: string[],
): { old_cursor: number; new_cursor: number; events: TaskEvent[] } {
  return ctx.tx(() => {
    const sub = ctx.stmt(`SELECT last_event_id FROM kanban_notify_subs WHERE ${keyWhere}`).get(...keyArgs(key)) as
      | { last_event_id: number }
      | undefined;
    if (!sub) throw notFound("no such subscription");
    const { max_id, events } = unseenEventsForSub(ctx, key, kinds);
    if (max_id > sub.last_event_id) {
      ctx
        .stmt(`UPDATE kanban_notify_subs SET last_event_id = ? WHERE ${keyWhere} AND last_event_id = ?`)
        .run(max_id, ...keyArgs(key), sub.last_event_id);
    }
    return { old_cursor: sub.last_event_id, new_cursor: max_id, events };
  });
}

/** Undoes a claim, but only if nobody advanced the cursor past it meanwhile. */
export function rewindNotifyCursor(
  ctx: BoardContext,
  key: NotifySubKey,
  claimedCursor: number,
  oldCursor: number,
): boolean {
  return ctx.tx(
    () =>
      ctx
        .stmt(`UPDATE kanban_notify_subs SET last_event_id = ? WHERE ${keyWhere} AND last_event_id = ?`)
        .run(oldCursor, ...keyArgs(key), claimedCursor).changes === 1,
  );
}

export function advanceNotifyCursor(ctx: BoardContext, key: NotifySubKey, newCursor: number): boolean {
  return ctx.tx(
    () =>
      ctx
        .stmt(`UPDATE kanban_notify_subs SET last_event_id = ? WHERE ${keyWhere} AND last_event_id < ?`)
        .run(newCursor, ...keyArgs(key), newCursor).changes === 1,
  );
}

/** A child (or linked) task inherits its parent's subscriptions, caught up to the child's newest event. */
export function copyNotifySubs(ctx: BoardContext, fromTask: string, toTask: string): void {
  // A parent's subscribers follow the child only where they could read it: subscribers of an
  // operator's task (no tenant) see everything, a tenant's subscribers only that tenant's tasks.
  // Without this, linking globex's parent to acme's child would stream acme's events to globex.
  const tenants = ctx.stmt("SELECT id, tenant FROM tasks WHERE id IN (?, ?)").all(fromTask, toTask) as {
    id: string;
    tenant: string | null;
  }[];
  const from = tenantScope(tenants.find((t) => t.id === fromTask)?.tenant);
  const to = tenantScope(tenants.find((t) => t.id === toTask)?.tenant);
  if (from !== null && from !== to) return;
  ctx
    .stmt(
      `INSERT OR IGNORE INTO kanban_notify_subs (task_id, platform, chat_id, thread_id, user_id, user_id_alt, chat_type,
         notifier_profile, delivery_mode, delivery_metadata, created_at, last_event_id)
       SELECT ?, platform, chat_id, thread_id, user_id, user_id_alt, COALESCE(chat_type, 'dm'), notifier_profile,
         COALESCE(delivery_mode, 'notify'), delivery_metadata, ?, (SELECT COALESCE(MAX(id), 0) FROM task_events WHERE task_id = ?)
       FROM kanban_notify_subs WHERE task_id = ?`,
    )
    .run(toTask, ctx.now(), toTask, fromTask);
}
