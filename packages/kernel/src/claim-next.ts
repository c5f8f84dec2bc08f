import { type BudgetHold, BudgetHolds, resumeBudgetPaused } from "./budgets.ts";
import type { BoardContext } from "./context.ts";
import { IncidentPauses, type IncidentRow, incidentReplacesGuard, settleProbes } from "./incidents.ts";
import { laneHold } from "./motion/holds.ts";
import { type RespawnGuardReason, respawnGuardWindowStart, respawnHold } from "./respawn-guard.ts";
import { missingLabels } from "./labels.ts";
import { appendEvent } from "./store/sqlite/events.ts";
import { type LaneRow, readyLaneRows, runningPerProfile, stillReady } from "./store/sqlite/ready-lane.ts";
import { readyRequires } from "./store/sqlite/requires.ts";
import { type FirstLock, lockFirstReadyTask, sharedClaimWalk } from "./store/pg/shared-writers.ts";
import type { RespawnFactsRow } from "./store/sqlite/respawn-reads.ts";
import type { ClaimHead } from "./store/sqlite/claims.ts";
import type { FirstReadyOutcome } from "./store/pg/folded-writes.ts";
import type { Task } from "./types.ts";

/** Which ready tasks a claimer may take, and for whom (the dispatcher's ready-lane rules). */
export interface ReadyLaneFilter {
  /** Whether a worker can be started for this assignee here; default: any assignee. */
  isSpawnable?: (profile: string) => boolean;
  /** Given to an unassigned task when it is spawnable itself; without one, unassigned tasks are skipped. */
  defaultAssignee?: string | null;
  /** At most this many running tasks per assignee: those running when the walk began plus its own claims. */
  maxPerProfile?: number | null;
  /** Decide and report only: no claim, no assignment, no event is written. */
  dryRun?: boolean;
  /**
   * Admission control (the dispatcher's memory floor and host-wide cap): asked before a task of
   * `assignee` would be claimed; a hold leaves the task ready and unclaimed (no claim, no event, no
   * failure), reported as a `held` skip. Asked again for every task, so it may change within a walk.
   */
  hold?: (assignee: string) => LaneHold | null;
  /**
   * The labels this claimer offers (a remote host's `--labels`, a local dispatcher's config). A task
   * is claimable only when every label it requires is among them; default `[]`, so a claimer that
   * offers none never takes a task that requires any (skip reason `labels`).
   */
  labels?: readonly string[];
  /**
   * Only tasks of this tenant (a host whose token is bound to one); null or absent: every tenant.
   * Other tenants' tasks are not this claimer's lane at all: passed over without a skip entry.
   */
  tenant?: string | null;
  /**
   * The remote host walking the lane (its `host_id`), so an incident of that host pauses it; absent
   * for a local dispatcher (only profile incidents apply).
   */
  hostId?: string | null;
}

/** Why admission control holds a task back (see {@link ReadyLaneFilter.hold}). */
export interface LaneHold {
  code: string;
  detail: Record<string, unknown>;
}

/** A ready task the walk passed over, and why (in lane order). */
export type LaneSkip =
  | { task_id: string; reason: "unassigned" }
  | { task_id: string; reason: "not_a_profile"; assignee: string }
  | { task_id: string; reason: "per_profile_cap"; assignee: string; current: number }
  | { task_id: string; reason: "respawn_guard"; guard: RespawnGuardReason; until?: number }
  | { task_id: string; reason: "held"; assignee: string; hold: LaneHold }
  | { task_id: string; reason: "labels"; requires: string[]; missing: string[] }
  | { task_id: string; reason: "budget"; assignee: string; hold: BudgetHold }
  | {
      task_id: string;
      reason: "incident";
      incident_id: number;
      failure_class: string;
      scope: "profile" | "host";
      scope_key: string;
      since: number;
      next_probe_at: number | null;
    };

export interface LaneClaim {
  task_id: string;
  assignee: string;
  /** The claimed task (status running, its run open); null in a dry run, which only simulates the claim. */
  task: Task | null;
}

export interface ClaimNextResult {
  claimed: LaneClaim[];
  skipped: LaneSkip[];
  /** Tasks given the default assignee on the way (a dry run reports them without writing). */
  assigned_default: string[];
  /** Whether the walk stopped at `limit` with lane rows it has not looked at yet. */
  more: boolean;
}

