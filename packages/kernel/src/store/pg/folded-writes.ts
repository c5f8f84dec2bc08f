import { taskFromRow } from "../../rows.ts";
import type { Task } from "../../types.ts";
import type { SqlContext } from "../port.ts";
import { INSERT_TASK_SQL, insertTaskArgs, type NewTaskRow } from "../sqlite/create.ts";
import { MATCHING_RULES_WHERE, matchingRulesArgs } from "../sqlite/notify-rules.ts";
import { CLOSE_OPEN_RUNS_SQL, closeOpenRunsArgs, OPEN_RUN_SQL, openRunArgs, type RunClose } from "../sqlite/runs.ts";
import { T_HAS_UNFINISHED_PARENT } from "../sqlite/claims.ts";
import { probeExists } from "./probe-exists.ts";
import { FROM_FIRST_FREE_OF_IDS } from "./shared-writers.ts";
import { type SettleDone, settleDoneWrite, swapArgs, type TransitionWrite, transitionSql } from "../sqlite/tasks.ts";

// PostgreSQL only: the writes of a claim and of a completion, each folded into one statement with
// data-modifying CTEs. On PostgreSQL every statement is a round trip made while the task's row and
// the board's shared writer lock are held, and a fleet's claim+complete cycle is the hot path; SQLite
// has no data-modifying CTEs and gains nothing from them (its statements are function calls). Each
// statement is built from the same pieces as the separate writes (the compare-and-swap of
// tasks.ts, the run writes of runs.ts, the event INSERT of events.ts), so both paths write the
// same rows; the kernel's suites run on both engines. Every EXISTS in them is kept a probe of the row's
// own entries (probe-exists.ts), whatever the tables' sizes when a connection planned the statement.

const EVENT_COLUMNS = "task_events (task_id, run_id, kind, payload, created_at)";

// Columns the folded statements answer; never task columns.
/**
 * The task row itself, as one JSON value: the driver parses one column instead of describing and
 * converting each of the row's 40 (about a tenth of the node process's work in a claim+complete
 * cycle). Its columns are text and bigint, which JSON carries as they are.
 */
const TASK = "kanban_folded_task";
const RUN_ID = "kanban_folded_run_id";
const RUN_IDS = "kanban_folded_run_ids";
const EVENT_ID = "kanban_folded_event_id";
const RULES_MATCH = "kanban_folded_rules_match";

/** The task row a folded statement answered (see TASK). */
function taskOf(row: Record<string, unknown>): Task {
  return taskFromRow(row[TASK] as Record<string, unknown>);
}

// ---------------------------------------------------------------------------------------------
// Create: insert the task, record `created`, and say whether a notify rule matches it

const CREATE_SQL = probeExists(`WITH t AS (${INSERT_TASK_SQL} RETURNING *),
  e AS (INSERT INTO ${EVENT_COLUMNS} SELECT t.id, NULL, 'created', ?, ? FROM t RETURNING id)
  SELECT row_to_json(t) AS ${TASK}, (SELECT id FROM e) AS ${EVENT_ID},
         EXISTS (SELECT 1 FROM kanban_notify_rules WHERE ${MATCHING_RULES_WHERE}) AS ${RULES_MATCH} FROM t`);

/**
 * A card's create in one statement (PostgreSQL, inside the create's transaction): the task row as
 * insertTask writes it, its `created` event with `payload` at `at`, and whether any notify rule
 * matches the card (`rulesTenant` is the rule lookup's tenant scope). Only for a create that writes
 * nothing else between its row and its event (no parent link, no label): the caller checks.
 * Null when the id is taken (nothing written; the caller draws another id and goes the full way).
 */
export async function createInOneStatement(
  ctx: SqlContext,
  row: NewTaskRow,
  payload: Record<string, unknown>,
  at: number,
  rulesTenant: string | null,
): Promise<{ task: Task; rulesMatch: boolean } | null> {
  const found = (await ctx.get(
    CREATE_SQL,
    ...insertTaskArgs(row),
    JSON.stringify(payload),
    at,
    ...matchingRulesArgs(row.assignee, rulesTenant),
  )) as Record<string, unknown> | undefined;
  if (found === undefined) return null;
  return { task: taskOf(found), rulesMatch: found[RULES_MATCH] === true };
}

