import type { TaskStatus } from "../../constants.ts";
import { notFound } from "../../errors.ts";
import { tenantScopeArgs, tenantScopeSql } from "./sql-fragments.ts";
import { TRANSITIONS, type TransitionVerb } from "../../transitions.ts";
import { CLEAR_CLAIM } from "./sql-fragments.ts";
import type { Task } from "../../types.ts";
import type { Awaitable } from "../port.ts";
import { sourcePhase } from "./review-reads.ts";
import type { SqlContext } from "./session.ts";

// Task rows: reads by id, the one compare-and-swap every status write goes through (built from the
// TRANSITIONS table), and the named writes the lifecycle verbs make with it.

/** The task row, or null for an unknown id. */
export async function getTask(ctx: SqlContext, id: string): Promise<Task | null> {
  return await ctx.task("SELECT * FROM tasks WHERE id = ?", id);
}

/** The task row; NOT_FOUND for an unknown id. */
export async function requireTask(ctx: SqlContext, id: string): Promise<Task> {
  const task = await getTask(ctx, id);
  if (!task) throw notFound(`task ${id} not found`, { task_id: id });
  return task;
}

// ---------------------------------------------------------------------------------------------
// The compare-and-swap

/** One status write: where it lands, what else it sets, and what else must hold for it to happen. */
export interface TransitionWrite {
  /** The status to land in; must be one of the verb's to-states. */
  to: TaskStatus;
  /**
   * The status this transaction read: the swap then also requires it to be unchanged (a stricter
   * compare-and-swap than "any of the verb's from-states").
   */
  from?: string;
  /** More `column = expression` assignments after `status`, with `?` placeholders. */
  set?: string;
  setArgs?: readonly unknown[];
  /** More conditions (a fence such as `claim_lock IS ? AND current_run_id IS ?`). */
  where?: string;
  whereArgs?: readonly unknown[];
}

function quoted(states: readonly string[]): string {
  return states.length === 1 ? `= '${states[0]}'` : `IN (${states.map((s) => `'${s}'`).join(", ")})`;
}

const FROM_SQL = new Map<TransitionVerb, string>(
  Object.entries(TRANSITIONS).map(([verb, t]) => [verb as TransitionVerb, quoted(t.from)]),
);

/** The verb's from-states as a SQL predicate on `status` (`= 'ready'` or `IN ('a', 'b')`). */
export function fromStatesSql(verb: TransitionVerb): string {
  return FROM_SQL.get(verb) as string;
}

/**
 * Built statements by shape: verb → to → set → where → [pinned to a read status][RETURNING]. Nested
 * maps keyed by the callers' (constant) strings, so a hot path pays a few lookups, not a string build.
 */
const SQL_CACHE = new Map<string, Map<string, Map<string, Map<string, string[]>>>>();

function child<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let v = map.get(key);
  if (v === undefined) {
    v = make();
    map.set(key, v);
  }
  return v;
}

/**
 * The compare-and-swap's SQL: `UPDATE tasks SET status = <to>, … WHERE id = ? AND status IN
 * (<from-states of verb>) [AND status = ?] [AND <where>] [RETURNING *]`. The statuses are SQL
 * literals taken from the table (never from a caller's string: `to` is checked against it first,
 * and an unknown verb is refused), so each shape is one cached statement.
 */
export function transitionSql(verb: TransitionVerb, w: TransitionWrite, returning: boolean): string {
  const shapes = child(
    child(
      child(
        child(SQL_CACHE, verb, () => new Map()),
        w.to,
        () => new Map(),
      ),
      w.set ?? "",
      () => new Map(),
    ),
    w.where ?? "",
    () => [],
  );
  const slot = (w.from !== undefined ? 2 : 0) + (returning ? 1 : 0);
  const cached = shapes[slot];
  if (cached !== undefined) return cached;
  const from = FROM_SQL.get(verb);
  if (from === undefined) {
    SQL_CACHE.delete(verb);
    throw new Error(`state machine: unknown verb '${verb}'`);
  }
  if (!(TRANSITIONS[verb].to as readonly string[]).includes(w.to)) {
    throw new Error(`state machine: '${verb}' cannot land in '${w.to}'`);
  }
  const sql = `UPDATE tasks SET status = '${w.to}'${w.set ? `, ${w.set}` : ""} WHERE id = ? AND status ${from}${
    w.from !== undefined ? " AND status = ?" : ""
  }${w.where ? ` AND ${w.where}` : ""}${returning ? " RETURNING *" : ""}`;
  shapes[slot] = sql;
  return sql;
}