/**
 * One walk over the ready lane (a dispatcher tick). The lane is read once, by the first
 * {@link claimNext}, inside that call's write transaction, like Hermes' tick; later calls go on from
 * where the previous one stopped, so a task is looked at once per walk (a task whose spawn failed is
 * not retried in the same tick) and every claim is still the compare-and-swap of `claimTask`.
 */
export class ReadyLane {
  /** @internal the lane as read by the first call; null until then. */
  rows: LaneRow[] | null = null;
  /** @internal labels required by the lane's tasks (read with the lane; tasks requiring none are absent). */
  requires = new Map<string, string[]>();
  /** @internal index of the next row to look at. */
  next = 0;
  /** @internal running tasks per assignee (only kept when a cap is set). */
  running = new Map<string, number>();
  /** @internal the default assignee when it is spawnable, resolved by the first call. */
  fallback: string | null = null;
  /** @internal rows before this index were re-checked against the board (see LANE_RECHECK). */
  checkedTo = 0;
  /** @internal rows of the re-checked window that another claimer took since the lane was read. */
  gone = new Set<string>();
  /**
   * @internal PostgreSQL: a lock statement of this walk found every row it chose among taken, so the
   * rows ahead are re-checked before the next one (see recheckWindow).
   */
  stale = false;
  /** @internal the open incidents pausing scopes, read with the lane (incidents.ts). */
  incidents: IncidentPauses | null = null;
  /** @internal the spent budgets, read with the lane (budgets.ts). */
  budgets: BudgetHolds | null = null;
  private readonly claims = new Map<string, string>();

  constructor(readonly filter: ReadyLaneFilter = {}) {}

  /** @internal counts a claim (or a simulated one) against its assignee's cap. */
  count(taskId: string, assignee: string): void {
    this.running.set(assignee, (this.running.get(assignee) ?? 0) + 1);
    this.claims.set(taskId, assignee);
  }

  /**
   * A claim of this walk was given back (its worker could not be started): it no longer counts
   * against its assignee's cap for the rest of the walk.
   */
  release(taskId: string): void {
    const assignee = this.claims.get(taskId);
    if (assignee === undefined) return;
    this.claims.delete(taskId);
    this.running.set(assignee, Math.max(0, (this.running.get(assignee) ?? 0) - 1));
  }
}

/** The verbs a walk composes; the board passes its own (claim with the board's lease, assignment). */
export interface LaneVerbs {
  /** `head`: the claim's head, when the walk read it as it locked the row (PostgreSQL). */
  claim(id: string, head?: ClaimHead): Promise<Task | null>;
  assign(id: string, profile: string, extra: Record<string, unknown>): Promise<boolean>;
  /**
   * PostgreSQL: the first free row of `ids` (lane rows judged startable, in lane order) locked and
   * claimed in one message when it needs nothing decided on the way (claim.ts claimFirstReady). Null
   * when not sent; absent: every walk goes the full way.
   */
  claimFirst?(ids: readonly string[], commentsFrom: number): Promise<FirstReadyOutcome | null>;
}

/**
 * Selects the next eligible ready tasks in lane order and claims up to `limit` of them, in one
 * write transaction: which task goes next is decided here and nowhere else. On the way it skips
 * tasks that require a label the claimer does not offer, unassigned tasks (without a spawnable
 * default assignee), assignees that are not spawnable,
 * assignees at their cap and tasks the respawn guard holds back (event `respawn_guarded`), and
 * gives unassigned tasks the default assignee (event `assigned` with `source`). A task lost to
 * another claimer meanwhile is passed over silently. A dry run takes no write lock and writes nothing.
 */
export async function claimNext(
  ctx: BoardContext,
  lane: ReadyLane,
  limit: number,
  verbs: LaneVerbs,
): Promise<ClaimNextResult> {
  const walk = async (first: FirstLock | null) =>
    await walkLane(ctx, lane, Math.max(0, Math.floor(limit)), verbs, first);
  if (lane.filter.dryRun === true) return await walk(null);
  const needsBoardView = (lane.filter.maxPerProfile ?? null) !== null;
  // PostgreSQL: a walk for one claim (a dispatcher's step, a worker pulling the next task) is one
  // message when the row it takes needs nothing decided on the way; what that could not settle goes
  // the full way below, from where it stopped.
  let passed: LaneSkip[] = [];
  const claimFirst = verbs.claimFirst;
  if (Math.floor(limit) === 1 && !needsBoardView && claimFirst !== undefined && sendsAlone(ctx)) {
    const alone = await claimAlone(ctx, lane, claimFirst);
    if (alone.settled) return alone.out;
    passed = alone.out.skipped;
  }
  // PostgreSQL: walks run side by side unless a rule needs the whole board (store/pg/shared-writers.ts).
  const result = await sharedClaimWalk(
    ctx,
    needsBoardView,
    walk,
    limit >= 1 ? async () => await planFirstLock(ctx, lane) : undefined,
  );
  return passed.length === 0 ? result : { ...result, skipped: [...passed, ...result.skipped] };
}

