import type { BoardContext } from "./context.ts";
import { invalid, wrongState } from "./errors.ts";
import { CHAT_TYPES, DELIVERY_MODES } from "./notify.ts";
import {
  deleteNotifyRule,
  insertNotifyRule,
  matchingNotifyRules,
  materialiseRule,
  type NotifyRule,
  type NotifyRuleScope,
  notifyRuleById,
  notifyRuleByKey,
  notifyRules,
} from "./store/sqlite/notify-rules.ts";
import { tenantScope } from "./tenant-scope.ts";

export type { NotifyRule, NotifyRuleScope };

export const NOTIFY_RULE_SCOPES = ["board", "assignee"] as const;

export interface NotifyRuleInput {
  scope: string;
  /** `assignee`: the profile; `board`: nothing (or ''). */
  scope_key?: string | null;
  platform: string;
  chat_id: string;
  thread_id?: string | null;
  user_id?: string | null;
  chat_type?: string | null;
  notifier_profile?: string | null;
  delivery_mode?: string | null;
  /** The tenant whose cards the rule matches; null: an operator's rule, every card. */
  tenant?: string | null;
}

function blankToNull(v: string | null | undefined): string | null {
  return v === null || v === undefined || v.trim() === "" ? null : v.trim();
}

/**
 * Adds a rule: every card created from now on that matches it (each card of the board, or each card
 * assigned to the profile) gets the subscription it describes. Idempotent on (scope, key, platform,
 * chat, thread): adding it again answers the existing rule. A rule with that key belonging to another
 * tenant is refused (the key is board-wide, so two tenants cannot share one destination).
 */
export async function addNotifyRule(ctx: BoardContext, input: NotifyRuleInput): Promise<NotifyRule> {
  const scope = String(input.scope ?? "").trim() as NotifyRuleScope;
  if (!NOTIFY_RULE_SCOPES.includes(scope)) throw invalid(`scope must be one of ${NOTIFY_RULE_SCOPES.join(", ")}`);
  let scopeKey = "";
  if (scope === "assignee") {
    // Spelled as cards store their assignee (create.ts canonicalAssignee; imported from there it would
    // close a cycle, create.ts applying these rules): trimmed, lowercase.
    scopeKey = (input.scope_key ?? "").trim().toLowerCase();
    if (scopeKey === "") throw invalid("an assignee rule needs the profile it follows (scope_key)");
  } else if (blankToNull(input.scope_key) !== null) {
    throw invalid("a board rule takes no scope_key (it matches every card of the board)");
  }
  const platform = blankToNull(input.platform);
  const chatId = blankToNull(input.chat_id);
  if (platform === null) throw invalid("platform is required");
  if (chatId === null) throw invalid("chat_id is required");
  if (input.delivery_mode && !DELIVERY_MODES.includes(input.delivery_mode as (typeof DELIVERY_MODES)[number])) {
    throw invalid(`delivery_mode must be one of ${DELIVERY_MODES.join(", ")}`);
  }
  if (input.chat_type && !CHAT_TYPES.includes(input.chat_type as (typeof CHAT_TYPES)[number])) {
    throw invalid(`chat_type must be one of ${CHAT_TYPES.join(", ")}`);
  }
  const tenant = tenantScope(input.tenant);
  const key = { scope, scope_key: scopeKey, platform, chat_id: chatId, thread_id: blankToNull(input.thread_id) ?? "" };
  return await ctx.tx(async () => {
    await insertNotifyRule(ctx, {
      ...key,
      user_id: blankToNull(input.user_id),
      chat_type: input.chat_type ?? "dm",
      notifier_profile: blankToNull(input.notifier_profile),
      delivery_mode: input.delivery_mode ?? "notify",
      tenant,
      created_at: ctx.now(),
    });
    const rule = (await notifyRuleByKey(ctx, key)) as NotifyRule;
    if (tenantScope(rule.tenant) !== tenant) {
      throw wrongState("a rule for this destination exists already in another scope", { rule_id: rule.id });
    }
    return rule;
  });
}

/** The rules, all of them (tenant null: the operator), or a tenant's own. */
export async function listNotifyRules(ctx: BoardContext, tenant: string | null = null): Promise<NotifyRule[]> {
  return await notifyRules(ctx, tenantScope(tenant));
}

/** One rule, or null; a tenant only finds its own. */
export async function getNotifyRule(ctx: BoardContext, id: number, tenant: string | null = null) {
  const rule = await notifyRuleById(ctx, id);
  if (rule === null) return null;
  const scope = tenantScope(tenant);
  return scope === null || rule.tenant === scope ? rule : null;
}

/**
 * Removes a rule (a tenant only its own); false when there was none. The subscriptions it already
 * gave cards stay: they are the cards' own now (remove them per card).
 */
export async function removeNotifyRule(ctx: BoardContext, id: number, tenant: string | null = null): Promise<boolean> {
  return await ctx.tx(async () => {
    if ((await getNotifyRule(ctx, id, tenant)) === null) return false;
    return await deleteNotifyRule(ctx, id);
  });
}

/**
 * Gives a card the subscriptions of the rules it matches (see matchingNotifyRules). Called inside the
 * create's or the assignment's transaction. `assigneeOnly`: an assignment, where the board rules
 * were applied when the card was created and only the new profile's rules are news.
 */
export async function applyNotifyRules(
  ctx: BoardContext,
  task: { id: string; assignee: string | null; tenant: string | null },
  opts: { assigneeOnly?: boolean } = {},
): Promise<void> {
  if (opts.assigneeOnly && task.assignee === null) return;
  const rules = await matchingNotifyRules(ctx, task.assignee, tenantScope(task.tenant));
  for (const rule of rules) {
    if (opts.assigneeOnly && rule.scope !== "assignee") continue;
    await materialiseRule(ctx, rule, task.id, ctx.now());
  }
}
