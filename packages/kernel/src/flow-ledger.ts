import type { SqlContext } from "./store/port.ts";
import { addValue, bucketOf, bucketRange, type Histogram } from "./flow-histogram.ts";
import { parseStoredJson } from "./stored-json.ts";
import {
  applyHistDeltas,
  BLOCK_START_KINDS,
  type BlockEventRow,
  blockEventRows,
  clearFlowLedger,
  deleteLedgerRows,
  type EpisodeRow,
  type FlowCardRow,
  flowState,
  flowTaskRows,
  type HistDelta,
  insertCards,
  insertEpisodes,
  insertReady,
  laneEntries,
  ledgerCards,
  maxEventId,
  type ReadyRow,
  recountBucket,
  runTotals,
  setFlowState,
  taskIdsAfter,
  tasksTouched,
  firstEventOfNthTask,
} from "./store/sqlite/flow-ledger.ts";

/**
 * The flow ledger (issue 21): what flow measures, kept as the board changes, so that a flow read
 * costs what its window's days cost and not what its cards do (70,000 done cards took 0.6 s to read
 * one by one; their days' histograms take a few milliseconds).
 *
 * It follows the event log rather than hooking every verb: every change to a task writes an event
 * (Hermes' writers included, and a hard delete leaves its tombstone), so the tasks named by the
 * events after the ledger's last one are the tasks whose figures may have moved. Each is measured
 * again from its rows and the difference applied. A board with no ledger (a Hermes board, a copy, a
 * format change) is measured from scratch, a few thousand tasks per transaction, the first time
 * flow is read. Nothing the ledger holds is not derived: dropping it loses nothing.
 *
 * Held per task: a done card's figures (`kanban_flow_cards`) and their histograms per tenant, UTC
 * day and metric (`kanban_flow_hist`); when a ready card entered the lane (`kanban_flow_ready`);
 * every blocked episode (`kanban_flow_blocks`).
 */

/** Bumped when what the ledger holds changes meaning: a board with an older ledger rebuilds it. */
export const FLOW_LEDGER_VERSION = 1;

/** Metric numbers in `kanban_flow_hist` (columns of `kanban_flow_cards`, METRIC_COLUMNS). */
export const METRIC = { cycle: 0, lead: 1, running: 2, blocked: 3, waiting: 4, runs: 5 } as const;

/**
 * How much one transaction of catching up takes on. It holds the board's write lock, so every
 * writer waits for it: at most `events` events, naming at most `tasks` distinct tasks to measure
 * again (a rebuild measures `tasks` tasks per transaction too). Measuring costs about 43 µs a task
 * on SQLite (a rebuild of 100,000 tasks: 4.3 s): a day of a busy fleet, 20,000 events over as many
 * tasks, held writers for close to a second in one step; 2,000 tasks hold them under 0.1 s.
 */
export interface CatchUpLimits {
  events: number;
  tasks: number;
}

export const CATCH_UP_LIMITS: CatchUpLimits = { events: 20_000, tasks: 2_000 };

/** Ids per IN list. */
const ID_BATCH = 500;

/**
 * Brings the ledger up to the board's newest event (rebuilding it first when it has to). With
 * `maxSteps`, stops after that many transactions; returns whether the ledger is current.
 */
export async function catchUpFlowLedger(
  ctx: SqlContext,
  limits: CatchUpLimits = CATCH_UP_LIMITS,
  maxSteps = Number.POSITIVE_INFINITY,
): Promise<boolean> {
  // Outside a transaction first: a ledger already at the newest event costs two reads, no lock.
  const state = await flowState(ctx);
  if (
    state !== null &&
    state.version === FLOW_LEDGER_VERSION &&
    state.rebuild_after === null &&
    state.event_id >= (await maxEventId(ctx))
  )
    return true;
  // Each step is its own transaction and re-reads the state inside it, so two readers catching up
  // at once (two API servers, a dispatcher) take turns and never apply the same events twice.
  for (let step = 0; step < maxSteps; step++) if (await ctx.tx(() => catchUpStep(ctx, limits))) return true;
  return false;
}