/**
 * Whether a statement can be sent as a transaction of its own here (PostgreSQL, outside a
 * transaction, and no pooler lost a prepared statement): rows are only worth judging for it then.
 */
function sendsAlone(ctx: BoardContext): boolean {
  return ctx.writesAlone && !ctx.inTransaction;
}

/**
 * PostgreSQL, a walk for one claim on a lane already read (no spent budget: judging a row is then a
 * read of its own): judges the next rows as the full walk does, then sends the claim of the first
 * free one among the eligible as one message (LaneVerbs.claimFirst). Rows others took are passed
 * over as the full walk passes them. `settled`: the walk's answer is `out`; otherwise the full way
 * goes on from `lane.next` and reports `out.skipped` first. It stops short, with nothing written for
 * the rows it judged last, when a row needs deciding on the way: a default assignee to give, an
 * incident to probe, or a row whose claim the statement did not make (its history, a parent, an
 * incident opened since the lane was read).
 */
async function claimAlone(
  ctx: BoardContext,
  lane: ReadyLane,
  claimFirst: NonNullable<LaneVerbs["claimFirst"]>,
): Promise<{ settled: boolean; out: ClaimNextResult }> {
  const out: ClaimNextResult = { claimed: [], skipped: [], assigned_default: [], more: false };
  const rows = lane.rows;
  if (rows === null || lane.budgets === null || !lane.budgets.empty) return { settled: false, out };
  const judge = laneJudge(ctx, lane);
  while (lane.next < rows.length) {
    if (lane.next >= lane.checkedTo) await recheckWindow(ctx, lane, rows);
    const { eligible, skips, end } = await judgeAhead(lane, judge, lane.next, LOCK_AHEAD);
    if (eligible.some((e) => e.verdict.defaulted || e.verdict.incident !== null)) return { settled: false, out };
    const outcome =
      eligible.length === 0
        ? { picked: null, claimed: null }
        : await claimFirst(
            eligible.map((e) => e.row.id),
            respawnGuardWindowStart(ctx.now()),
          );
    if (outcome === null || (outcome.picked !== null && outcome.claimed === null)) return { settled: false, out };
    const claimed = outcome.claimed;
    if (claimed === null) {
      // Every eligible row was taken (or is being taken) by another claimer.
      for (const s of skips) out.skipped.push(s.skip);
      lane.next = end;
      if (eligible.length > 0) missedAll(lane);
      continue;
    }
    const chosen = eligible.find((e) => e.row.id === outcome.picked);
    if (chosen === undefined) throw new Error(`claim walk: claimed ${outcome.picked}, which it did not choose among`);
    for (const s of skips) if (s.at < chosen.at) out.skipped.push(s.skip);
    lane.next = chosen.at + 1;
    out.claimed.push({ task_id: chosen.row.id, assignee: chosen.verdict.assignee, task: claimed.task });
    lane.count(chosen.row.id, chosen.verdict.assignee);
    out.more = lane.next < rows.length;
    return { settled: true, out };
  }
  return { settled: true, out };
}

/**
 * PostgreSQL: the row lock a walk of `lane` will send first, worked out before its transaction so
 * that it can travel with BEGIN. Only for a lane already read (a walk's first call reads it inside
 * its transaction), no spent budget (judging a row would then be a read of its own), and a session
 * that can send it (SqlContext.writesAlone). The walk
 * judges the same rows again and uses the lock only if it chose among the same ids; the re-check of
 * the lane made here is the one the walk would make first (on PostgreSQL only a hint, the row lock
 * decides).
 */
async function planFirstLock(
  ctx: BoardContext,
  lane: ReadyLane,
): Promise<{ ids: string[]; commentsFrom: number } | null> {
  const rows = lane.rows;
  if (rows === null || lane.budgets === null || !lane.budgets.empty || !ctx.writesAlone) return null;
  if (lane.next >= rows.length) return null;
  if (lane.next >= lane.checkedTo) await recheckWindow(ctx, lane, rows);
  const { eligible } = await judgeAhead(lane, laneJudge(ctx, lane), lane.next, LOCK_AHEAD);
  const ids = eligible.map((e) => e.row.id);
  return ids.length === 0 ? null : { ids, commentsFrom: respawnGuardWindowStart(ctx.now()) };
}