// ---------------------------------------------------------------------------------------------
// Claim: open the run, swap the task to running on it, record `claimed`

/** The `claimed` payload keys the claim writes itself; an extra key of the same name is not folded. */
const CLAIMED_KEYS = new Set(["lock", "expires", "run_id"]);

export interface FoldedClaim {
  taskId: string;
  claimer: string;
  expires: number;
  now: number;
  profile: string | null;
  stepKey: string | null;
  maxRuntimeSeconds: number | null;
  extra?: Record<string, unknown>;
}

/** Whether {@link claimInOneStatement} can write this claim's event exactly as the separate writes would. */
export function claimFolds(ctx: SqlContext, extra: Record<string, unknown> | undefined): boolean {
  return ctx.dialect === "postgres" && (extra === undefined || !Object.keys(extra).some((k) => CLAIMED_KEYS.has(k)));
}

// The swap of a ready task (claims.ts takeClaim) with the run id taken from the run the same
// statement opened.
const CLAIM_SWAP: Omit<TransitionWrite, "setArgs"> = {
  to: "running",
  set: "claim_lock = ?, claim_expires = ?, started_at = COALESCE(started_at, ?), last_heartbeat_at = NULL, worker_pid = NULL, current_run_id = (SELECT id FROM run)",
  where: "claim_lock IS NULL",
};

// The `claimed` event of the run `run` opened on the task `t` swapped. Its payload is JSON.stringify's
// text of {lock, expires, run_id, ...extra} with the run id spliced in by the server: parameters are
// the text before the id, the text after it, and the time (see claimedPayloadArgs).
const CLAIMED_EVENT = `e AS (INSERT INTO ${EVENT_COLUMNS}
        SELECT t.id, run.id, 'claimed', CAST(? AS text) || CAST(run.id AS text) || CAST(? AS text), ? FROM t, run
        RETURNING id)`;

function claimedPayloadArgs(claimer: string, expires: number, extra: Record<string, unknown> | undefined): string[] {
  const head = JSON.stringify({ lock: claimer, expires });
  const tail = extra === undefined ? "{}" : JSON.stringify(extra);
  return [`${head.slice(0, -1)},"run_id":`, tail === "{}" ? "}" : `,${tail.slice(1)}`];
}

const CLAIM_SQL = probeExists(`WITH run AS (${OPEN_RUN_SQL} RETURNING id),
  t AS (${transitionSql("claim", CLAIM_SWAP, true)}),
  ${CLAIMED_EVENT}
  SELECT row_to_json(t) AS ${TASK}, (SELECT id FROM run) AS ${RUN_ID}, (SELECT id FROM e) AS ${EVENT_ID} FROM t`);

/**
 * A ready task's claim in one statement: the run opened, the compare-and-swap to running on it, and
 * the `claimed` event, whose payload is JSON.stringify's text of `{lock, expires, run_id, ...extra}`
 * with the run id spliced in by the server. Null when the swap missed: the caller throws, and its
 * transaction's rollback takes the run back, as with the separate writes.
 */
export async function claimInOneStatement(
  ctx: SqlContext,
  c: FoldedClaim,
): Promise<{ task: Task; runId: number } | null> {
  const rows = (await ctx.all(
    CLAIM_SQL,
    ...openRunArgs({
      taskId: c.taskId,
      profile: c.profile,
      stepKey: c.stepKey,
      claimLock: c.claimer,
      claimExpires: c.expires,
      maxRuntimeSeconds: c.maxRuntimeSeconds,
      startedAt: c.now,
    }),
    ...swapArgs(c.taskId, { ...CLAIM_SWAP, setArgs: [c.claimer, c.expires, c.now] }),
    ...claimedPayloadArgs(c.claimer, c.expires, c.extra),
    c.now,
  )) as Record<string, unknown>[];
  const row = rows[0];
  if (row === undefined) return null;
  return { task: taskOf(row), runId: Number(row[RUN_ID]) };
}