/** One transaction's worth of catching up; true once the ledger is current. */
async function catchUpStep(ctx: SqlContext, limits: CatchUpLimits): Promise<boolean> {
  const state = await flowState(ctx);
  if (state === null || state.version !== FLOW_LEDGER_VERSION) {
    // Inside the board's write lock no event is in flight, so every id up to the newest is final:
    // what a rebuild does not see is after this one and will be caught up.
    await clearFlowLedger(ctx);
    await setFlowState(ctx, { version: FLOW_LEDGER_VERSION, event_id: await maxEventId(ctx), rebuild_after: "" });
    return false;
  }
  if (state.rebuild_after !== null) {
    const ids = await taskIdsAfter(ctx, state.rebuild_after, limits.tasks);
    await measureTasks(ctx, ids);
    const next = ids.length < limits.tasks ? null : (ids[ids.length - 1] as string);
    await setFlowState(ctx, { ...state, rebuild_after: next });
    return false;
  }
  const newest = await maxEventId(ctx);
  if (newest <= state.event_id) return true;
  let upTo = Math.min(newest, state.event_id + limits.events);
  let ids = await tasksTouched(ctx, state.event_id, upTo);
  if (ids.length > limits.tasks) {
    // Stop just before the first event of the task one past the limit: the range then names
    // exactly the first `limits.tasks` tasks to appear in it.
    upTo = (await firstEventOfNthTask(ctx, state.event_id, upTo, limits.tasks)) - 1;
    ids = await tasksTouched(ctx, state.event_id, upTo);
  }
  await measureTasks(ctx, ids);
  await setFlowState(ctx, { ...state, event_id: upTo });
  return upTo === newest;
}

/** Measures these tasks again and puts the difference into the ledger. */
export async function measureTasks(ctx: SqlContext, ids: readonly string[]): Promise<void> {
  for (let i = 0; i < ids.length; i += ID_BATCH) await measureBatch(ctx, ids.slice(i, i + ID_BATCH));
}

async function measureBatch(ctx: SqlContext, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  const tasks = await flowTaskRows(ctx, ids);
  const done = tasks.filter((t) => t.status === "done");
  const ready = tasks.filter((t) => t.status === "ready");
  const runs = await runTotals(
    ctx,
    done.map((t) => t.id),
  );
  const entries = await laneEntries(
    ctx,
    ready.map((t) => t.id),
  );
  const episodes = episodesOf(await blockEventRows(ctx, ids));
  const before = await ledgerCards(ctx, ids);

  const tenantOf = new Map(tasks.map((t) => [t.id, t.tenant]));
  const episodeRows: EpisodeRow[] = [];
  const blockedSeconds = new Map<string, number>();
  const completedAt = new Map(done.map((t) => [t.id, t.completed_at]));
  for (const [taskId, list] of episodes) {
    const tenant = tenantOf.get(taskId);
    if (tenant === undefined) continue; // deleted since
    list.forEach((e, seq) => {
      episodeRows.push({ task_id: taskId, seq, tenant, reason: e.reason, started_at: e.start, ended_at: e.end });
      const doneAt = completedAt.get(taskId);
      if (doneAt !== undefined && e.start < doneAt) {
        const end = Math.min(e.end ?? doneAt, doneAt);
        blockedSeconds.set(taskId, (blockedSeconds.get(taskId) ?? 0) + Math.max(0, end - e.start));
      }
    });
  }

  const after: FlowCardRow[] = done.map((t) => {
    const r = runs.get(t.id) ?? { runs: 0, running: 0 };
    const lead = Math.max(0, t.completed_at - t.created_at);
    const running = Math.max(0, r.running);
    const blocked = blockedSeconds.get(t.id) ?? 0;
    return {
      task_id: t.id,
      tenant: t.tenant,
      completed_at: t.completed_at,
      cycle: t.started_at === null ? null : Math.max(0, t.completed_at - t.started_at),
      lead,
      running,
      blocked,
      waiting: Math.max(0, lead - running - blocked),
      runs: r.runs,
    };
  });
  const readyRows: ReadyRow[] = ready.map((t) => ({
    task_id: t.id,
    tenant: t.tenant,
    ready_since: entries.get(t.id) ?? t.created_at,
  }));

  await deleteLedgerRows(ctx, ids);
  await insertCards(ctx, after);
  await insertReady(ctx, readyRows);
  await insertEpisodes(ctx, episodeRows);
  await applyCardChanges(ctx, before, after);
}

