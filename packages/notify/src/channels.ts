import { createHmac, timingSafeEqual } from "node:crypto";

/** The platforms a subscription may name a configured channel under (its `chat_id` is the channel's name). */
export const CHANNEL_TYPES = ["webhook", "slack", "discord"] as const;
export type ChannelType = (typeof CHANNEL_TYPES)[number];

export function isChannelType(platform: string): platform is ChannelType {
  return (CHANNEL_TYPES as readonly string[]).includes(platform);
}

/** One `notify_channels.<name>` entry of config.json. `url` and `secret` are secrets. */
export interface Channel {
  name: string;
  type: ChannelType;
  url: string;
  secret?: string | undefined;
  timeout_seconds?: number | undefined;
}

/** What one notification says, whatever the channel: the senders shape it per platform. */
export interface NotifyMessage {
  board: string;
  task: { id: string; title: string; status: string | null; assignee: string | null };
  /** The event it reports; null for a test message. */
  event: { id: number; kind: string; created_at: number; payload: Record<string, unknown> | null } | null;
  /** One line: what happened. */
  headline: string;
  /** The whole text: what happened, why, and what to do next (several lines). */
  text: string;
  /** Whether a person has to act (blocked, gave up, review requested, ...). */
  needs_you: boolean;
  /** The card on the board, when the board's public address is configured. */
  link: string | null;
}

/** The header a webhook receiver checks: `sha256=<hex HMAC-SHA256 of the raw body under the channel's secret>`. */
export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

/** For receivers (and our tests): whether `header` is the signature of `body` under `secret`, in constant time. */
export function verifySignature(secret: string, body: string, header: string | null | undefined): boolean {
  if (!header) return false;
  const want = Buffer.from(signBody(secret, body));
  const got = Buffer.from(header);
  return want.length === got.length && timingSafeEqual(want, got);
}

const DISCORD_CONTENT_MAX = 2000;
const SLACK_TEXT_MAX = 3000;

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** The JSON body a channel of this type is sent. */
export function renderBody(type: ChannelType, m: NotifyMessage): Record<string, unknown> {
  const marker = m.needs_you ? "[needs you] " : "";
  const withLink = m.link ? `${m.text}\n${m.link}` : m.text;
  switch (type) {
    case "webhook":
      return {
        event: m.event,
        task: m.task,
        message: m.text,
        needs_you: m.needs_you,
        board: m.board,
        link: m.link,
      };
    case "slack": {
      const [first, ...rest] = m.text.split("\n");
      const head = `${marker}${first ?? ""}`;
      const body = rest.join("\n");
      return {
        text: clip(`${marker}${withLink}`, SLACK_TEXT_MAX),
        blocks: [
          {
            type: "section",
            text: { type: "mrkdwn", text: clip(`*${head}*${body ? `\n${body}` : ""}`, SLACK_TEXT_MAX) },
          },
          ...(m.link
            ? [{ type: "context", elements: [{ type: "mrkdwn", text: `<${m.link}|Open ${m.task.id}>` }] }]
            : []),
        ],
      };
    }
    case "discord":
      return {
        content: clip(`${marker}${withLink}`, DISCORD_CONTENT_MAX),
        embeds: [
          {
            title: clip(`${marker}${m.headline}`, 256),
            description: clip(m.text, 4000),
            ...(m.link ? { url: m.link } : {}),
            // red for "needs you", green otherwise
            color: m.needs_you ? 0xd93025 : 0x1e8e3e,
          },
        ],
      };
  }
}

/**
 * The card on the board: the web app opens a task's drawer from `?task=<id>` (and the board from
 * `?board=<slug>`). Null when the board's public address is not configured.
 */
export function taskLink(publicUrl: string | null | undefined, board: string, taskId: string): string | null {
  if (!publicUrl) return null;
  let u: URL;
  try {
    u = new URL(publicUrl);
  } catch {
    return null;
  }
  u.searchParams.set("board", board);
  u.searchParams.set("task", taskId);
  return u.toString();
}

/** What `kanban notify-test` sends: says it is a test, names the card, asks for nothing. */
export function testMessage(board: string, task: NotifyMessage["task"], link: string | null): NotifyMessage {
  const headline = `[${board}] test notification for ${task.id} "${task.title}"`;
  return {
    board,
    task,
    event: null,
    headline,
    text: `${headline}\nWhy: someone ran \`kanban notify-test\` to check this channel.\nNext: nothing; this channel works.`,
    needs_you: false,
    link,
  };
}
