import type { BoardContext } from "./context.ts";
import { invalid } from "./errors.ts";
import type { NotifySubKey } from "./notify.ts";
import { deleteNotifySub, notifySub } from "./store/sqlite/notify.ts";
import {
  DELIVERY_OUTCOMES,
  type DeliveryOutcome,
  deleteNotifyDeliveriesBefore,
  type FailureStreak,
  failureStreak,
  insertNotifyDelivery,
  type NotifyDelivery,
  notifyDeliveries,
} from "./store/sqlite/notify-deliveries.ts";

export { DELIVERY_OUTCOMES, type DeliveryOutcome, type FailureStreak, type NotifyDelivery };

/** How long the delivery log keeps a row (the notifier's GC). */
export const DELIVERY_LOG_RETENTION_SECONDS = 14 * 24 * 3600;
/** The most rows one read of the log returns. */
export const DELIVERY_LOG_MAX_LIMIT = 1000;
/** The longest error text a row keeps (one line; the senders already keep it short). */
const ERROR_MAX = 500;

export interface DeliveryAttempt extends NotifySubKey {
  event_id?: number | null;
  rule_id?: number | null;
  incident_id?: number | null;
  kind: string;
  outcome: DeliveryOutcome;
  http_status?: number | null;
  error?: string | null;
  duration_ms?: number | null;
}

function oneLine(text: string | null | undefined): string | null {
  if (text === null || text === undefined || text === "") return null;
  const line = text.replace(/\s+/g, " ").trim();
  return line.length > ERROR_MAX ? `${line.slice(0, ERROR_MAX - 1)}…` : line;
}

/** Writes one attempt to the delivery log; returns its id. */
export async function recordNotifyDelivery(ctx: BoardContext, a: DeliveryAttempt): Promise<number> {
  if (!DELIVERY_OUTCOMES.includes(a.outcome)) throw invalid(`outcome must be one of ${DELIVERY_OUTCOMES.join(", ")}`);
  return await ctx.tx(
    async () =>
      await insertNotifyDelivery(ctx, {
        task_id: a.task_id,
        platform: a.platform,
        chat_id: a.chat_id,
        thread_id: a.thread_id ?? "",
        rule_id: a.rule_id ?? null,
        event_id: a.event_id ?? null,
        incident_id: a.incident_id ?? null,
        kind: a.kind,
        outcome: a.outcome,
        http_status: a.http_status ?? null,
        error: oneLine(a.error),
        duration_ms: a.duration_ms === null || a.duration_ms === undefined ? null : Math.round(a.duration_ms),
      }),
  );
}

export interface DeliveryQuery {
  /** One task's rows (else every task's: the caller decides who may see that). */
  task_id?: string | null;
  /** With `task_id`: one subscription's rows only. */
  platform?: string | null;
  chat_id?: string | null;
  thread_id?: string | null;
  limit?: number;
}

/** The delivery log, newest first. */
export async function listNotifyDeliveries(ctx: BoardContext, q: DeliveryQuery = {}): Promise<NotifyDelivery[]> {
  const limit = Math.max(1, Math.min(DELIVERY_LOG_MAX_LIMIT, Math.floor(q.limit ?? 50)));
  return await notifyDeliveries(ctx, {
    task_id: q.task_id ?? null,
    platform: q.task_id ? (q.platform ?? null) : null,
    chat_id: q.task_id && q.platform ? (q.chat_id ?? null) : null,
    thread_id: q.thread_id ?? "",
    limit,
  });
}

/** Counted failures (`failed` rows) of a subscription since its last success, with the newest error. */
export async function notifyFailureStreak(ctx: BoardContext, key: NotifySubKey): Promise<FailureStreak> {
  return await failureStreak(ctx, { ...key, thread_id: key.thread_id ?? "" });
}

/** Forgets log rows older than the retention (default 14 days); returns how many went. */
export async function gcNotifyDeliveries(
  ctx: BoardContext,
  retentionSeconds = DELIVERY_LOG_RETENTION_SECONDS,
): Promise<number> {
  return await ctx.tx(async () => await deleteNotifyDeliveriesBefore(ctx, ctx.now() - retentionSeconds));
}

/**
 * Gives up on a subscription: removes it, says so on the card (event `notify_dropped`, which names
 * the chat, never a channel's address) and logs a `dropped` row, in one transaction. False when the
 * subscription was already gone (another notifier dropped it, or someone unsubscribed).
 */
export async function dropNotifySub(
  ctx: BoardContext,
  key: NotifySubKey,
  why: { failures: number; last_error: string | null },
): Promise<boolean> {
  return await ctx.tx(async () => {
    const k = { ...key, thread_id: key.thread_id ?? "" };
    if (!(await notifySub(ctx, k))) return false;
    await deleteNotifySub(ctx, k);
    const last_error = oneLine(why.last_error);
    await ctx.appendEvent(k.task_id, "notify_dropped", {
      platform: k.platform,
      chat_id: k.chat_id,
      ...(k.thread_id ? { thread_id: k.thread_id } : {}),
      failures: why.failures,
      last_error,
    });
    await insertNotifyDelivery(ctx, {
      task_id: k.task_id,
      platform: k.platform,
      chat_id: k.chat_id,
      thread_id: k.thread_id,
      rule_id: null,
      event_id: null,
      incident_id: null,
      kind: "notify_dropped",
      outcome: "dropped",
      http_status: null,
      error: last_error,
      duration_ms: null,
    });
    return true;
  });
}
