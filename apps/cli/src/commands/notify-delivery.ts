import { boardArg, type Deps } from "../deps.ts";
import { CliFailure } from "../errors.ts";
import { formatTime, toJson } from "../output.ts";
import { intArg } from "./parse.ts";
import type { Register } from "./register.ts";

// Issue 17: `kanban notify-test` (a test message through a configured channel, now) and
// `kanban notify-log` (the delivery log). Both go through the API, in-process or remote (KANBAN_URL),
// so the channel's URL and secret are read where config.json is and never reach this output.

function target(platform: string, chat: string, thread: string | null | undefined): string {
  return thread ? `${platform}:${chat}:${thread}` : `${platform}:${chat}`;
}

export async function runNotifyTest(
  deps: Deps,
  id: string,
  platform: string,
  chatId: string,
  opts: { thread?: string },
): Promise<number> {
  const client = await deps.client();
  const res = await client.notifyDelivery.test.mutate({
    ...boardArg(deps),
    task_id: id,
    platform,
    chat_id: chatId,
    thread_id: opts.thread ?? null,
  });
  const to = target(platform, chatId, opts.thread);
  if (!res.ok) {
    const status = res.http_status !== null ? ` (HTTP ${res.http_status})` : "";
    throw new CliFailure(`test message to ${to} failed${status}: ${res.error ?? res.outcome}`);
  }
  deps.io.out(`Test message delivered to ${to} for ${id} (HTTP ${res.http_status}, ${res.duration_ms} ms)`);
  return 0;
}

export async function runNotifyLog(
  deps: Deps,
  id: string | undefined,
  opts: { json?: boolean; limit?: number },
): Promise<number> {
  const client = await deps.client();
  const { deliveries } = await client.notifyDelivery.log.query({
    ...boardArg(deps),
    task_id: id ?? null,
    limit: opts.limit ?? 50,
  });
  if (opts.json) {
    deps.io.out(toJson(deliveries));
    return 0;
  }
  if (deliveries.length === 0) {
    deps.io.out("(no deliveries)");
    return 0;
  }
  for (const d of deliveries) {
    const status = d.http_status !== null ? ` HTTP ${d.http_status}` : "";
    const event = d.event_id !== null ? ` event ${d.event_id}` : "";
    const error = d.error ? `  ${d.error}` : "";
    deps.io.out(
      `  ${formatTime(d.attempted_at)}  ${d.task_id}  ${target(d.platform, d.chat_id, d.thread_id)}  ${d.kind}${event}  ${d.outcome}${status}${error}`,
    );
  }
  return 0;
}

export const registerNotifyDelivery: Register = (program, act) => {
  program
    .command("notify-test")
    .summary("send a test message through a notify channel now")
    .argument("<task_id>")
    .argument("<platform>", "webhook | slack | discord")
    .argument("<chat_id>", "the channel's name in config.json notify_channels")
    .option("--thread <id>", "a thread inside the chat")
    .action(
      act((deps, id: string, platform: string, chatId: string, opts: { thread?: string }) =>
        runNotifyTest(deps, id, platform, chatId, opts),
      ),
    );

  program
    .command("notify-log")
    .summary("show the notification delivery log (of one task, or all)")
    .argument("[task_id]")
    .option("--limit <n>", "at most this many rows (default 50)", intArg(1))
    .option("--json", "print the rows as JSON")
    .action(
      act((deps, id: string | undefined, opts: { json?: boolean; limit?: number }) => runNotifyLog(deps, id, opts)),
    );
};
