/** How long to wait before the next reconnect attempt: 1 s, 2 s, 4 s … capped at 30 s. */
export function backoffMs(attempt: number): number {
  return Math.min(30_000, 1000 * 2 ** Math.max(0, attempt));
}

export type LiveStatus = "connecting" | "live" | "reconnecting" | "offline";

/** What the indicator says; "offline" once reconnecting has failed for a while. */
export const LIVE_LABEL: Record<LiveStatus, string> = {
  connecting: "Connecting…",
  live: "Live",
  reconnecting: "Reconnecting…",
  offline: "Offline: retrying",
};
