// The analytics page (issue 21): the board's flow (`stats.flow`) and cost (`usage.summary`) over a
// window picked in the URL. Pure helpers only: the window, units, cost per done card and which
// cards a clicked figure stands for.

export const WINDOWS = ["7d", "30d", "90d"] as const;
export type WindowName = (typeof WINDOWS)[number];
export const DEFAULT_WINDOW: WindowName = "30d";

/** `?since=` as the page reads it: one of the three windows, anything else the default. */
export function parseWindow(value: string | null | undefined): WindowName {
  return (WINDOWS as readonly string[]).includes(value ?? "") ? (value as WindowName) : DEFAULT_WINDOW;
}

export function windowDays(w: WindowName): number {
  return Number(w.slice(0, -1));
}

/**
 * The window's start in unix seconds, whole minutes so the two queries and a reload within the
 * same minute ask the same thing (the end is the server's now, as `kanban stats --flow` takes it).
 */
export function windowSince(nowSeconds: number, w: WindowName): number {
  return Math.floor(nowSeconds / 60) * 60 - windowDays(w) * 86_400;
}

/** A duration with its unit: `45s`, `12m`, `3.5h`, `2.1d`; `—` when there is nothing to measure. */
export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return "—";
  const s = Math.max(0, Math.round(seconds));
  const one = (x: number) => String(Math.round(x * 10) / 10);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${one(s / 60)}m`;
  if (s < 86_400) return `${one(s / 3600)}h`;
  return `${one(s / 86_400)}d`;
}

/** A share (0..1) as a whole percentage; `—` when there were no runs to rate. */
export function percent(rate: number | null | undefined): string {
  return rate === null || rate === undefined ? "—" : `${Math.round(rate * 100)}%`;
}

/** Micro-dollars as dollars with cents (`$1.50`, `$0.0125`: further digits only when they count). */
export function money(micro: number): string {
  const whole = Math.floor(micro / 1_000_000);
  const frac = String(micro % 1_000_000)
    .padStart(6, "0")
    .replace(/0+$/, "")
    .padEnd(2, "0");
  return `$${whole.toLocaleString("en-US")}.${frac}`;
}

/** A UTC day (`YYYY-MM-DD`) as the unix seconds it spans, end exclusive. */
export function dayRange(day: string): { since: number; until: number } {
  const since = Math.floor(Date.parse(`${day}T00:00:00Z`) / 1000);
  return { since, until: since + 86_400 };
}

interface UsageGroup {
  key: string | number | null;
  cost_micro_usd: number;
  unpriced: number;
}

export interface CostRow {
  key: string;
  cost_micro_usd: number;
  /** Reports nobody could price (their cost is missing from the sum). */
  unpriced: number;
  /** What the cost is divided by. */
  done: number;
  /** Whole micro-dollars per done card; null when nothing was done to divide by. */
  per_done_micro_usd: number | null;
}

const NO_PROFILE = "(none)";

function perDone(cost: number, done: number): number | null {
  return done === 0 ? null : Math.round(cost / done);
}

/**
 * Cost per done card by profile: the profile's usage in the window divided by the runs of that
 * profile that ended `completed` in the window (flow's `by_profile[].completed`, one per card it
 * finished). A profile that finished nothing has no figure, only its cost.
 */
export function costPerDoneByProfile(
  groups: readonly UsageGroup[],
  byProfile: readonly { profile: string; completed: number }[],
): CostRow[] {
  const completed = new Map(byProfile.map((p) => [p.profile, p.completed]));
  return groups.map((g) => {
    const key = g.key === null ? NO_PROFILE : String(g.key);
    const done = completed.get(key) ?? 0;
    return {
      key,
      cost_micro_usd: g.cost_micro_usd,
      unpriced: g.unpriced,
      done,
      per_done_micro_usd: perDone(g.cost_micro_usd, done),
    };
  });
}

/**
 * Cost per done card by model: the model's usage in the window divided by every card done in the
 * window (flow's `done`; the board does not record which model finished a card), so the rows add
 * up to the whole board's cost per done card.
 */
export function costPerDoneByModel(groups: readonly UsageGroup[], done: number): CostRow[] {
  return groups.map((g) => ({
    key: g.key === null ? "(unknown model)" : String(g.key),
    cost_micro_usd: g.cost_micro_usd,
    unpriced: g.unpriced,
    done,
    per_done_micro_usd: perDone(g.cost_micro_usd, done),
  }));
}

/** What a clicked figure stands for; kept in the URL (`?cards=day:2026-12-01`) so it can be linked. */
export type Drill =
  | { kind: "day"; day: string }
  | { kind: "ready" }
  | { kind: "blocked"; reason: string }
  | { kind: "profile"; profile: string };

export function drillParam(d: Drill): string {
  if (d.kind === "day") return `day:${d.day}`;
  if (d.kind === "blocked") return `blocked:${d.reason}`;
  if (d.kind === "profile") return `profile:${d.profile}`;
  return "ready";
}

export function parseDrill(value: string | null | undefined): Drill | null {
  if (!value) return null;
  if (value === "ready") return { kind: "ready" };
  const at = value.indexOf(":");
  if (at < 0) return null;
  const kind = value.slice(0, at);
  const arg = value.slice(at + 1);
  if (arg === "") return null;
  if (kind === "day" && /^\d{4}-\d{2}-\d{2}$/.test(arg)) return { kind, day: arg };
  if (kind === "blocked") return { kind, reason: arg };
  if (kind === "profile") return { kind, profile: arg };
  return null;
}

/** The task status whose cards a drill lists (one `tasks.list` call); null: any status. */
export function drillStatus(d: Drill): string | null {
  if (d.kind === "day") return "done";
  if (d.kind === "ready") return "ready";
  return null;
}

interface DrillCard {
  status: string;
  assignee: string | null;
  completed_at: number | null;
}

/** Whether a card belongs to a day, ready or profile drill (a blocked reason's cards come from `stats.flowBlocked`). */
export function matchesDrill(card: DrillCard, d: Drill): boolean {
  if (d.kind === "day") {
    const { since, until } = dayRange(d.day);
    return (
      card.status === "done" && card.completed_at !== null && card.completed_at >= since && card.completed_at < until
    );
  }
  if (d.kind === "ready") return card.status === "ready";
  if (d.kind === "profile") return (card.assignee ?? NO_PROFILE) === d.profile;
  return false;
}

/** The heading of the card list a drill opens. */
export function drillTitle(d: Drill): string {
  if (d.kind === "day") return `Cards done on ${d.day} (UTC)`;
  if (d.kind === "ready") return "Cards in the ready queue now";
  if (d.kind === "blocked") return `Cards blocked for “${d.reason}” in this window`;
  return `Cards assigned to ${d.profile}`;
}

/** How many cards one board link may name (ids are short; the URL stays under 2 KB). */
export const MAX_LINKED_IDS = 150;

/** The board's `?ids=` (comma-separated): the cards to show, or null for every card. */
export function parseIds(value: string | null | undefined): Set<string> | null {
  if (value === null || value === undefined) return null;
  const ids = value
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  return ids.length === 0 ? null : new Set(ids);
}

/** A board link showing only `ids` (the first {@link MAX_LINKED_IDS}); null when there is none to show. */
export function boardIdsHref(board: string | null, ids: readonly string[]): string | null {
  if (ids.length === 0) return null;
  const q = new URLSearchParams();
  if (board) q.set("board", board);
  q.set("ids", ids.slice(0, MAX_LINKED_IDS).join(","));
  return `/?${q.toString()}`;
}
