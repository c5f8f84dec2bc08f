import { boardArg, type Deps } from "../deps.ts";
import { CliFailure, errorCode, UsageError } from "../errors.ts";
import { toJson } from "../output.ts";
import { choiceArg } from "./parse.ts";
import type { Register } from "./register.ts";

export const CHAT_TYPES = ["dm", "group", "channel", "thread"] as const;
export const DELIVERY_MODES = ["notify", "notify+wake", "wake"] as const;

export interface SubscribeOptions {
  platform: string;
  chatId: string;
  threadId?: string;
  userId?: string;
  userIdAlt?: string;
  chatType?: (typeof CHAT_TYPES)[number];
  notifierProfile?: string;
  deliveryMode?: (typeof DELIVERY_MODES)[number];
}

function target(platform: string, chat: string, thread: string | null | undefined): string {
  return thread ? `${platform}:${chat}:${thread}` : `${platform}:${chat}`;
}

/** Where a subscription applies: one task, every card of the board, or each card of one assignee. */
export interface ScopeOptions {
  boardWide?: boolean;
  assignee?: string;
}

/** Exactly one of a task id, `--board-wide` and `--assignee <profile>`. */
function scopeOf(id: string | undefined, opts: ScopeOptions): { scope: "task" | "board" | "assignee"; key: string } {
  const given = [id !== undefined, opts.boardWide === true, opts.assignee !== undefined].filter(Boolean).length;
  if (given !== 1) throw new UsageError("name exactly one of: a task id, --board-wide, --assignee <profile>");
  if (id !== undefined) return { scope: "task", key: id };
  if (opts.boardWide) return { scope: "board", key: "" };
  return { scope: "assignee", key: opts.assignee ?? "" };
}

export async function runNotifySubscribe(
  deps: Deps,
  id: string | undefined,
  opts: SubscribeOptions & ScopeOptions,
): Promise<number> {
  const scope = scopeOf(id, opts);
  const client = await deps.client();
  if (scope.scope !== "task") {
    if (opts.userIdAlt !== undefined)
      throw new UsageError("--user-id-alt is for one task's subscription, not --board-wide or --assignee");
    const { rule } = await client.notify.addRule.mutate({
      ...boardArg(deps),
      scope: scope.scope,
      scope_key: scope.key || null,
      platform: opts.platform,
      chat_id: opts.chatId,
      thread_id: opts.threadId ?? null,
      user_id: opts.userId ?? null,
      chat_type: opts.chatType ?? null,
      notifier_profile: opts.notifierProfile ?? null,
      delivery_mode: opts.deliveryMode ?? null,
    });
    const what = rule.scope === "board" ? "every new card" : `each card assigned to ${rule.scope_key}`;
    deps.io.out(`Subscribed ${target(rule.platform, rule.chat_id, rule.thread_id)} to ${what} (rule ${rule.id})`);
    return 0;
  }
  const taskId = scope.key;
  await client.notify.subscribe.mutate({
    ...boardArg(deps),
    task_id: taskId,
    platform: opts.platform,
    chat_id: opts.chatId,
    thread_id: opts.threadId ?? null,
    user_id: opts.userId ?? null,
    user_id_alt: opts.userIdAlt ?? null,
    chat_type: opts.chatType ?? null,
    notifier_profile: opts.notifierProfile ?? null,
    delivery_mode: opts.deliveryMode ?? null,
  });
  deps.io.out(`Subscribed ${target(opts.platform, opts.chatId, opts.threadId)} to ${taskId}`);
  return 0;
}

export async function runNotifyList(deps: Deps, id: string | undefined, opts: { json?: boolean }): Promise<number> {
  const client = await deps.client();
  const { subscriptions } = await client.notify.list.query({ ...boardArg(deps), task_id: id ?? null });
  if (opts.json) {
    deps.io.out(toJson(subscriptions));
    return 0;
  }
  if (subscriptions.length === 0) {
    deps.io.out("(no subscriptions)");
    return 0;
  }
  for (const s of subscriptions) {
    const extras = [
      s.notifier_profile ? ` owner=${s.notifier_profile}` : "",
      s.chat_type ? ` chat_type=${s.chat_type}` : "",
      s.delivery_mode ? ` mode=${s.delivery_mode}` : "",
    ].join("");
    deps.io.out(
      `  ${s.task_id}  ${target(s.platform, s.chat_id, s.thread_id)}  (since event ${s.last_event_id})${extras}`,
    );
  }
  return 0;
}