/** The compare-and-swap's arguments, in {@link transitionSql}'s order. */
export function swapArgs(id: string, w: TransitionWrite): unknown[] {
  const out: unknown[] = w.setArgs ? [...w.setArgs, id] : [id];
  if (w.from !== undefined) out.push(w.from);
  if (w.whereArgs) out.push(...w.whereArgs);
  return out;
}

/** Runs the compare-and-swap; returns how many rows moved (0 or 1). */
export async function swapStatus(
  ctx: SqlContext,
  verb: TransitionVerb,
  id: string,
  w: TransitionWrite,
): Promise<number> {
  return (await ctx.run(transitionSql(verb, w, false), ...swapArgs(id, w))).changes;
}

/** {@link swapStatus} with `RETURNING *`: the moved row, or null when the swap missed. */
export function swapStatusReturning(
  ctx: SqlContext,
  verb: TransitionVerb,
  id: string,
  w: TransitionWrite,
): Awaitable<Task | null> {
  return ctx.task(transitionSql(verb, w, true), ...swapArgs(id, w));
}

// ---------------------------------------------------------------------------------------------
// Settling a task (complete, block/schedule, unblock, archive)

/** The columns a completion decides on (the full row comes back from the swap). */
export type CompleteHead = Pick<
  Task,
  "id" | "status" | "claim_lock" | "current_run_id" | "assignee" | "current_step_key" | "worker_pid"
>;

/**
 * The narrow row a completion reads inside its transaction (on PostgreSQL, as it locks the row),
 * with whether the further reads a completion may need have anything to read: unfinished parents
 * (to name in the refusal), children (to promote once it is done) and gates on the board. Each is
 * a round trip on PostgreSQL that most completions can skip.
 */
export const COMPLETE_HEAD_SQL = `SELECT t.id, t.status, t.claim_lock, t.current_run_id, t.assignee, t.current_step_key, t.worker_pid,
    CASE WHEN EXISTS (SELECT 1 FROM task_links l JOIN tasks p ON p.id = l.parent_id
                       WHERE l.child_id = t.id AND p.status NOT IN ('done', 'archived')) THEN 1 ELSE 0 END AS parents_open,
    CASE WHEN EXISTS (SELECT 1 FROM task_links c WHERE c.parent_id = t.id) THEN 1 ELSE 0 END AS has_children,
    CASE WHEN EXISTS (SELECT 1 FROM kanban_gates) THEN 1 ELSE 0 END AS board_has_gates
  FROM tasks t WHERE t.id = ?`;

/** {@link COMPLETE_HEAD_SQL}'s row: the head and three flags (0 or 1). */
export type CompleteHeadRow = CompleteHead & { parents_open: number; has_children: number; board_has_gates: number };

/** The narrow row a completion reads inside its transaction, or undefined for an unknown id. */
export function completeHead(ctx: SqlContext, id: string): Awaitable<CompleteHeadRow | undefined> {
  return ctx.get(COMPLETE_HEAD_SQL, id) as Awaitable<CompleteHeadRow | undefined>;
}

/** What a completion sets besides the status: the handoff, a released claim, a reset breaker, no run. */
// A completion also ends any typed-block streak (Hermes B: block_kind NULL, block_recurrences 0).
const SETTLE_DONE = `result = ?, completed_at = ?, ${CLEAR_CLAIM}, consecutive_failures = 0, last_failure_error = NULL, current_run_id = NULL, block_kind = NULL, block_recurrences = 0`;

/**
 * `complete`: the task read as `from` with run `runId` becomes done with its result, its claim
 * released and its breaker reset, in one UPDATE. Returns the settled row, or null when it moved.
 */
export function settleDone(ctx: SqlContext, id: string, w: SettleDone): Awaitable<Task | null> {
  return swapStatusReturning(ctx, "complete", id, settleDoneWrite(w));
}

