/**
 * The board's own desktop notifications (issue 17): a card with a `desktop` subscription is "watched
 * by this browser"; while a board tab is open, the live events of watched cards of these kinds become
 * browser notifications. The server-side notifier never delivers `desktop` rows.
 */

export const DESKTOP_PLATFORM = "desktop";
/** The chat id a desktop subscription carries: there is one desktop, the board tab. */
export const DESKTOP_CHAT = "board";

/** Kinds that stop until a person acts. */
export const NEEDS_YOU_KINDS = [
  "blocked",
  "gave_up",
  "block_loop_detected",
  "review_requested",
  "approval_requested",
  "incident_opened",
];
/** Every kind a desktop notification is shown for. */
export const DESKTOP_KINDS = [...NEEDS_YOU_KINDS, "completed"];

/** The platforms the drawer and the bell offer; webhook/slack/discord name a channel of config.json. */
export const NOTIFY_PLATFORMS = ["desktop", "webhook", "slack", "discord"] as const;

export interface LiveEventLike {
  id: number | string;
  task_id: string | null;
  kind: string;
  payload?: Record<string, unknown> | null;
}

export interface DesktopMessage {
  title: string;
  body: string;
  needsYou: boolean;
  /** One notification per event: the browser replaces one with the same tag instead of stacking both. */
  tag: string;
}

function line(value: unknown, max = 160): string {
  if (typeof value !== "string") return "";
  const first = value.trim().split("\n")[0] ?? "";
  return first.length > max ? `${first.slice(0, max - 1)}…` : first;
}

/** What a notification says for an event of a card titled `title`, or null for kinds it is not shown for. */
export function desktopMessage(event: LiveEventLike, title: string): DesktopMessage | null {
  if (!event.task_id || !DESKTOP_KINDS.includes(event.kind)) return null;
  const p = event.payload ?? {};
  const needsYou = NEEDS_YOU_KINDS.includes(event.kind);
  let body: string;
  switch (event.kind) {
    case "blocked":
      body = `Blocked${line(p.reason) ? `: ${line(p.reason)}` : ""}. Answer in a comment, then unblock it.`;
      break;
    case "gave_up":
      body = `Gave up after repeated failures${line(p.error) ? `: ${line(p.error)}` : ""}. Read the worker log, then unblock or reassign.`;
      break;
    case "block_loop_detected":
      body = `Blocked again for the same cause and routed to triage${line(p.reason) ? `: ${line(p.reason)}` : ""}. Decide what happens next.`;
      break;
    case "review_requested":
      body = `Ready for review${line(p.summary) ? `: ${line(p.summary)}` : ""}. Review it and approve or request changes.`;
      break;
    case "approval_requested":
      body =
        "Its checks passed and it waits for your approval. Read the evidence in its drawer, then approve or reopen it.";
      break;
    case "incident_opened":
      body = `Incident${line(p.summary ?? p.reason) ? `: ${line(p.summary ?? p.reason)}` : ""}. Its profile is paused until a probe succeeds or you resume it.`;
      break;
    default:
      body = `Done${line(p.summary ?? p.result) ? `: ${line(p.summary ?? p.result)}` : "."}`;
  }
  return {
    title: `${needsYou ? "Needs you" : "Done"} · ${title}`,
    body,
    needsYou,
    tag: `kanban-${event.task_id}-${event.id}`,
  };
}

/** The ids of the cards this browser watches, from the board's subscriptions. */
export function desktopTaskIds(subs: readonly { task_id: string; platform: string }[]): Set<string> {
  return new Set(subs.filter((s) => s.platform === DESKTOP_PLATFORM).map((s) => s.task_id));
}

/**
 * Asks for the permission to show notifications (only from a click: browsers ignore a request that
 * no gesture started). Answers whether notifications can be shown now.
 */
export async function ensureNotificationPermission(): Promise<NotificationPermission | "unsupported"> {
  if (typeof window === "undefined" || !("Notification" in window)) return "unsupported";
  if (Notification.permission !== "default") return Notification.permission;
  try {
    return await Notification.requestPermission();
  } catch {
    return Notification.permission;
  }
}