// ---------------------------------------------------------------------------------------------
// A walk's one claim as a transaction of its own: lock the first free row of a few, and claim it

/** The row the statement locked (claimed or not); never a task column. */
const PICKED = "kanban_folded_picked";

// Which of the locked row's facts make its claim the same write as the walk's full way: no run ever
// opened (so no run to close, and nothing for the respawn guard: no ended run, no success, no failure
// stamped), no comment in the guard's window, no unfinished parent (a claim_rejected event), an
// assignee of its own (no default to give), and no open incident on the board (a walk then runs as
// the board's one writer, shared-writers.ts). Anything else: the row is let go and nothing written.
// Each test probes the row's own entries, whatever the tables' size when the statement was planned.
const CLAIM_FIRST_CLEAN =
  probeExists(`t.current_run_id IS NULL AND t.last_failure_error IS NULL AND COALESCE(t.assignee, '') <> ''
       AND NOT EXISTS (SELECT 1 FROM task_runs r WHERE r.task_id = t.id)
       AND NOT EXISTS (SELECT 1 FROM task_comments c WHERE c.task_id = t.id AND c.created_at >= ?)
       AND NOT ${T_HAS_UNFINISHED_PARENT}
       AND NOT EXISTS (SELECT 1 FROM kanban_incidents WHERE closed_at IS NULL)`);

// The same swap as CLAIM_SQL's, on the row the statement locked rather than a row named by a value.
const CLAIM_PICKED_SWAP = transitionSql("claim", CLAIM_SWAP, true).replace(
  /^(UPDATE tasks SET .*) WHERE id = \? AND /s,
  "$1 WHERE id = (SELECT task_id FROM run) AND ",
);
if (!CLAIM_PICKED_SWAP.includes("(SELECT task_id FROM run)"))
  throw new Error("folded-writes: the claim's swap changed shape");

// The run opened as OPEN_RUN_SQL opens it, with the task's values read from the locked row.
const OPEN_PICKED_RUN = OPEN_RUN_SQL.replace(
  /VALUES \(\?, \?, \?, 'running', \?, \?, \?, \?\)$/,
  "SELECT id, assignee, current_step_key, 'running', ?, ?, max_runtime_seconds, ? FROM pick WHERE clean",
);
if (OPEN_PICKED_RUN === OPEN_RUN_SQL) throw new Error("folded-writes: OPEN_RUN_SQL changed shape");

const CLAIM_FIRST_SQL = `WITH pick AS (SELECT t.id, t.assignee, t.current_step_key, t.max_runtime_seconds,
       (${CLAIM_FIRST_CLEAN}) AS clean
     ${FROM_FIRST_FREE_OF_IDS}),
  run AS (${OPEN_PICKED_RUN} RETURNING id, task_id),
  t AS (${CLAIM_PICKED_SWAP}),
  ${CLAIMED_EVENT}
  SELECT pick.id AS ${PICKED}, row_to_json(t) AS ${TASK}, (SELECT id FROM run) AS ${RUN_ID}, (SELECT id FROM e) AS ${EVENT_ID}
    FROM pick LEFT JOIN t ON true`;

// A claim by id (one row): the same statement, waiting for a row another writer holds instead of
// passing it over. Once that writer ends, the row is judged again as it then is (PostgreSQL re-reads a
// row it waited for), so no row found means the claim is lost, not merely that the row was busy.
// With one id the row is found by its key: no list to unpack, no lane order to sort by.
const CLAIM_ONE_SQL = CLAIM_FIRST_SQL.replace(
  FROM_FIRST_FREE_OF_IDS,
  "FROM tasks t WHERE t.id = ? AND t.status = 'ready' AND t.claim_lock IS NULL FOR UPDATE OF t",
);
if (CLAIM_ONE_SQL === CLAIM_FIRST_SQL) throw new Error("folded-writes: the first-free-row clause changed shape");