/**
 * Re-checks the lane window from `lane.next`: another claimer may have taken rows since the lane was
 * read, and one query finds them, so a taken row costs nothing instead of a claim attempt (and a
 * respawn-guard read).
 *
 * PostgreSQL: only after a lock statement of the walk found all of its rows taken (`lane.stale`);
 * otherwise the rest of the lane counts as checked. There a taken row costs no claim attempt anyway:
 * the lock statement passes over it in the same message, for one probe of its key. And walks side by
 * side take the rows just ahead of each other, after any re-check could see them: at eight walks
 * re-checking every window of 64 rows cost one query per eight claims, 400–600 µs of the server
 * each, and the lock statements read as many buffers and missed as often as with no re-check at all.
 * A walk that fell far behind (a dispatcher's lane read a while ago, emptied by others since) is what
 * a re-check is for, and a miss is how it shows.
 */
async function recheckWindow(ctx: BoardContext, lane: ReadyLane, rows: LaneRow[]): Promise<void> {
  if (ctx.dialect === "postgres" && !lane.stale) {
    lane.gone = new Set();
    lane.checkedTo = rows.length;
    return;
  }
  lane.stale = false;
  const window = rows.slice(lane.next, lane.next + LANE_RECHECK).map((r) => r.id);
  const ready = await stillReady(ctx, window);
  lane.gone = new Set(window.filter((id) => !ready.has(id)));
  lane.checkedTo = lane.next + window.length;
}

/** PostgreSQL: the lock statement found every row it chose among taken; re-check from `lane.next` before the next. */
function missedAll(lane: ReadyLane): void {
  lane.stale = true;
  lane.checkedTo = lane.next;
}

/** A lane row the walk may start (see laneJudge): under whom, and the incident it would probe. */
interface Eligible {
  skip?: undefined;
  assignee: string;
  /** The row has no assignee and gets the board's default one. */
  defaulted: boolean;
  incident: IncidentRow | null;
}

/** A lane row judged startable, at its index in the lane. */
interface Candidate {
  at: number;
  row: LaneRow;
  verdict: Eligible;
}

/**
 * Judges the lane's rows from index `from` (passing over those others took) until `ahead` are
 * eligible (counting those given in `eligible`) or the re-checked window ends: the eligible ones, the
 * skips on the way, and the index after the last row judged. Nothing is recorded on the lane.
 */
async function judgeAhead(
  lane: ReadyLane,
  judge: ReturnType<typeof laneJudge>,
  from: number,
  ahead: number,
  eligible: Candidate[] = [],
): Promise<{ eligible: Candidate[]; skips: { at: number; skip: LaneSkip }[]; end: number }> {
  const rows = lane.rows ?? [];
  const skips: { at: number; skip: LaneSkip }[] = [];
  let j = from;
  for (; eligible.length < ahead && j < lane.checkedTo; j++) {
    const row = rows[j] as LaneRow;
    if (lane.gone.has(row.id)) continue;
    let verdict = judge(row);
    if (verdict instanceof Promise) verdict = await verdict;
    if (verdict.skip !== undefined) skips.push({ at: j, skip: verdict.skip });
    else eligible.push({ at: j, row, verdict });
  }
  return { eligible, skips, end: j };
}

/** Eligible rows one PostgreSQL lock statement chooses among (store/pg/shared-writers.ts lockFirstReadyTask). */
const LOCK_AHEAD = 16;

/** Lane rows re-checked per query while walking: enough for a tick's claims, small to send. */
const LANE_RECHECK = 64;

