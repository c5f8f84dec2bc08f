import type { BoardContext } from "./context.ts";
import { invalid, notFound } from "./errors.ts";
import { maxTaskEventId, taskEventsAfter } from "./store/sqlite/event-reads.ts";
import {
  copySubscriptions,
  deleteNotifySub,
  insertNotifySub,
  type NotifySub,
  type NotifySubKey,
  notifyCursor,
  notifySub,
  notifySubs,
  raiseNotifyCursor,
  swapNotifyCursor,
  tenantsOfPair,
  updateNotifySub,
} from "./store/sqlite/notify.ts";
import { storableJson } from "./stored-json.ts";
import type { TaskEvent } from "./types.ts";
import { tenantScope } from "./tenant-scope.ts";

export type { NotifySub, NotifySubKey };

export const DELIVERY_MODES = ["notify", "notify+wake", "wake"] as const;
export const CHAT_TYPES = ["dm", "group", "channel", "thread"] as const;

export interface NotifySubInput extends NotifySubKey {
  user_id?: string | null;
  user_id_alt?: string | null;
  chat_type?: string | null;
  notifier_profile?: string | null;
  delivery_mode?: string | null;
  delivery_metadata?: Record<string, string | number | boolean | null> | null;
}

/**
 * Subscribes a chat to a task's events (idempotent on the key). New rows start caught up (cursor at
 * the task's newest event). On an existing row, chat type, delivery mode and metadata are
 * last-write-wins; user ids and owner only fill blanks; metadata dicts merge.
 */
export async function addNotifySub(ctx: BoardContext, input: NotifySubInput): Promise<NotifySub> {
  if (!input.platform?.trim()) throw invalid("platform is required");
  if (!input.chat_id?.trim()) throw invalid("chat_id is required");
  if (input.delivery_mode && !DELIVERY_MODES.includes(input.delivery_mode as (typeof DELIVERY_MODES)[number])) {
    throw invalid(`delivery_mode must be one of ${DELIVERY_MODES.join(", ")}`);
  }
  if (input.chat_type && !CHAT_TYPES.includes(input.chat_type as (typeof CHAT_TYPES)[number])) {
    throw invalid(`chat_type must be one of ${CHAT_TYPES.join(", ")}`);
  }
  return await ctx.tx(async () => {
    if (!(await ctx.getTask(input.task_id)))
      throw notFound(`unknown task ${input.task_id}`, { task_id: input.task_id });
    const key = { ...input, thread_id: input.thread_id ?? "" };
    const cur = await notifySub(ctx, key);
    if (!cur) {
      const mode = input.delivery_mode ?? (input.platform === "api_server" ? "notify+wake" : "notify");
      await insertNotifySub(ctx, {
        task_id: key.task_id,
        platform: key.platform,
        chat_id: key.chat_id,
        thread_id: key.thread_id,
        user_id: input.user_id ?? null,
        user_id_alt: input.user_id_alt ?? null,
        chat_type: input.chat_type ?? "dm",
        notifier_profile: input.notifier_profile ?? null,
        delivery_mode: mode,
        delivery_metadata: input.delivery_metadata ? storableJson(input.delivery_metadata, "delivery_metadata") : null,
        created_at: ctx.now(),
        last_event_id: await maxTaskEventId(ctx, key.task_id),
      });
    } else {
      const meta = input.delivery_metadata
        ? { ...(cur.delivery_metadata ?? {}), ...input.delivery_metadata }
        : cur.delivery_metadata;
      await updateNotifySub(ctx, key, {
        user_id: cur.user_id || input.user_id || null,
        user_id_alt: cur.user_id_alt || input.user_id_alt || null,
        chat_type: input.chat_type ?? cur.chat_type,
        notifier_profile: cur.notifier_profile || input.notifier_profile || null,
        delivery_mode: input.delivery_mode ?? cur.delivery_mode,
        delivery_metadata: meta && Object.keys(meta).length > 0 ? storableJson(meta, "delivery_metadata") : null,
      });
    }
    return (await notifySub(ctx, key)) as NotifySub;
  });
}

export async function listNotifySubs(ctx: BoardContext, taskId?: string | null): Promise<NotifySub[]> {
  return await notifySubs(ctx, taskId);
}

export async function removeNotifySub(ctx: BoardContext, key: NotifySubKey): Promise<boolean> {
  return await ctx.tx(async () => await deleteNotifySub(ctx, key));
}

/** Events after the subscription's cursor (does not advance it). */
export async function unseenEventsForSub(
  ctx: BoardContext,
  key: NotifySubKey,
  kinds?: string[],
): Promise<{ max_id: number; events: TaskEvent[] }> {
  const cursor = await notifyCursor(ctx, key);
  if (cursor === null) throw notFound("no such subscription");
  const rows = await taskEventsAfter(ctx, key.task_id, cursor);
  const events = kinds && kinds.length > 0 ? rows.filter((e) => kinds.includes(e.kind)) : rows;
  return { max_id: rows.length > 0 ? (rows[rows.length - 1]?.id ?? cursor) : cursor, events };
}

/**
 * Reads the unseen events and advances the cursor in one write transaction (compare-and-swap on
 * the old cursor), so two notifiers never deliver the same event twice.
 */
export async function claimUnseenEventsForSub(
  ctx: BoardContext,
  key: NotifySubKey,
  kinds?: string[],
): Promise<{ old_cursor: number; new_cursor: number; events: TaskEvent[] }> {
  return await ctx.tx(async () => {
    const cursor = await notifyCursor(ctx, key);
    if (cursor === null) throw notFound("no such subscription");
    const { max_id, events } = await unseenEventsForSub(ctx, key, kinds);
    if (max_id > cursor) await swapNotifyCursor(ctx, key, max_id, cursor);
    return { old_cursor: cursor, new_cursor: max_id, events };
  });
}

/** Undoes a claim, but only if nobody advanced the cursor past it meanwhile. */
export async function rewindNotifyCursor(
  ctx: BoardContext,
  key: NotifySubKey,
  claimedCursor: number,
  oldCursor: number,
): Promise<boolean> {
  return await ctx.tx(async () => await swapNotifyCursor(ctx, key, oldCursor, claimedCursor));
}

export async function advanceNotifyCursor(ctx: BoardContext, key: NotifySubKey, newCursor: number): Promise<boolean> {
  return await ctx.tx(async () => await raiseNotifyCursor(ctx, key, newCursor));
}

/** A child (or linked) task inherits its parent's subscriptions, caught up to the child's newest event. */
export async function copyNotifySubs(ctx: BoardContext, fromTask: string, toTask: string): Promise<void> {
  // A parent's subscribers follow the child only where they could read it: subscribers of an
  // operator's task (no tenant) see everything, a tenant's subscribers only that tenant's tasks.
  // Without this, linking globex's parent to acme's child would stream acme's events to globex.
  const tenants = await tenantsOfPair(ctx, fromTask, toTask);
  const from = tenantScope(tenants.find((t) => t.id === fromTask)?.tenant);
  const to = tenantScope(tenants.find((t) => t.id === toTask)?.tenant);
  if (from !== null && from !== to) return;
  await copySubscriptions(ctx, fromTask, toTask, ctx.now());
}