/** What {@link settleDone} is told: the status and run the completion read, its result and time. */
export interface SettleDone {
  from: string;
  runId: number | null;
  result: string | null;
  completedAt: number;
}

/** {@link settleDone}'s compare-and-swap (PostgreSQL's one-statement completion embeds it). */
export function settleDoneWrite(w: SettleDone): TransitionWrite {
  return {
    to: "done",
    from: w.from,
    set: SETTLE_DONE,
    setArgs: [w.result, w.completedAt],
    where: "current_run_id IS ?",
    whereArgs: [w.runId],
  };
}

/** `block` / `schedule`: parks the task read as `from` with run `runId`, releasing its claim. */
export async function parkTask(
  ctx: SqlContext,
  verb: "block" | "schedule",
  id: string,
  w: {
    from: string;
    runId: number | null;
    /** A typed block may land in `todo` (a dependency wait) or `triage` (a block loop); default `blocked`. */
    to?: "blocked" | "todo" | "triage";
    /** A typed block's kind and its same-kind streak (Hermes B `block_kind`, `block_recurrences`). */
    blockKind?: { kind: string; recurrences: number };
  },
): Promise<boolean> {
  const kind = w.blockKind;
  return (
    (await swapStatus(ctx, verb, id, {
      to: verb === "block" ? (w.to ?? "blocked") : "scheduled",
      from: w.from,
      set: kind ? `${CLEAR_CLAIM}, block_kind = ?, block_recurrences = ?` : CLEAR_CLAIM,
      setArgs: kind ? [kind.kind, kind.recurrences] : undefined,
      where: "current_run_id IS ?",
      whereArgs: [w.runId],
    })) === 1
  );
}

/** A task's typed-block state: the kind of its last typed block and how often in a row it recurred. */
export async function blockState(
  ctx: SqlContext,
  id: string,
): Promise<{ block_kind: string | null; block_recurrences: number }> {
  const row = (await ctx.get("SELECT block_kind, block_recurrences FROM tasks WHERE id = ?", id)) as
    | { block_kind: string | null; block_recurrences: number | null }
    | undefined;
  return { block_kind: row?.block_kind ?? null, block_recurrences: Number(row?.block_recurrences ?? 0) };
}

/** `unblock`: back into the flow at `to`, with no claim, no run and a fresh retry budget. */
export async function resumeTask(
  ctx: SqlContext,
  id: string,
  w: { from: string; to: "ready" | "todo" | "review" },
): Promise<boolean> {
  return (
    (await swapStatus(ctx, "unblock", id, {
      to: w.to,
      from: w.from,
      set: `${CLEAR_CLAIM}, consecutive_failures = 0, last_failure_error = NULL, current_run_id = NULL`,
    })) === 1
  );
}

/** `archive`: the task read as `from` becomes archived, its claim released. */
export async function archiveRow(ctx: SqlContext, id: string, from: string): Promise<boolean> {
  return (await swapStatus(ctx, "archive", id, { to: "archived", from, set: CLEAR_CLAIM })) === 1;
}

/**
 * Deletes a task and every row that points at it (links both ways, comments, events, runs,
 * subscriptions, attachments, its gates, round and evidence). Usage reports stay: money spent is history.
 */
export async function deleteTaskRows(ctx: SqlContext, id: string): Promise<void> {
  await ctx.run("DELETE FROM task_links WHERE parent_id = ? OR child_id = ?", id, id);
  await ctx.run("DELETE FROM task_comments WHERE task_id = ?", id);
  await ctx.run("DELETE FROM task_events WHERE task_id = ?", id);
  await ctx.run("DELETE FROM task_runs WHERE task_id = ?", id);
  await ctx.run("DELETE FROM kanban_notify_subs WHERE task_id = ?", id);
  await ctx.run("DELETE FROM task_attachments WHERE task_id = ?", id);
  await ctx.run("DELETE FROM kanban_task_requires WHERE task_id = ?", id);
  await ctx.run("DELETE FROM kanban_gates WHERE scope = 'card' AND scope_key = ?", id);
  await ctx.run("DELETE FROM kanban_verifications WHERE task_id = ?", id);
  await ctx.run("DELETE FROM kanban_evidence WHERE task_id = ?", id);
  await ctx.run("DELETE FROM tasks WHERE id = ?", id);
}