async function walkLane(
  ctx: BoardContext,
  lane: ReadyLane,
  limit: number,
  verbs: LaneVerbs,
  /** The walk's first row lock, sent with its BEGIN (PostgreSQL, see planFirstLock). */
  planned: FirstLock | null,
): Promise<ClaimNextResult> {
  const f = lane.filter;
  const dryRun = f.dryRun === true;
  const spawnable = f.isSpawnable ?? (() => true);
  const cap = f.maxPerProfile ?? null;
  const readNow = lane.rows === null;
  if (lane.rows === null) {
    if (cap !== null) lane.running = await runningPerProfile(ctx);
    lane.fallback = f.defaultAssignee && spawnable(f.defaultAssignee) ? f.defaultAssignee : null;
    const tenant = f.tenant ?? null;
    // Cards a budget paused go back to ready once no spent budget holds them (a new UTC day), before
    // the lane is read, so this walk may start them.
    if (!dryRun) await resumeBudgetPaused(ctx);
    const rows = await readyLaneRows(ctx);
    lane.rows = tenant === null ? rows : rows.filter((r) => r.tenant === tenant);
    lane.requires = await readyRequires(ctx);
    // Probes that ended since the last walk close their incident (or let the next one wait) first,
    // so a scope that came back is walked as resumed.
    if (!dryRun) await settleProbes(ctx);
    lane.incidents = await IncidentPauses.read(ctx);
    lane.budgets = await BudgetHolds.read(ctx);
  }
  const pauses = lane.incidents as IncidentPauses;
  const rows = lane.rows;
  const out: ClaimNextResult = { claimed: [], skipped: [], assigned_default: [], more: false };
  const judge = laneJudge(ctx, lane);
  let preLocked = planned;
  // On SQLite a re-check is trusted inside the transaction that made it (the walk holds the board's one
  // writer, so nobody claims meanwhile), and a later call re-checks from where it starts. The call that
  // read the lane needs none: it read it inside this transaction, so the whole lane is as good as
  // re-checked (a tick over a lane of 2,000 rows with nothing to start made 31 re-check queries that
  // could find nothing). A PostgreSQL walk runs beside others, so there the re-check is only a hint
  // that spares lock attempts (the row lock decides), made after a miss (recheckWindow).
  if (ctx.dialect !== "postgres") {
    lane.checkedTo = readNow ? rows.length : lane.next;
    if (readNow) lane.gone = new Set();
  }
  while (out.claimed.length < limit && lane.next < rows.length) {
    if (lane.next >= lane.checkedTo) await recheckWindow(ctx, lane, rows);
    let row = rows[lane.next++] as LaneRow;
    if (lane.gone.has(row.id)) continue; // taken by someone else since the lane was read
    let verdict = await judge(row);
    if (verdict.skip !== undefined) {
      out.skipped.push(verdict.skip);
      continue;
    }
    let locked: { facts: RespawnFactsRow | null; head?: ClaimHead };
    // SQLite's walk holds the board's one writer: no row lock, and the respawn guard reads its own facts.
    if (dryRun || ctx.dialect !== "postgres") locked = { facts: null };
    else {
      // Walks side by side read the same lane in the same order, so the rows ahead of this one are
      // judged too (without recording anything yet) and one statement locks the first of the
      // eligible ones no other walk holds. Everything after the row it locks is judged again later.
      // A spent budget makes judging a row a read of its own; then rows are locked one at a time.
      const ahead = (lane.budgets as BudgetHolds).empty ? LOCK_AHEAD : 1;
      const here: Candidate = { at: lane.next - 1, row, verdict };
      const { eligible, skips, end: j } = await judgeAhead(lane, judge, lane.next, ahead, [here]);
      const ids = eligible.map((e) => e.row.id);
      // The lock planned before the transaction and sent with BEGIN serves when it chose among the
      // same rows (the rules may have changed their minds in between: admission control, a budget).
      const pre = preLocked;
      preLocked = null;
      const same = pre !== null && pre.ids.length === ids.length && pre.ids.every((id, i) => id === ids[i]);
      const first =
        pre !== null && same ? pre.locked : await lockFirstReadyTask(ctx, ids, respawnGuardWindowStart(ctx.now()));
      const chosen = first === false ? undefined : eligible.find((e) => e.row.id === first.id);
      const upTo = chosen === undefined ? j : chosen.at;
      for (const s of skips) if (s.at < upTo) out.skipped.push(s.skip);
      if (first === false || chosen === undefined) {
        lane.next = j;
        if (first === false) missedAll(lane);
        continue;
      }
      lane.next = chosen.at + 1;
      row = chosen.row;
      verdict = chosen.verdict;
      locked = first;
    }
    const { assignee, defaulted, incident } = verdict;
    const guarded = await respawnHold(ctx, row.id, locked.facts);
    // The incident paces its own class (probe backoff; a probe that succeeded ended the outage), so
    // the per-card cooldowns of that outage do not hold a probe or a card the outage had folded.
    const guard =
      guarded !== null && (await incidentReplacesGuard(ctx, pauses, row.id, incident, guarded)) ? null : guarded;
    if (guard !== null) {
      const until = guard.until === null ? {} : { until: guard.until };
      out.skipped.push({ task_id: row.id, reason: "respawn_guard", guard: guard.reason, ...until });
      if (!dryRun) await appendEvent(ctx, row.id, "respawn_guarded", { reason: guard.reason });
      continue;
    }
    if (defaulted) {
      if (!dryRun && !(await verbs.assign(row.id, assignee, { source: "kanban.default_assignee" }))) continue;
      out.assigned_default.push(row.id);
    }
    if (dryRun) {
      if (incident !== null) await pauses.startProbe(null, incident, null);
      out.claimed.push({ task_id: row.id, assignee, task: null });
      lane.count(row.id, assignee);
      continue;
    }
    // A default assignee just written makes the head read with the lock stale: the claim reads it again.
    const task = await verbs.claim(row.id, defaulted ? undefined : locked.head);
    if (task === null) continue; // taken (or settled) by someone else since the lane was read
    if (incident !== null) await pauses.startProbe(ctx, incident, task);
    out.claimed.push({ task_id: row.id, assignee, task });
    lane.count(row.id, assignee);
  }
  out.more = lane.next < rows.length;
  return out;
}

