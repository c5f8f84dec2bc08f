import type { BoardContext } from "./context.ts";
import { invalid } from "./errors.ts";
import { addTally, type Histogram, histogramPercentiles, type Percentiles, percentiles } from "./flow-histogram.ts";
import { addCard, catchUpFlowLedger, METRIC } from "./flow-ledger.ts";
import {
  cardsDoneIn,
  completionSpan,
  episodesBegunIn,
  histRows,
  readyCount,
  readySinceAtRank,
  runOutcomes,
} from "./store/sqlite/flow-ledger.ts";

/**
 * Flow metrics (issue 21): where a board's time goes, over a window of completions. Every figure is
 * derived from rows the board already keeps (tasks, runs, events), so a Hermes board has its
 * history measured the day it is opened; they are read from the flow ledger those rows keep up to
 * date (flow-ledger.ts), whose histograms make the done cards' percentiles exact or within one
 * bucket (flow-histogram.ts).
 *
 * - throughput: cards done per UTC day of the window (days with none are listed as 0);
 * - cycle time: first claim to done; lead time: creation to done (cards done in the window);
 * - time in status of those cards: `running` (their runs' summed durations), `blocked` (their
 *   blocked episodes before they were done), `waiting` (the rest of the lead time: triage, todo,
 *   ready, review);
 * - the ready queue now: how long each ready card has waited since it last entered the lane;
 * - blocked episodes that began in the window, by reason (the block's kind; `breaker` for gave_up);
 * - rework: runs per done card;
 * A run here is one that did work: the zero-length runs a block or a manual completion of a card
 * nobody claimed synthesizes (spec §1.6) are not counted.
 * - runs that ended in the window per profile: how many completed, and how the rest ended.
 */

export { type Percentiles, percentiles };

export const DEFAULT_FLOW_WINDOW_SECONDS = 30 * 86_400;
/** The widest window one call measures (a year): the throughput series has a row per day. */
export const MAX_FLOW_WINDOW_SECONDS = 366 * 86_400;

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

/** The UTC day of a unix time, as YYYY-MM-DD. */
export function utcDay(seconds: number): string {
  return new Date(seconds * 1000).toISOString().slice(0, 10);
}

function days(since: number, until: number): string[] {
  const out: string[] = [];
  const first = Math.floor(since / 86_400);
  const last = Math.floor((until - 1) / 86_400);
  for (let d = first; d <= last; d++) out.push(utcDay(d * 86_400));
  return out;
}

/** The window a flow read names, its defaults filled in; refuses one that is not a window. */
export function flowWindow(now: number, opts: FlowOptions): { since: number; until: number } {
  // Exclusive: by default the second after now, so what happened this very second counts.
  const until = opts.until ?? now + 1;
  const since = opts.since ?? until - DEFAULT_FLOW_WINDOW_SECONDS;
  if (!Number.isInteger(since) || !Number.isInteger(until)) throw invalid("since and until must be whole unix seconds");
  if (since >= until) throw invalid(`since (${since}) must be before until (${until})`);
  if (until - since > MAX_FLOW_WINDOW_SECONDS)
    throw invalid(`a flow window is at most ${MAX_FLOW_WINDOW_SECONDS / 86_400} days; ask for a shorter one`);
  return { since, until };
}