/** A claim walk's one claim, sent alone: the lease and the rows to choose among (see {@link claimFirstReadyAlone}). */
export interface FirstReadyClaim {
  /** Lane rows the walk judged it may start, in lane order. */
  ids: readonly string[];
  claimer: string;
  expires: number;
  now: number;
  /** The respawn guard's comment window start (respawnGuardWindowStart). */
  commentsFrom: number;
}

/** What {@link claimFirstReadyAlone} did: which row it locked (null: none was free), and the claim, if it made one. */
export interface FirstReadyOutcome {
  picked: string | null;
  claimed: { task: Task; runId: number } | null;
}

/**
 * A claim walk's step for one claim as one message (PostgreSQL, outside a transaction): BEGIN with
 * the board's shared writer lock, one statement, COMMIT (SqlContext.writeAlone). The statement locks
 * the first of `ids` in lane order that is still ready, unclaimed and not locked by another walk (as
 * lockFirstReadyTask does) and, when that row needs nothing decided in between (CLAIM_FIRST_CLEAN),
 * claims it as claimInOneStatement does: the run, the swap, and `claimed` with `{lock, expires,
 * run_id}`. A row that does need something (its history for the respawn guard, a default assignee,
 * an unfinished parent, an open incident) is answered as `picked` without a claim, and nothing is
 * written: the walk takes it the full way. Null when not sent (SQLite, inside a transaction, a
 * pooler that loses prepared statements).
 */
export async function claimFirstReadyAlone(ctx: SqlContext, c: FirstReadyClaim): Promise<FirstReadyOutcome | null> {
  return await sendClaimAlone(ctx, CLAIM_FIRST_SQL, c.commentsFrom, JSON.stringify(c.ids), c);
}

/**
 * A claim by id as one message (PostgreSQL, outside a transaction): the walk's statement for the one
 * row `id`, waited for when another writer holds it (CLAIM_ONE_SQL). `picked` null: the claim is
 * lost (the row is not ready, or is claimed). Picked but not claimed: the row needs something decided
 * (an unfinished parent, an open incident, its history), and nothing was written. Comments are the
 * respawn guard's concern, a lane's rule, not a claim by id's: none is in its window. Null when not sent.
 */
export async function claimReadyByIdAlone(
  ctx: SqlContext,
  c: { id: string; claimer: string; expires: number; now: number },
): Promise<FirstReadyOutcome | null> {
  return await sendClaimAlone(ctx, CLAIM_ONE_SQL, Number.MAX_SAFE_INTEGER, c.id, c);
}

/** Sends one of the two claim statements with its arguments (the rows to pick from as `rows`). */
async function sendClaimAlone(
  ctx: SqlContext,
  sql: string,
  commentsFrom: number,
  rows: string,
  c: { claimer: string; expires: number; now: number },
): Promise<FirstReadyOutcome | null> {
  if (ctx.dialect !== "postgres" || ctx.writeAlone === undefined || ctx.inTransaction) return null;
  const lease = [c.claimer, c.expires, c.now];
  const answer = await ctx.writeAlone(
    sql,
    [commentsFrom, rows, ...lease, ...lease, ...claimedPayloadArgs(c.claimer, c.expires, undefined), c.now],
    { shared: true },
  );
  if (answer === null) return null;
  const row = answer[0] as Record<string, unknown> | undefined;
  if (row === undefined) return { picked: null, claimed: null };
  const picked = String(row[PICKED]);
  if (row[TASK] === null || row[TASK] === undefined) return { picked, claimed: null };
  return { picked, claimed: { task: taskOf(row), runId: Number(row[RUN_ID]) } };
}

// ---------------------------------------------------------------------------------------------
// Completion: settle the task done, close its open runs, record `completed`

const completeSql = new Map<string, string>();

