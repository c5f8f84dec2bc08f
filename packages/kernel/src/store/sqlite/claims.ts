import type { Task } from "../../types.ts";
import type { Awaitable } from "../port.ts";
import type { SqlContext } from "./session.ts";
import { swapStatus, swapStatusReturning } from "./tasks.ts";

// A claim's life on the task row: the narrow read and the compare-and-swap that take it, the lease
// a heartbeat extends, the worker pid the dispatcher records. (Its run lives in runs.ts.)

/** The columns a claim decides on; the full row comes back from the swap. */
export interface ClaimHead {
  status: string;
  claim_lock: string | null;
  current_run_id: number | null;
  assignee: string | null;
  tenant: string | null;
  current_step_key: string | null;
  max_runtime_seconds: number | null;
  /** 1 when a direct parent is neither done nor archived (the claim must be refused). */
  parents_unfinished: number;
  /** 1 when a run of the task is still open (invariant recovery closes it first). */
  open_run: number;
}

/** Status and lock only: the read a claim makes before it takes the write lock. */
export function claimableAtAGlance(
  ctx: SqlContext,
  id: string,
): Awaitable<Pick<ClaimHead, "status" | "claim_lock"> | undefined> {
  return ctx.get("SELECT status, claim_lock FROM tasks WHERE id = ?", id) as Awaitable<
    Pick<ClaimHead, "status" | "claim_lock"> | undefined
  >;
}

/** What a claim by id glances at before it may be sent as one message (see {@link claimGlance}). */
export type ClaimGlance = Pick<ClaimHead, "status" | "claim_lock"> & {
  /** 1 when the task could be claimed in one message: an assignee, and no run ever opened. */
  plain: unknown;
  /** 1 when the board has any budget (a claim by id must then judge the spent ones the full way). */
  budgeted: unknown;
};

/**
 * The glance of a claim by id that may be sent as one message (PostgreSQL): status and lock, and
 * whether the one message could claim it at all, so that a task it would only let go costs nothing.
 */
export function claimGlance(ctx: SqlContext, id: string): Awaitable<ClaimGlance | undefined> {
  return ctx.get(
    `SELECT t.status, t.claim_lock,
       CASE WHEN t.assignee IS NOT NULL AND NOT EXISTS (SELECT 1 FROM task_runs r WHERE r.task_id = t.id)
         THEN 1 ELSE 0 END AS plain,
       CASE WHEN EXISTS (SELECT 1 FROM kanban_budgets) THEN 1 ELSE 0 END AS budgeted
     FROM tasks t WHERE t.id = ?`,
    id,
  ) as Awaitable<ClaimGlance | undefined>;
}

/**
 * The narrow row a claim reads first (the full row is only worth building for a claim we win), with
 * the two facts the claim decides on, in one statement: on PostgreSQL every statement is a round
 * trip made while the board's writer lock is held.
 */
export function claimHead(ctx: SqlContext, id: string): Awaitable<ClaimHead | undefined> {
  return ctx.get(`SELECT ${CLAIM_HEAD_COLUMNS} FROM tasks t WHERE t.id = ?`, id) as Awaitable<ClaimHead | undefined>;
}

/** Whether task `t` has a direct parent neither done nor archived (a claim of it must be refused). */
export const T_HAS_UNFINISHED_PARENT = `EXISTS (SELECT 1 FROM task_links l JOIN tasks p ON p.id = l.parent_id
         WHERE l.child_id = t.id AND p.status NOT IN ('done', 'archived'))`;

/** {@link claimHead}'s select list over `tasks t` (no parameters); PostgreSQL's claim walk reads it as it locks the row. */
export const CLAIM_HEAD_COLUMNS = `t.status, t.claim_lock, t.current_run_id, t.assignee, t.tenant, t.current_step_key, t.max_runtime_seconds,
       CASE WHEN ${T_HAS_UNFINISHED_PARENT} THEN 1 ELSE 0 END AS parents_unfinished,
       CASE WHEN EXISTS (SELECT 1 FROM task_runs r WHERE r.task_id = t.id AND r.ended_at IS NULL) THEN 1 ELSE 0 END AS open_run`;

/** A {@link CLAIM_HEAD_COLUMNS} row, typed (PostgreSQL answers some numbers as strings). */
export function claimHeadFromRow(row: Record<string, unknown>): ClaimHead {
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return {
    status: String(row.status),
    claim_lock: (row.claim_lock as string | null) ?? null,
    current_run_id: num(row.current_run_id),
    assignee: (row.assignee as string | null) ?? null,
    tenant: (row.tenant as string | null) ?? null,
    current_step_key: (row.current_step_key as string | null) ?? null,
    max_runtime_seconds: num(row.max_runtime_seconds),
    parents_unfinished: Number(row.parents_unfinished),
    open_run: Number(row.open_run),
  };
}

/**
 * `claim`: an unclaimed ready task becomes running under `claimer` until `expires`, attached to run
 * `runId`, with no heartbeat and no pid carried over from an earlier attempt. Returns the claimed
 * row, or null when the swap missed.
 */
export function takeClaim(
  ctx: SqlContext,
  id: string,
  c: { claimer: string; expires: number; now: number; runId: number },
): Awaitable<Task | null> {
  return swapStatusReturning(ctx, "claim", id, {
    to: "running",
    set: "claim_lock = ?, claim_expires = ?, started_at = COALESCE(started_at, ?), last_heartbeat_at = NULL, worker_pid = NULL, current_run_id = ?",
    setArgs: [c.claimer, c.expires, c.now, c.runId],
    where: "claim_lock IS NULL",
  });
}

/** `claim_rejected`: a ready task with an unfinished parent goes back to todo. */
export async function rejectClaim(ctx: SqlContext, id: string): Promise<boolean> {
  return (await swapStatus(ctx, "claim_rejected", id, { to: "todo" })) === 1;
}

/** Moves a running claim's lease end, if `lock` still holds it. */
export async function extendLease(ctx: SqlContext, id: string, lock: string | null, expires: number): Promise<boolean> {
  return (
    (
      await ctx.run(
        "UPDATE tasks SET claim_expires = ? WHERE id = ? AND status = 'running' AND claim_lock IS ?",
        expires,
        id,
        lock,
      )
    ).changes === 1
  );
}

/** Records a running task's latest heartbeat. */
export async function recordHeartbeat(ctx: SqlContext, id: string, at: number): Promise<void> {
  await ctx.run("UPDATE tasks SET last_heartbeat_at = ? WHERE id = ? AND status = 'running'", at, id);
}

/** Records the worker pid of a running task's current run `runId`; false when that run is no longer current. */
export async function recordWorkerPid(ctx: SqlContext, id: string, pid: number, runId: number): Promise<boolean> {
  return (
    (
      await ctx.run(
        "UPDATE tasks SET worker_pid = ? WHERE id = ? AND status = 'running' AND current_run_id = ?",
        pid,
        id,
        runId,
      )
    ).changes === 1
  );
}