/** The board's flow over a window (see the module comment). */
export async function flowStats(ctx: BoardContext, opts: FlowOptions = {}): Promise<FlowStats> {
  const now = ctx.now();
  const { since, until } = flowWindow(now, opts);
  const tenant = opts.tenant ?? null;

  await catchUpFlowLedger(ctx);

  // Whole days come from the ledger's histograms. A day the window cuts through is read card by
  // card, unless all of its cards fall inside the window anyway (today's, for a window ending now).
  const firstDay = Math.floor(since / 86_400);
  const dayCount = days(since, until).length;
  const cutDays = new Set<number>();
  for (const day of new Set([firstDay, firstDay + dayCount - 1])) {
    const start = day * 86_400;
    if (start >= since && start + 86_400 <= until) continue;
    const span = await completionSpan(ctx, start, start + 86_400, tenant);
    if (span.first === null || span.last === null) continue;
    if (span.first >= since && span.last < until) continue;
    cutDays.add(day);
  }
  const hists: Histogram[] = Object.values(METRIC).map(() => new Map());
  const perDayCount = new Array<number>(dayCount).fill(0);
  for (const r of await histRows(ctx, firstDay, firstDay + dayCount - 1, tenant)) {
    if (cutDays.has(r.day)) continue;
    addTally(hists[r.metric] as Histogram, r.bucket, r);
    if (r.metric === METRIC.lead) perDayCount[r.day - firstDay] = (perDayCount[r.day - firstDay] as number) + r.n;
  }
  for (const day of cutDays) {
    const cards = await cardsDoneIn(ctx, Math.max(since, day * 86_400), Math.min(until, (day + 1) * 86_400), tenant);
    for (const c of cards) addCard(hists, c);
    perDayCount[day - firstDay] = (perDayCount[day - firstDay] as number) + cards.length;
  }
  const perDay = perDayCount.map((done, i) => ({ day: utcDay((firstDay + i) * 86_400), done }));
  const runsHist = hists[METRIC.runs] as Histogram;
  let done = 0;
  let totalRuns = 0;
  let reworked = 0;
  for (const [bucket, t] of runsHist) {
    done += t.n;
    totalRuns += t.total;
    // Buckets below 64 hold exactly their own number of runs; every later one holds more than one.
    if (bucket >= 2) reworked += t.n;
  }

  const ready = await readyCount(ctx, tenant);
  const ageAt = async (p: number) =>
    now - (await readySinceAtRank(ctx, Math.max(1, Math.ceil((p / 100) * ready.count)), tenant));
  const readyAges: Percentiles =
    ready.count === 0 || ready.oldest === null
      ? { n: 0, p50: null, p90: null, max: null }
      : { n: ready.count, p50: await ageAt(50), p90: await ageAt(90), max: now - ready.oldest };

  const byReason = new Map<string, { started_at: number; ended_at: number | null }[]>();
  for (const e of await episodesBegunIn(ctx, since, until, tenant)) {
    const list = byReason.get(e.reason);
    if (list) list.push(e);
    else byReason.set(e.reason, [e]);
  }

  const profiles = new Map<string, { runs: number; completed: number; outcomes: Record<string, number> }>();
  for (const r of await runOutcomes(ctx, since, until, tenant)) {
    const name = r.profile ?? "(none)";
    const p = profiles.get(name) ?? { runs: 0, completed: 0, outcomes: {} };
    const outcome = r.outcome ?? "unknown";
    p.runs += r.n;
    if (outcome === "completed") p.completed += r.n;
    p.outcomes[outcome] = (p.outcomes[outcome] ?? 0) + r.n;
    profiles.set(name, p);
  }

  return {
    since,
    until,
    throughput: perDay,
    done,
    cycle_time_seconds: histogramPercentiles(hists[METRIC.cycle] as Histogram),
    lead_time_seconds: histogramPercentiles(hists[METRIC.lead] as Histogram),
    time_in_status_seconds: {
      running: histogramPercentiles(hists[METRIC.running] as Histogram),
      blocked: histogramPercentiles(hists[METRIC.blocked] as Histogram),
      waiting: histogramPercentiles(hists[METRIC.waiting] as Histogram),
    },
    ready_queue: { count: ready.count, age_seconds: readyAges },
    blocked: [...byReason]
      .map(([reason, es]) => ({
        reason,
        episodes: es.length,
        open: es.filter((e) => e.ended_at === null).length,
        seconds: percentiles(es.map((e) => (e.ended_at ?? now) - e.started_at)),
      }))
      .sort((a, b) => b.episodes - a.episodes || a.reason.localeCompare(b.reason)),
    rework: {
      runs_per_done_card: done === 0 ? null : round2(totalRuns / done),
      reworked_cards: reworked,
      runs: histogramPercentiles(runsHist),
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

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}