function completeSqlFor(settle: string): string {
  let sql = completeSql.get(settle);
  if (sql === undefined) {
    sql = probeExists(`WITH t AS (${settle}),
  r AS (${CLOSE_OPEN_RUNS_SQL}),
  e AS (INSERT INTO ${EVENT_COLUMNS}
        SELECT t.id, (SELECT id FROM r), 'completed', ?, ? FROM t WHERE (SELECT COUNT(*) FROM r) = 1
        RETURNING id)
  SELECT row_to_json(t) AS ${TASK}, (SELECT string_agg(CAST(id AS text), ',') FROM r) AS ${RUN_IDS}, (SELECT id FROM e) AS ${EVENT_ID} FROM t`);
    completeSql.set(settle, sql);
  }
  return sql;
}

export interface FoldedCompletion {
  /** The settled row. */
  task: Task;
  /** The runs the statement closed alike (normally one). */
  closedRunIds: number[];
  /** Whether the `completed` event was written: only when exactly one run closed (its id is the event's). */
  evented: boolean;
}

/**
 * A completion's writes in one statement: the compare-and-swap to done ({@link settleDoneWrite}),
 * every open run closed with `close`, and, when exactly one run closed, the `completed` event on it
 * with `payload`. Otherwise (no run open, or several) the caller finishes as the separate writes do:
 * superseding the older runs, synthesising a run, then the event. Null when the swap missed (the
 * caller throws; its rollback takes the run writes back).
 */
export async function completeInOneStatement(
  ctx: SqlContext,
  id: string,
  settle: SettleDone,
  close: RunClose,
  payload: Record<string, unknown>,
): Promise<FoldedCompletion | null> {
  const write = settleDoneWrite(settle);
  const rows = (await ctx.all(
    completeSqlFor(transitionSql("complete", write, true)),
    ...swapArgs(id, write),
    ...closeOpenRunsArgs(id, close, settle.completedAt),
    JSON.stringify(payload),
    settle.completedAt,
  )) as Record<string, unknown>[];
  const row = rows[0];
  if (row === undefined) return null;
  const ids = row[RUN_IDS];
  return {
    task: taskOf(row),
    closedRunIds: typeof ids === "string" && ids !== "" ? ids.split(",").map(Number) : [],
    evented: row[EVENT_ID] !== null && row[EVENT_ID] !== undefined,
  };
}

// ---------------------------------------------------------------------------------------------
// A worker's completion of its own running attempt: one statement in a transaction of its own

/**
 * What makes the completion's one statement the same write as the full completion: the task is
 * running on the run the worker names (and under its lock, when it names one), no parent is
 * unfinished, the board has no completion gates, and that run is the task's only open one (so exactly
 * one run closes and carries the `completed` event). Anything else is left to the full completion,
 * which decides it in JavaScript and throws the typed error a miss deserves.
 */
const WORKER_COMPLETE_WHERE = `current_run_id = ? AND claim_lock IS NOT DISTINCT FROM COALESCE(?, claim_lock)
    AND NOT EXISTS (SELECT 1 FROM task_links l JOIN tasks p ON p.id = l.parent_id
                     WHERE l.child_id = tasks.id AND p.status NOT IN ('done', 'archived'))
    AND NOT EXISTS (SELECT 1 FROM kanban_gates)
    AND (SELECT COUNT(*) FROM task_runs o WHERE o.task_id = tasks.id AND o.ended_at IS NULL) = 1`;

// The run closes only when the swap landed: a statement that changes nothing else leaves nothing behind.
const CLOSE_AFTER_SWAP = CLOSE_OPEN_RUNS_SQL.replace(/ RETURNING id$/, " AND EXISTS (SELECT 1 FROM t) RETURNING id");
if (CLOSE_AFTER_SWAP === CLOSE_OPEN_RUNS_SQL) throw new Error("folded-writes: CLOSE_OPEN_RUNS_SQL changed shape");

const HAS_CHILDREN = "kanban_folded_has_children";

function workerCompleteWrite(settle: Omit<SettleDone, "from" | "runId">, runId: number, claimLock: string | null) {
  const write = settleDoneWrite({ ...settle, from: "running", runId });
  return { ...write, where: WORKER_COMPLETE_WHERE, whereArgs: [runId, claimLock] };
}