/** Moves the histograms from the cards as they were to the cards as they are. */
async function applyCardChanges(
  ctx: SqlContext,
  before: readonly FlowCardRow[],
  after: readonly FlowCardRow[],
): Promise<void> {
  const was = new Map(before.map((c) => [c.task_id, c]));
  const deltas = new Map<string, HistDelta>();
  const takenFrom = new Map<string, HistDelta>();
  const tally = (c: FlowCardRow, sign: 1 | -1) => {
    const day = Math.floor(c.completed_at / 86_400);
    for (const [metric, value] of cardValues(c)) {
      const bucket = bucketOf(value);
      const key = `${c.tenant}\u0000${day}\u0000${metric}\u0000${bucket}`;
      let d = deltas.get(key);
      if (!d) {
        // Until a value is added, the far ends of the bucket's range: no-ops for its min and max.
        const range = bucketRange(bucket);
        d = { tenant: c.tenant, day, metric, bucket, n: 0, total: 0, min: range.hi, max: range.lo };
        deltas.set(key, d);
      }
      d.n += sign;
      d.total += sign * value;
      if (sign === 1) {
        d.min = Math.min(d.min, value);
        d.max = Math.max(d.max, value);
      } else takenFrom.set(key, d);
    }
  };
  for (const c of after) {
    const old = was.get(c.task_id);
    was.delete(c.task_id);
    if (old && sameCard(old, c)) continue;
    if (old) tally(old, -1);
    tally(c, 1);
  }
  for (const old of was.values()) tally(old, -1);
  const changed = [...deltas.values()].filter((d) => d.n !== 0 || d.total !== 0 || !takenFrom.has(keyOf(d)));
  await applyHistDeltas(ctx, changed);
  // A bucket values were taken from may have lost its smallest or largest: count it again.
  for (const d of takenFrom.values()) await recountBucket(ctx, { ...d, ...bucketRange(d.bucket) });
}

function keyOf(d: HistDelta): string {
  return `${d.tenant}\u0000${d.day}\u0000${d.metric}\u0000${d.bucket}`;
}

/** A card's (metric, value) pairs: cycle only when it was ever claimed. */
export function cardValues(c: FlowCardRow): [number, number][] {
  const out: [number, number][] = [
    [METRIC.lead, c.lead],
    [METRIC.running, c.running],
    [METRIC.blocked, c.blocked],
    [METRIC.waiting, c.waiting],
    [METRIC.runs, c.runs],
  ];
  if (c.cycle !== null) out.push([METRIC.cycle, c.cycle]);
  return out;
}

/** Adds a card's figures to one histogram per metric (the exact cards of a day cut by the window). */
export function addCard(hists: readonly Histogram[], c: FlowCardRow): void {
  for (const [metric, value] of cardValues(c)) addValue(hists[metric] as Histogram, value);
}

function sameCard(a: FlowCardRow, b: FlowCardRow): boolean {
  return (
    a.tenant === b.tenant &&
    a.completed_at === b.completed_at &&
    a.cycle === b.cycle &&
    a.lead === b.lead &&
    a.running === b.running &&
    a.blocked === b.blocked &&
    a.waiting === b.waiting &&
    a.runs === b.runs
  );
}

interface Episode {
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

/**
 * Each task's blocked episodes: a start opens one (a second start while blocked, a trip after a
 * block, continues it) and the first end after it closes it. Rows come ordered per task.
 */
function episodesOf(rows: readonly BlockEventRow[]): Map<string, Episode[]> {
  const starts = new Set<string>(BLOCK_START_KINDS);
  const out = new Map<string, Episode[]>();
  let open: Episode | null = null;
  let task: string | null = null;
  for (const r of rows) {
    if (r.task_id !== task) {
      task = r.task_id;
      open = null;
    }
    if (starts.has(r.kind)) {
      if (open === null) {
        open = { reason: blockReason(r), start: r.created_at, end: null };
        const list = out.get(r.task_id);
        if (list) list.push(open);
        else out.set(r.task_id, [open]);
      }
    } else if (open !== null) {
      open.end = r.created_at;
      open = null;
    }
  }
  return out;
}
