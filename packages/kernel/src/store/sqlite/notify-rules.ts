import type { SqlContext } from "./session.ts";

// Subscriptions wider than one card (`kanban_notify_rules`) and their materialisation into a card's
// own `kanban_notify_subs` rows (notify-rules.ts).

export type NotifyRuleScope = "board" | "assignee";

export interface NotifyRule {
  id: number;
  scope: NotifyRuleScope;
  scope_key: string;
  platform: string;
  chat_id: string;
  thread_id: string;
  user_id: string | null;
  chat_type: string | null;
  notifier_profile: string | null;
  delivery_mode: string;
  tenant: string | null;
  created_at: number;
}

export type NewNotifyRule = Omit<NotifyRule, "id">;

/** The unique key of a rule (`idx_notify_rules_key`). */
export interface NotifyRuleKey {
  scope: NotifyRuleScope;
  scope_key: string;
  platform: string;
  chat_id: string;
  thread_id: string;
}

function ruleFromRow(r: Record<string, unknown>): NotifyRule {
  return {
    id: Number(r.id),
    scope: String(r.scope) as NotifyRuleScope,
    scope_key: String(r.scope_key ?? ""),
    platform: String(r.platform),
    chat_id: String(r.chat_id),
    thread_id: String(r.thread_id ?? ""),
    user_id: (r.user_id as string | null) ?? null,
    chat_type: (r.chat_type as string | null) ?? null,
    notifier_profile: (r.notifier_profile as string | null) ?? null,
    delivery_mode: String(r.delivery_mode ?? "notify"),
    tenant: (r.tenant as string | null) ?? null,
    created_at: Number(r.created_at),
  };
}

const keyWhere = "scope = ? AND scope_key = ? AND platform = ? AND chat_id = ? AND thread_id = ?";
const keyArgs = (k: NotifyRuleKey) => [k.scope, k.scope_key, k.platform, k.chat_id, k.thread_id];

export async function notifyRuleByKey(ctx: SqlContext, key: NotifyRuleKey): Promise<NotifyRule | null> {
  const row = (await ctx.get(`SELECT * FROM kanban_notify_rules WHERE ${keyWhere}`, ...keyArgs(key))) as
    | Record<string, unknown>
    | undefined;
  return row ? ruleFromRow(row) : null;
}

export async function notifyRuleById(ctx: SqlContext, id: number): Promise<NotifyRule | null> {
  const row = (await ctx.get("SELECT * FROM kanban_notify_rules WHERE id = ?", id)) as
    | Record<string, unknown>
    | undefined;
  return row ? ruleFromRow(row) : null;
}

/** Inserts the rule unless one with its key exists (then nothing changes). */
export async function insertNotifyRule(ctx: SqlContext, rule: NewNotifyRule): Promise<void> {
  await ctx.run(
    `INSERT INTO kanban_notify_rules (scope, scope_key, platform, chat_id, thread_id, user_id, chat_type,
         notifier_profile, delivery_mode, tenant, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT DO NOTHING`,
    rule.scope,
    rule.scope_key,
    rule.platform,
    rule.chat_id,
    rule.thread_id,
    rule.user_id,
    rule.chat_type,
    rule.notifier_profile,
    rule.delivery_mode,
    rule.tenant,
    rule.created_at,
  );
}

/** Every rule (by id), or only those a tenant's cards can match: the tenant's own (`tenant` given). */
export async function notifyRules(ctx: SqlContext, tenant?: string | null): Promise<NotifyRule[]> {
  const rows =
    tenant === null || tenant === undefined
      ? await ctx.all("SELECT * FROM kanban_notify_rules ORDER BY id")
      : await ctx.all("SELECT * FROM kanban_notify_rules WHERE tenant = ? ORDER BY id", tenant);
  return (rows as Record<string, unknown>[]).map(ruleFromRow);
}

export async function deleteNotifyRule(ctx: SqlContext, id: number): Promise<boolean> {
  return (await ctx.run("DELETE FROM kanban_notify_rules WHERE id = ?", id)).changes > 0;
}

/** The rules a card of `assignee` and `tenant` matches (see {@link matchingNotifyRules}), as a WHERE clause. */
export const MATCHING_RULES_WHERE =
  "((scope = 'board' AND scope_key = '') OR (scope = 'assignee' AND scope_key = ?)) AND (tenant IS NULL OR tenant = ?)";

export function matchingRulesArgs(assignee: string | null, tenant: string | null): unknown[] {
  return [assignee ?? "", tenant ?? ""];
}

/**
 * The rules that match a card: board rules, and assignee rules of `assignee` (when set); a rule of a
 * tenant only for that tenant's card, an operator's rule (tenant NULL) for every card. One read on
 * `idx_notify_rules_scope`; on a board without rules it finds nothing at once.
 */
export async function matchingNotifyRules(
  ctx: SqlContext,
  assignee: string | null,
  tenant: string | null,
): Promise<NotifyRule[]> {
  const rows = await ctx.all(
    `SELECT * FROM kanban_notify_rules WHERE ${MATCHING_RULES_WHERE} ORDER BY id`,
    ...matchingRulesArgs(assignee, tenant),
  );
  return (rows as Record<string, unknown>[]).map(ruleFromRow);
}

/**
 * Gives a card the subscription a rule describes, unless it has one with that key already (a
 * per-card subscription someone set by hand wins). The cursor starts at the card's newest event.
 */
export async function materialiseRule(ctx: SqlContext, rule: NotifyRule, taskId: string, at: number): Promise<void> {
  await ctx.run(
    `INSERT INTO kanban_notify_subs (task_id, platform, chat_id, thread_id, user_id, user_id_alt, chat_type,
         notifier_profile, delivery_mode, delivery_metadata, created_at, last_event_id)
       VALUES (?, ?, ?, ?, ?, NULL, ?, ?, ?, NULL, ?, (SELECT COALESCE(MAX(id), 0) FROM task_events WHERE task_id = ?))
       ON CONFLICT DO NOTHING`,
    taskId,
    rule.platform,
    rule.chat_id,
    rule.thread_id,
    rule.user_id,
    rule.chat_type ?? "dm",
    rule.notifier_profile,
    rule.delivery_mode,
    at,
    taskId,
  );
}