// ---------------------------------------------------------------------------------------------
// The circuit breaker's counters

/** `spawn_failed`: a running task whose worker could not start goes back to ready (a reviewer run: review), its claim released. */
export async function requeueAfterSpawnFailure(
  ctx: SqlContext,
  id: string,
  failures: number,
  error: string,
): Promise<boolean> {
  return (
    (await swapStatus(ctx, "spawn_failed", id, {
      to: await sourcePhase(ctx, id),
      set: `consecutive_failures = ?, last_failure_error = ?, ${CLEAR_CLAIM}`,
      setArgs: [failures, error],
    })) === 1
  );
}

/** `give_up`: the breaker blocks the task with its failure count (and releases its claim when asked). */
export async function giveUp(
  ctx: SqlContext,
  id: string,
  w: { failures: number; error: string; releaseClaim: boolean },
): Promise<boolean> {
  return (
    (await swapStatus(ctx, "give_up", id, {
      to: "blocked",
      set: w.releaseClaim
        ? `consecutive_failures = ?, last_failure_error = ?, ${CLEAR_CLAIM}`
        : "consecutive_failures = ?, last_failure_error = ?",
      setArgs: [w.failures, w.error],
    })) === 1
  );
}

/** Books a failure streak without a status change (and releases the claim when asked). */
export async function bookFailures(
  ctx: SqlContext,
  id: string,
  w: { failures: number; error: string; releaseClaim: boolean },
): Promise<void> {
  const sql = w.releaseClaim
    ? `UPDATE tasks SET consecutive_failures = ?, last_failure_error = ?, ${CLEAR_CLAIM} WHERE id = ?`
    : "UPDATE tasks SET consecutive_failures = ?, last_failure_error = ? WHERE id = ?";
  await ctx.run(sql, w.failures, w.error, id);
}

// ---------------------------------------------------------------------------------------------
// Other single-column writes

/**
 * Sets the assignee and resets the failure streak (it belongs to the task/profile pair); never on a
 * claimed running task. Returns whether the row changed.
 */
export async function setAssignee(ctx: SqlContext, id: string, assignee: string | null): Promise<boolean> {
  return (
    (
      await ctx.run(
        "UPDATE tasks SET assignee = ?, consecutive_failures = 0, last_failure_error = NULL WHERE id = ? AND NOT (status = 'running' AND claim_lock IS NOT NULL)",
        assignee,
        id,
      )
    ).changes === 1
  );
}

/** Rewrites a task's result text. */
export async function setResult(ctx: SqlContext, id: string, result: string): Promise<void> {
  await ctx.run("UPDATE tasks SET result = ? WHERE id = ?", result, id);
}

/** Where the task's workspace was materialised; the branch is kept when none is given. */
export async function setWorkspacePath(
  ctx: SqlContext,
  id: string,
  workspacePath: string,
  branchName: string | null,
): Promise<void> {
  await ctx.run(
    "UPDATE tasks SET workspace_path = ?, branch_name = COALESCE(?, branch_name) WHERE id = ?",
    workspacePath,
    branchName,
    id,
  );
}

// ---------------------------------------------------------------------------------------------
// Tenant-confined existence checks

/**
 * Whether task `id` exists within `scope` (a tenant, or null for the whole board), and who created
 * it. Another tenant's task reads as missing.
 */
export async function creatorInScope(
  ctx: SqlContext,
  id: string,
  scope: string | null,
): Promise<{ created_by: string | null } | null> {
  const row = (await ctx.get(
    `SELECT created_by FROM tasks t WHERE id = ? AND ${tenantScopeSql("t")}`,
    id,
    ...tenantScopeArgs(scope),
  )) as { created_by: string | null } | undefined;
  return row ?? null;
}

/** Whether task `id` exists within `scope`; another tenant's task reads as missing. */
export async function existsInScope(ctx: SqlContext, id: string, scope: string | null): Promise<boolean> {
  return (
    (await ctx.get(`SELECT 1 FROM tasks t WHERE id = ? AND ${tenantScopeSql("t")}`, id, ...tenantScopeArgs(scope))) !==
    undefined
  );
}
