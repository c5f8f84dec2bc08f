import type { BoardContext } from "./context.ts";
import { invalid } from "./errors.ts";
import { parseStoredJson } from "./stored-json.ts";
import {
  BLOCK_START_KINDS,
  type BlockEventRow,
  blockEvents,
  type DoneTaskRow,
  doneTasksIn,
  readyTasks,
  runOutcomes,
} from "./store/sqlite/flow-reads.ts";

/**
 * Flow metrics (issue 21): where a board's time goes, over a window of completions. Every figure is
 * computed from rows the board already keeps (tasks, runs, events), so a Hermes board has its
 * history measured the day it is opened.
 *
 * - throughput: cards done per UTC day of the window (days with none are listed as 0);
 * - cycle time: first claim to done; lead time: creation to done (cards done in the window);
 * - time in status of those cards: `running` (their runs' summed durations), `blocked` (their
 *   blocked episodes), `waiting` (the rest of the lead time: triage, todo, ready, review);
 * - the ready queue now: how long each ready card has waited since it last entered the lane;
 * - blocked episodes that began in the window, by reason (the block's kind; `breaker` for gave_up);
 * - rework: runs per done card;
 * A run here is one that did work: the zero-length runs a block or a manual completion of a card
 * nobody claimed synthesizes (spec §1.6) are not counted.
 * - runs that ended in the window per profile: how many completed, and how the rest ended.
 */

export const DEFAULT_FLOW_WINDOW_SECONDS = 30 * 86_400;
/** The widest window one call measures (a year): the throughput series has a row per day. */
export const MAX_FLOW_WINDOW_SECONDS = 366 * 86_400;

export interface Percentiles {
  /** How many values the percentiles are over. */
  n: number;
  p50: number | null;
  p90: number | null;
  max: number | null;
}

export interface FlowStats {
  since: number;
  until: number;
  throughput: { day: string; done: number }[];
  done: number;
  cycle_time_seconds: Percentiles;
  lead_time_seconds: Percentiles;
  time_in_status_seconds: { running: Percentiles; blocked: Percentiles; waiting: Percentiles };
  ready_queue: { count: number; age_seconds: Percentiles };
  blocked: { reason: string; episodes: number; open: number; seconds: Percentiles }[];
  rework: { runs_per_done_card: number | null; reworked_cards: number; runs: Percentiles };
  by_profile: {
    profile: string;
    runs: number;
    completed: number;
    success_rate: number | null;
    outcomes: Record<string, number>;
  }[];
}

export interface FlowOptions {
  /** Unix seconds; default 30 days before `until`. */
  since?: number | null;
  /** Unix seconds, exclusive; default just after now. */
  until?: number | null;
  /** Only this tenant's tasks (null: the whole board). */
  tenant?: string | null;
}

/** Nearest-rank percentiles of `values` (any order); nulls when there are none. */
export function percentiles(values: readonly number[]): Percentiles {
  if (values.length === 0) return { n: 0, p50: null, p90: null, max: null };
  // A typed array sorts numbers natively, several times faster than a comparator over 70,000 cards.
  const sorted = Float64Array.from(values).sort();
  const rank = (p: number) => sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] as number;
  return { n: sorted.length, p50: rank(50), p90: rank(90), max: sorted[sorted.length - 1] as number };
}

/** The UTC day of a unix time, as YYYY-MM-DD. */
export function utcDay(seconds: number): string {
  return new Date(seconds * 1000).toISOString().slice(0, 10);
}

interface Episode {
  task_id: string;
  reason: string;
  start: number;
  end: number | null;
}

/** A block's reason as flow groups it: its kind (typed blocks), `breaker` for a trip, else `untyped`. */
function blockReason(e: BlockEventRow): string {
  if (e.kind === "gave_up") return "breaker";
  if (e.kind === "dependency_wait") return "dependency";
  if (e.kind === "block_loop_detected") return "block_loop";
  const parsed = parseStoredJson(e.payload);
  const kind =
    parsed !== null && "value" in parsed && typeof parsed.value === "object" && parsed.value !== null
      ? (parsed.value as Record<string, unknown>).kind
      : undefined;
  return typeof kind === "string" && kind !== "" ? kind : "untyped";
}

/** Pairs each block start with the first end of the same task after it (rows are ordered per task). */
function episodesOf(rows: readonly BlockEventRow[]): Episode[] {
  const starts = new Set<string>(BLOCK_START_KINDS);
  const out: Episode[] = [];
  let open: Episode | null = null;
  for (const r of rows) {
    if (open !== null && open.task_id !== r.task_id) open = null;
    if (starts.has(r.kind)) {
      // A second start while blocked (a trip after a block) continues the same episode.
      if (open === null) {
        open = { task_id: r.task_id, reason: blockReason(r), start: Number(r.created_at), end: null };
        out.push(open);
      }
    } else if (open !== null) {
      open.end = Number(r.created_at);
      open = null;
    }
  }
  return out;
}

function days(since: number, until: number): string[] {
  const out: string[] = [];
  const first = Math.floor(since / 86_400);
  const last = Math.floor((until - 1) / 86_400);
  for (let d = first; d <= last; d++) out.push(utcDay(d * 86_400));
  return out;
}