type Verdict = { skip: LaneSkip } | Eligible;

/**
 * Whether a walk of `lane` may start a lane row, judged from the lane and the rules alone (no row
 * lock, no write): a skip with its reason, or the assignee it would run under. The rules are the
 * motion's (motion/holds.ts), so `kanban why` says what a walk decides. For a lane already read.
 *
 * Synchronous unless a spent budget has to be asked about the row: a walk on PostgreSQL judges the
 * 16 rows ahead for every claim it sends, and an async judge cost each of those a promise and a
 * suspended frame (at 8 walks, most of the node process's allocation in a claim cycle).
 */
function laneJudge(ctx: BoardContext, lane: ReadyLane): (row: LaneRow) => Verdict | Promise<Verdict> {
  const f = lane.filter;
  const spawnable = f.isSpawnable ?? (() => true);
  const cap = f.maxPerProfile ?? null;
  const pauses = lane.incidents as IncidentPauses;
  const offered = f.labels ?? [];
  const budgets = lane.budgets as BudgetHolds;
  return (row: LaneRow): Verdict | Promise<Verdict> => {
    // Routing first: a task this claimer cannot run (a label it lacks) is not its to assign or guard.
    const requires = lane.requires.get(row.id);
    if (requires !== undefined) {
      const missing = missingLabels(requires, offered);
      if (missing.length > 0) return { skip: { task_id: row.id, reason: "labels", requires, missing } };
    }
    const defaulted = !row.assignee && lane.fallback !== null;
    const assignee = row.assignee || lane.fallback;
    const running = assignee === null ? 0 : (lane.running.get(assignee) ?? 0);
    const held = laneHold({ assignee, isSpawnable: spawnable, running, cap });
    if (held?.code === "unassigned" || assignee === null) return { skip: { task_id: row.id, reason: "unassigned" } };
    if (held?.code === "not_runnable_profile") return { skip: { task_id: row.id, reason: "not_a_profile", assignee } };
    if (held?.code === "profile_cap_full")
      return { skip: { task_id: row.id, reason: "per_profile_cap", assignee, current: held.running } };
    // An open incident pauses its profile (or this host): only one probe run at a time, once its
    // time has come; every other card of the scope stays ready, unclaimed and uncounted.
    const incident = pauses.pausing(assignee, f.hostId ?? null);
    if (incident !== null && !pauses.mayProbe(incident)) {
      return {
        skip: {
          task_id: row.id,
          reason: "incident",
          incident_id: incident.id,
          failure_class: incident.failure_class,
          scope: incident.scope,
          scope_key: incident.scope_key,
          since: incident.opened_at,
          next_probe_at: incident.next_probe_at,
        },
      };
    }
    // Admission control (the dispatcher's memory floor, host-wide cap), before the respawn guard's
    // read: a held task costs nothing, records nothing and stays ready.
    const admission = f.hold?.(assignee) ?? null;
    if (admission !== null) return { skip: { task_id: row.id, reason: "held", assignee, hold: admission } };
    // A spent budget that counts the card (its own or a parent's, its profile's, tenant's or the
    // board's) starts nothing in its scope until more is allowed (budgets.ts).
    const eligible: Eligible = { assignee, defaulted, incident };
    if (budgets.empty) return eligible;
    return budgets
      .holding(ctx, { id: row.id, assignee, tenant: row.tenant })
      .then(
        (budget): Verdict =>
          budget === null ? eligible : { skip: { task_id: row.id, reason: "budget", assignee, hold: budget } },
      );
  };
}
