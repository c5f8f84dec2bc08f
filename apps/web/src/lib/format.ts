import type { Severity } from "./types.ts";

/** "now", "42s", "5m", "3h", "4d", "6w": compact like Linear's ages. */
export function shortDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 5) return "now";
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h`;
  if (s < 14 * 86_400) return `${Math.floor(s / 86_400)}d`;
  return `${Math.floor(s / (7 * 86_400))}w`;
}

/** A lease countdown: "9:58", "1:02:03", or "expired 12s ago". */
export function countdown(secondsLeft: number): string {
  if (secondsLeft <= 0) {
    const d = shortDuration(-secondsLeft);
    return d === "now" ? "expired" : `expired ${d} ago`;
  }
  const s = Math.floor(secondsLeft);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${sec}` : `${m}:${sec}`;
}

/** "3m ago" for a unix-seconds timestamp. */
export function ago(at: number | null | undefined, now: number): string {
  if (at === null || at === undefined) return "never";
  const d = shortDuration(now - at);
  return d === "now" ? "just now" : `${d} ago`;
}

/** A unix-seconds timestamp as local date and time (for tooltips and the timeline). */
export function stamp(at: number): string {
  const d = new Date(at * 1000);
  return `${d.toLocaleDateString(undefined, { month: "short", day: "numeric" })} ${d.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" })}`;
}

export const SEVERITY_RANK: Record<Severity, number> = { warning: 1, error: 2, critical: 3 };

/** Badge colours per severity (text, background and ring share the hue). */
export const SEVERITY_CLASS: Record<Severity, string> = {
  warning: "text-amber-700 bg-amber-100 ring-amber-300 dark:text-amber-300 dark:bg-amber-500/15 dark:ring-amber-500/40",
  error: "text-red-700 bg-red-100 ring-red-300 dark:text-red-300 dark:bg-red-500/15 dark:ring-red-500/40",
  critical: "text-white bg-red-600 ring-red-700 dark:bg-red-600 dark:ring-red-400",
};

/** "P2", "P-1": only non-zero priorities get a badge. */
export function priorityLabel(p: number): string | null {
  return p === 0 ? null : `P${p}`;
}

/** Heartbeat freshness of a running card: a person tells alive from stuck at a glance. */
export type Liveness = "alive" | "quiet" | "stale";

export function liveness(opts: {
  now: number;
  lastHeartbeat: number | null;
  startedAt: number | null;
  claimExpires: number | null;
}): Liveness {
  if (opts.claimExpires !== null && opts.claimExpires < opts.now) return "stale";
  const last = opts.lastHeartbeat ?? opts.startedAt;
  if (last === null) return "quiet";
  const age = opts.now - last;
  if (age <= 120) return "alive";
  return age <= 600 ? "quiet" : "stale";
}
