import { boardArg, type Deps } from "../deps.ts";
import { CliFailure, errorCode } from "../errors.ts";
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

export async function runNotifySubscribe(deps: Deps, id: string, opts: SubscribeOptions): Promise<number> {
  const client = await deps.client();
  await client.notify.subscribe.mutate({
    ...boardArg(deps),
    task_id: id,
    platform: opts.platform,
    chat_id: opts.chatId,
    thread_id: opts.threadId ?? null,
    user_id: opts.userId ?? null,
    user_id_alt: opts.userIdAlt ?? null,
    chat_type: opts.chatType ?? null,
    notifier_profile: opts.notifierProfile ?? null,
    delivery_mode: opts.deliveryMode ?? null,
  });
  deps.io.out(`Subscribed ${target(opts.platform, opts.chatId, opts.threadId)} to ${id}`);
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

export async function runNotifyUnsubscribe(
  deps: Deps,
  id: string,
  opts: { platform: string; chatId: string; threadId?: string },
): Promise<number> {
  const client = await deps.client();
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
    .summary("send a task's events to a chat")
    .argument("<task_id>")
    .requiredOption("--platform <name>", "e.g. telegram, slack, api_server")
    .requiredOption("--chat-id <id>", "the chat")
    .option("--thread-id <id>", "a thread inside the chat")
    .option("--user-id <id>", "the subscribing user")
    .option("--user-id-alt <id>", "an alternative id of that user")
    .option("--chat-type <type>", CHAT_TYPES.join(" | "), choiceArg(CHAT_TYPES))
    .option("--notifier-profile <name>", "the gateway profile that delivers")
    .option("--delivery-mode <mode>", DELIVERY_MODES.join(" | "), choiceArg(DELIVERY_MODES))
    .action(act((deps, id: string, opts: SubscribeOptions) => runNotifySubscribe(deps, id, opts)));

  program
    .command("notify-list")
    .summary("list chat subscriptions (of one task, or all)")
    .argument("[task_id]")
    .option("--json", "print the subscriptions as JSON")
    .action(act((deps, id: string | undefined, opts: { json?: boolean }) => runNotifyList(deps, id, opts)));

  program
    .command("notify-unsubscribe")
    .summary("stop sending a task's events to a chat")
    .argument("<task_id>")
    .requiredOption("--platform <name>", "the platform")
    .requiredOption("--chat-id <id>", "the chat")
    .option("--thread-id <id>", "the thread")
    .action(
      act((deps, id: string, opts: { platform: string; chatId: string; threadId?: string }) =>
        runNotifyUnsubscribe(deps, id, opts),
      ),
    );
};