let workerCompleteSql: string | null = null;

export interface WorkerCompletion {
  task: Task;
  runId: number;
  /** Whether the task has children (links where it is the parent): only then may some be promoted. */
  hasChildren: boolean;
}

/**
 * A fenced completion of a running task as one statement (PostgreSQL, as the first statement of the
 * completion's shared writer transaction: taskRowTx's `first`): the swap to done, its one open run
 * closed with `close`, and the `completed` event on that run with `payload`, exactly the rows the full
 * completion writes in that case. The head the full completion reads first is judged inside the
 * statement (its row lock is the swap's), so the transaction is three round trips (BEGIN with the
 * board's shared writer lock, the statement, COMMIT) instead of four. Null where it does not apply
 * (nothing was written): the caller goes on the full way in the same transaction, one round trip more.
 */
export async function completeRunningInOneStatement(
  ctx: SqlContext,
  c: WorkerCompletionInput,
): Promise<WorkerCompletion | null> {
  if (ctx.dialect !== "postgres") return null;
  const { sql, args } = workerCompleteStatement(c);
  return workerCompletionOf((await ctx.get(sql, ...args)) as Record<string, unknown> | undefined);
}

/**
 * {@link completeRunningInOneStatement} as a transaction of its own, sent in one message with BEGIN,
 * the board's shared writer lock and COMMIT (SqlContext.writeAlone): the completion is one round trip.
 * "missed" when the statement did not apply (nothing was written: the caller completes the full way
 * in a transaction of its own); null when it was not sent (SQLite, inside a transaction, or the
 * session cannot send it so): the caller goes on as without it.
 */
export async function completeRunningAlone(
  ctx: SqlContext,
  c: WorkerCompletionInput,
): Promise<WorkerCompletion | "missed" | null> {
  if (ctx.dialect !== "postgres" || ctx.writeAlone === undefined || ctx.inTransaction) return null;
  const { sql, args } = workerCompleteStatement(c);
  const rows = await ctx.writeAlone(sql, args, { shared: true });
  if (rows === null) return null;
  return workerCompletionOf(rows[0] as Record<string, unknown> | undefined) ?? "missed";
}

/**
 * A worker's completion of its running attempt: the task, the run it names (and the claim lock, when
 * it names one), the task's settle, the run's close, and the `completed` payload.
 */
export interface WorkerCompletionInput {
  id: string;
  fence: { runId: number; claimLock: string | null };
  settle: Omit<SettleDone, "from" | "runId">;
  close: RunClose;
  payload: Record<string, unknown>;
}

function workerCompleteStatement(c: WorkerCompletionInput): { sql: string; args: unknown[] } {
  const write = workerCompleteWrite(c.settle, c.fence.runId, c.fence.claimLock);
  if (workerCompleteSql === null) {
    workerCompleteSql = probeExists(`WITH t AS (${transitionSql("complete", write, true)}),
  r AS (${CLOSE_AFTER_SWAP}),
  e AS (INSERT INTO ${EVENT_COLUMNS} SELECT t.id, r.id, 'completed', ?, ? FROM t, r RETURNING id)
  SELECT row_to_json(t) AS ${TASK}, (SELECT id FROM r) AS ${RUN_ID},
         EXISTS (SELECT 1 FROM task_links c WHERE c.parent_id = t.id) AS ${HAS_CHILDREN} FROM t`);
  }
  const args = [
    ...swapArgs(c.id, write),
    ...closeOpenRunsArgs(c.id, c.close, c.settle.completedAt),
    JSON.stringify(c.payload),
    c.settle.completedAt,
  ];
  return { sql: workerCompleteSql, args };
}

function workerCompletionOf(row: Record<string, unknown> | undefined): WorkerCompletion | null {
  if (row === undefined) return null;
  return { task: taskOf(row), runId: Number(row[RUN_ID]), hasChildren: row[HAS_CHILDREN] === true };
}
