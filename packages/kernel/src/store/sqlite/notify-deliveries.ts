import type { SqlContext } from "./session.ts";

// The notify delivery log (`kanban_notify_deliveries`): one row per attempt to deliver one message
// to one subscription (notify-deliveries.ts holds the verbs).

export const DELIVERY_OUTCOMES = ["delivered", "failed", "network", "dropped", "test"] as const;
export type DeliveryOutcome = (typeof DELIVERY_OUTCOMES)[number];

export interface NotifyDelivery {
  id: number;
  task_id: string;
  platform: string;
  chat_id: string;
  thread_id: string;
  rule_id: number | null;
  event_id: number | null;
  incident_id: number | null;
  kind: string;
  outcome: DeliveryOutcome;
  http_status: number | null;
  error: string | null;
  attempted_at: number;
  duration_ms: number | null;
}

export type NewNotifyDelivery = Omit<NotifyDelivery, "id" | "attempted_at">;

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

function deliveryFromRow(r: Record<string, unknown>): NotifyDelivery {
  return {
    id: Number(r.id),
    task_id: String(r.task_id),
    platform: String(r.platform),
    chat_id: String(r.chat_id),
    thread_id: String(r.thread_id ?? ""),
    rule_id: num(r.rule_id),
    event_id: num(r.event_id),
    incident_id: num(r.incident_id),
    kind: String(r.kind),
    outcome: String(r.outcome) as DeliveryOutcome,
    http_status: num(r.http_status),
    error: (r.error as string | null) ?? null,
    attempted_at: Number(r.attempted_at),
    duration_ms: num(r.duration_ms),
  };
}

export async function insertNotifyDelivery(ctx: SqlContext, row: NewNotifyDelivery): Promise<number> {
  return await ctx.insert(
    `INSERT INTO kanban_notify_deliveries (task_id, platform, chat_id, thread_id, rule_id, event_id, incident_id, kind,
             outcome, http_status, error, attempted_at, duration_ms)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    row.task_id,
    row.platform,
    row.chat_id,
    row.thread_id,
    row.rule_id,
    row.event_id,
    row.incident_id,
    row.kind,
    row.outcome,
    row.http_status,
    row.error,
    ctx.now(),
    row.duration_ms,
  );
}

export interface DeliveryFilter {
  task_id?: string | null;
  platform?: string | null;
  chat_id?: string | null;
  thread_id?: string | null;
  limit: number;
}

/** The newest rows first (by id), narrowed to a task and, optionally, one subscription of it. */
export async function notifyDeliveries(ctx: SqlContext, f: DeliveryFilter): Promise<NotifyDelivery[]> {
  const where: string[] = [];
  const args: unknown[] = [];
  if (f.task_id) {
    where.push("task_id = ?");
    args.push(f.task_id);
  }
  if (f.platform) {
    where.push("platform = ?");
    args.push(f.platform);
  }
  if (f.chat_id) {
    where.push("chat_id = ?");
    args.push(f.chat_id);
    where.push("thread_id = ?");
    args.push(f.thread_id ?? "");
  }
  const rows = await ctx.all(
    `SELECT * FROM kanban_notify_deliveries ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY id DESC LIMIT ?`,
    ...args,
    f.limit,
  );
  return (rows as Record<string, unknown>[]).map(deliveryFromRow);
}

export interface FailureStreak {
  failures: number;
  last_error: string | null;
  last_status: number | null;
}

/**
 * The `failed` rows of one subscription since its newest `delivered` (or `dropped`) row: network
 * rows are not counted (they back off instead), and a success ends the streak.
 */
export async function failureStreak(
  ctx: SqlContext,
  key: { task_id: string; platform: string; chat_id: string; thread_id: string },
): Promise<FailureStreak> {
  const sub = "task_id = ? AND platform = ? AND chat_id = ? AND thread_id = ?";
  const args = [key.task_id, key.platform, key.chat_id, key.thread_id];
  const row = (await ctx.get(
    `SELECT COUNT(*) AS n, MAX(id) AS last_id FROM kanban_notify_deliveries
       WHERE ${sub} AND outcome = 'failed'
         AND id > COALESCE((SELECT MAX(id) FROM kanban_notify_deliveries
                            WHERE ${sub} AND outcome IN ('delivered', 'dropped')), 0)`,
    ...args,
    ...args,
  )) as { n: number | string; last_id: number | string | null } | undefined;
  const failures = Number(row?.n ?? 0);
  if (failures === 0 || row?.last_id === null || row?.last_id === undefined)
    return { failures: 0, last_error: null, last_status: null };
  const last = (await ctx.get(
    "SELECT error, http_status FROM kanban_notify_deliveries WHERE id = ?",
    Number(row.last_id),
  )) as { error: string | null; http_status: number | string | null } | undefined;
  return { failures, last_error: last?.error ?? null, last_status: num(last?.http_status) };
}

/** Deletes the rows attempted before `cutoff`; returns how many went. */
export async function deleteNotifyDeliveriesBefore(ctx: SqlContext, cutoff: number): Promise<number> {
  return (await ctx.run("DELETE FROM kanban_notify_deliveries WHERE attempted_at < ?", cutoff)).changes;
}