/** The board's flow over a window (see the module comment). */
export async function flowStats(ctx: BoardContext, opts: FlowOptions = {}): Promise<FlowStats> {
  const now = ctx.now();
  // Exclusive: by default the second after now, so what happened this very second counts.
  const until = opts.until ?? now + 1;
  const since = opts.since ?? until - DEFAULT_FLOW_WINDOW_SECONDS;
  if (!Number.isInteger(since) || !Number.isInteger(until)) throw invalid("since and until must be whole unix seconds");
  if (since >= until) throw invalid(`since (${since}) must be before until (${until})`);
  if (until - since > MAX_FLOW_WINDOW_SECONDS)
    throw invalid(`a flow window is at most ${MAX_FLOW_WINDOW_SECONDS / 86_400} days; ask for a shorter one`);
  const tenant = opts.tenant ?? null;

  // Four reads, not one snapshot: a card that moves between them is off by one in one figure, which
  // a measure of weeks of work can carry.
  const doneRows = (await doneTasksIn(ctx, since, until, tenant)).map(numericDone);
  const ready = await readyTasks(ctx, tenant);
  const blocks = await blockEvents(ctx, since, until, tenant);
  const outcomes = await runOutcomes(ctx, since, until, tenant);

  // Counted by day number, named once per day: a Date per card was a tenth of the read at 70,000 cards.
  const firstDay = Math.floor(since / 86_400);
  const perDayCount = new Array<number>(days(since, until).length).fill(0);
  for (const t of doneRows) {
    const d = Math.floor(t.completed_at / 86_400) - firstDay;
    if (d >= 0 && d < perDayCount.length) perDayCount[d] = (perDayCount[d] as number) + 1;
  }
  const perDay = new Map<string, number>(perDayCount.map((n, i) => [utcDay((firstDay + i) * 86_400), n]));

  const episodes = episodesOf(blocks);
  const blockedByTask = new Map<string, number>();
  for (const e of episodes) {
    const seconds = (e.end ?? now) - e.start;
    blockedByTask.set(e.task_id, (blockedByTask.get(e.task_id) ?? 0) + seconds);
  }

  const lead = doneRows.map((t) => t.completed_at - t.created_at);
  const byReason = new Map<string, Episode[]>();
  for (const e of episodes) {
    const list = byReason.get(e.reason);
    if (list) list.push(e);
    else byReason.set(e.reason, [e]);
  }

  const profiles = new Map<string, { runs: number; completed: number; outcomes: Record<string, number> }>();
  for (const r of outcomes) {
    const name = r.profile ?? "(none)";
    const p = profiles.get(name) ?? { runs: 0, completed: 0, outcomes: {} };
    const n = Number(r.n);
    const outcome = r.outcome ?? "unknown";
    p.runs += n;
    if (outcome === "completed") p.completed += n;
    p.outcomes[outcome] = (p.outcomes[outcome] ?? 0) + n;
    profiles.set(name, p);
  }
  const totalRuns = doneRows.reduce((n, t) => n + t.runs, 0);

  return {
    since,
    until,
    throughput: [...perDay].map(([day, done]) => ({ day, done })),
    done: doneRows.length,
    cycle_time_seconds: percentiles(
      doneRows.filter((t) => t.started_at !== null).map((t) => t.completed_at - (t.started_at as number)),
    ),
    lead_time_seconds: percentiles(lead),
    time_in_status_seconds: {
      running: percentiles(doneRows.map((t) => t.running_seconds)),
      blocked: percentiles(doneRows.map((t) => blockedByTask.get(t.id) ?? 0)),
      waiting: percentiles(
        doneRows.map((t) =>
          Math.max(0, t.completed_at - t.created_at - t.running_seconds - (blockedByTask.get(t.id) ?? 0)),
        ),
      ),
    },
    ready_queue: { count: ready.length, age_seconds: percentiles(ready.map((r) => now - Number(r.ready_since))) },
    blocked: [...byReason]
      .map(([reason, es]) => ({
        reason,
        episodes: es.length,
        open: es.filter((e) => e.end === null).length,
        seconds: percentiles(es.map((e) => (e.end ?? now) - e.start)),
      }))
      .sort((a, b) => b.episodes - a.episodes || a.reason.localeCompare(b.reason)),
    rework: {
      runs_per_done_card: doneRows.length === 0 ? null : round2(totalRuns / doneRows.length),
      reworked_cards: doneRows.filter((t) => t.runs > 1).length,
      runs: percentiles(doneRows.map((t) => t.runs)),
    },
    by_profile: [...profiles]
      .map(([profile, p]) => ({
        profile,
        runs: p.runs,
        completed: p.completed,
        success_rate: p.runs === 0 ? null : round2(p.completed / p.runs),
        outcomes: p.outcomes,
      }))
      .sort((a, b) => b.runs - a.runs || a.profile.localeCompare(b.profile)),
  };
}

function numericDone(t: DoneTaskRow): DoneTaskRow {
  return {
    ...t,
    created_at: Number(t.created_at),
    started_at: t.started_at === null ? null : Number(t.started_at),
    completed_at: Number(t.completed_at),
    runs: Number(t.runs),
    running_seconds: Number(t.running_seconds),
  };
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}