export async function runNotifyRules(deps: Deps, opts: { json?: boolean }): Promise<number> {
  const client = await deps.client();
  const { rules } = await client.notify.rules.query({ ...boardArg(deps) });
  if (opts.json) {
    deps.io.out(toJson(rules));
    return 0;
  }
  if (rules.length === 0) {
    deps.io.out("(no rules)");
    return 0;
  }
  for (const r of rules) {
    const scope = r.scope === "board" ? "board" : `assignee=${r.scope_key}`;
    const extras = [r.tenant ? ` tenant=${r.tenant}` : "", r.delivery_mode ? ` mode=${r.delivery_mode}` : ""].join("");
    deps.io.out(`  ${String(r.id).padStart(4)}  ${scope}  ${target(r.platform, r.chat_id, r.thread_id)}${extras}`);
  }
  return 0;
}

/** `--rule <id>`: a positive integer, else a usage error. */
function ruleIdArg(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new UsageError(`--rule takes a rule id (a positive integer), got '${value}'`);
  return n;
}

export async function runNotifyUnsubscribe(
  deps: Deps,
  id: string | undefined,
  opts: { platform?: string; chatId?: string; threadId?: string; rule?: string },
): Promise<number> {
  const client = await deps.client();
  if (opts.rule !== undefined) {
    if (id !== undefined || opts.platform !== undefined || opts.chatId !== undefined)
      throw new UsageError("--rule <id> names the rule alone: no task id, --platform or --chat-id");
    const ruleId = ruleIdArg(opts.rule);
    try {
      await client.notify.removeRule.mutate({ ...boardArg(deps), rule_id: ruleId });
    } catch (err) {
      if (errorCode(err) === "NOT_FOUND") throw new CliFailure(`(no such rule ${ruleId})`);
      throw err;
    }
    deps.io.out(`Removed rule ${ruleId} (cards it subscribed keep their subscriptions)`);
    return 0;
  }
  if (id === undefined || opts.platform === undefined || opts.chatId === undefined)
    throw new UsageError("name a task id with --platform and --chat-id, or --rule <id>");
  try {
    await client.notify.unsubscribe.mutate({
      ...boardArg(deps),
      task_id: id,
      platform: opts.platform,
      chat_id: opts.chatId,
      thread_id: opts.threadId ?? null,
    });
  } catch (err) {
    if (errorCode(err) === "NOT_FOUND" && err instanceof Error && err.message === "no such subscription")
      throw new CliFailure("(no such subscription)");
    throw err;
  }
  deps.io.out(`Unsubscribed from ${id}`);
  return 0;
}

export const registerNotify: Register = (program, act) => {
  program
    .command("notify-subscribe")
    .summary("send a task's events to a chat (or every new card's, or an assignee's cards')")
    .description(
      "Subscribes a chat to one task, or with --board-wide / --assignee adds a rule: every card created from now on " +
        "(or assigned to the profile) gets the subscription. Platform `desktop` is the board's browser notifications.",
    )
    .argument("[task_id]")
    .option("--board-wide", "every card of the board created from now on (a rule)")
    .option("--assignee <profile>", "every card assigned to this profile from now on (a rule)")
    .requiredOption("--platform <name>", "e.g. webhook, slack, discord, desktop, telegram, api_server")
    .requiredOption("--chat-id <id>", "the chat (a channel name of config.json for webhook/slack/discord)")
    .option("--thread-id <id>", "a thread inside the chat")
    .option("--user-id <id>", "the subscribing user")
    .option("--user-id-alt <id>", "an alternative id of that user")
    .option("--chat-type <type>", CHAT_TYPES.join(" | "), choiceArg(CHAT_TYPES))
    .option("--notifier-profile <name>", "the gateway profile that delivers")
    .option("--delivery-mode <mode>", DELIVERY_MODES.join(" | "), choiceArg(DELIVERY_MODES))
    .action(
      act((deps, id: string | undefined, opts: SubscribeOptions & ScopeOptions) => runNotifySubscribe(deps, id, opts)),
    );

  program
    .command("notify-list")
    .summary("list chat subscriptions (of one task, or all)")
    .argument("[task_id]")
    .option("--json", "print the subscriptions as JSON")
    .action(act((deps, id: string | undefined, opts: { json?: boolean }) => runNotifyList(deps, id, opts)));

  program
    .command("notify-rules")
    .summary("list board-wide and per-assignee subscription rules")
    .option("--json", "print the rules as JSON")
    .action(act((deps, opts: { json?: boolean }) => runNotifyRules(deps, opts)));

  program
    .command("notify-unsubscribe")
    .summary("stop sending a task's events to a chat (or remove a rule)")
    .argument("[task_id]")
    .option("--platform <name>", "the platform")
    .option("--chat-id <id>", "the chat")
    .option("--thread-id <id>", "the thread")
    .option("--rule <id>", "remove this rule (see notify-rules)")
    .action(
      act(
        (
          deps,
          id: string | undefined,
          opts: { platform?: string; chatId?: string; threadId?: string; rule?: string },
        ) => runNotifyUnsubscribe(deps, id, opts),
      ),
    );
};
