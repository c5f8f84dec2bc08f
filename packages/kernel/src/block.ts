import type { BoardContext } from "./context.ts";
import { notFound, wrongState } from "./errors.ts";
import { checkFence, type Fence } from "./fencing.ts";
import { transition } from "./transition.ts";
import { allowedFrom, CLEAR_CLAIM, TRANSITIONS } from "./transitions.ts";
import type { Task } from "./types.ts";

function settle(
  ctx: BoardContext,
  id: string,
  fence: Fence,
  verb: "block" | "schedule",
  to: "blocked" | "scheduled",
  reason: string | null,
): { task: Task; run_id: number | null } {
  return ctx.tx(() => {
    const task = ctx.getTask(id);
    if (!task) throw notFound(`task ${id} not found`, { task_id: id });
    checkFence(task, fence);
    const from = TRANSITIONS[verb].from;
    if (!allowedFrom(verb, task.status)) {
      throw wrongState(
        `cannot ${to === "blocked" ? "block" : "schedule"} ${id}: status is '${task.status}' (expected ${from.join(" or ")})`,
        {
          task_id: id,
          status: task.status,
        },
      );
    }
    const changed = transition(ctx, verb, id, {
      to,
      from: task.status,
      set: CLEAR_CLAIM,
      where: "current_run_id IS ?",
      whereArgs: [task.current_run_id],
    });
    if (changed !== 1)
      throw wrongState(`cannot ${to === "blocked" ? "block" : "schedule"} ${id}: it changed state concurrently`);
    const outcome = to === "blocked" ? "blocked" : "scheduled";
    let runId = ctx.endRun(id, { status: outcome, outcome, summary: reason });
    if (runId === null && reason) runId = ctx.synthesizeRun(task, { status: outcome, outcome, summary: reason });
    ctx.appendEvent(id, to, { reason }, runId);
    return { task: ctx.requireTask(id), run_id: runId };
  });
}

/**
 * A worker (or person) parks a running/ready task for human input. This block is "sticky": only an
 * explicit unblock moves it on (recompute never does).
 */
export function blockTask(ctx: BoardContext, id: string, opts: { reason?: string | null } & Fence = {}) {
  return settle(ctx, id, opts, "block", "blocked", opts.reason?.trim() || null);
}

/** Parks a task until something external happens; leaves only through unblock. */
export function scheduleTask(ctx: BoardContext, id: string, opts: { reason?: string | null } & Fence = {}) {
  return settle(ctx, id, opts, "schedule", "scheduled", opts.reason?.trim() || null);
}

/**
 * Moves a blocked/scheduled task back into the flow: `ready` when its parents are done, else
 * `todo`. Gives it a fresh retry budget.
 */
export function unblockTask(ctx: BoardContext, id: string): Task {
  return ctx.tx(() => {
    const task = ctx.getTask(id);
    if (!task) throw notFound(`task ${id} not found`, { task_id: id });
    if (!allowedFrom("unblock", task.status)) {
      throw wrongState(`cannot unblock ${id}: status is '${task.status}' (not blocked or scheduled)`, {
        task_id: id,
        status: task.status,
      });
    }
    if (
      task.current_run_id !== null ||
      ctx.stmt("SELECT 1 FROM task_runs WHERE task_id = ? AND ended_at IS NULL").get(id)
    ) {
      ctx.endRun(id, { status: "reclaimed", outcome: "reclaimed", summary: "invariant recovery on unblock" });
    }
    const next = ctx.parentsSatisfied(id) ? "ready" : "todo";
    const changed = transition(ctx, "unblock", id, {
      to: next,
      from: task.status,
      set: `${CLEAR_CLAIM}, consecutive_failures = 0, last_failure_error = NULL, current_run_id = NULL`,
    });
    if (changed !== 1) throw wrongState(`cannot unblock ${id}: it changed state concurrently`);
    ctx.appendEvent(id, "unblocked", next === "ready" ? null : { status: next, resume_status: "ready" });
    return ctx.requireTask(id);
  });
}
