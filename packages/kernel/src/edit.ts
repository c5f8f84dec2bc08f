import { dropRound } from "./gate-rounds.ts";
import { archiveTask } from "./archive.ts";
import { blockTask, scheduleTask, unblockTask } from "./block.ts";
import { completeTask } from "./complete.ts";
import { TASK_STATUSES, type TaskStatus } from "./constants.ts";
import type { BoardContext } from "./context.ts";
import { invalid, notFound, wrongState } from "./errors.ts";
import { recomputeChildren } from "./graph.ts";
import { normaliseRequires } from "./labels.ts";
import { directStatusSet, setTaskField } from "./store/sqlite/edits.ts";
import { requiresOfTask, setRequires } from "./store/sqlite/requires.ts";
import { type Termination, workerToStop } from "./termination.ts";
import { reopenReview, requestReview } from "./review.ts";
import type { Task } from "./types.ts";
import { transition } from "./transition.ts";

const RUNNING_REFUSED = "Cannot set status to 'running' directly; use the dispatcher/claim path";

/** Edits title/body/priority/limits of a task (events `edited` / `reprioritized`). */
export async function updateTask(
  ctx: BoardContext,
  id: string,
  patch: {
    title?: string;
    body?: string | null;
    priority?: number;
    max_runtime_seconds?: number | null;
    model_override?: string | null;
    max_retries?: number | null;
    /** Labels a host must offer to claim the task (replaces the list; [] or null: none). */
    requires?: string[] | null;
  },
): Promise<Task> {
  const requires = patch.requires === undefined ? undefined : normaliseRequires(patch.requires);
  return await ctx.tx(async () => {
    const task = await ctx.getTask(id);
    if (!task) throw notFound(`task ${id} not found`, { task_id: id });
    const edited: string[] = [];
    if (patch.title !== undefined) {
      const title = patch.title.trim();
      if (title === "") throw invalid("title is required");
      if (title !== task.title) {
        await setTaskField(ctx, id, "title", title);
        edited.push("title");
      }
    }
    if (patch.body !== undefined && patch.body !== task.body) {
      await setTaskField(ctx, id, "body", patch.body);
      edited.push("body");
    }
    if (patch.max_runtime_seconds !== undefined && patch.max_runtime_seconds !== task.max_runtime_seconds) {
      if (
        patch.max_runtime_seconds !== null &&
        !(Number.isInteger(patch.max_runtime_seconds) && patch.max_runtime_seconds >= 1)
      ) {
        throw invalid("max_runtime_seconds must be an integer >= 1");
      }
      await setTaskField(ctx, id, "max_runtime_seconds", patch.max_runtime_seconds);
      edited.push("max_runtime_seconds");
    }
    if (patch.max_retries !== undefined && patch.max_retries !== task.max_retries) {
      if (patch.max_retries !== null && !(Number.isInteger(patch.max_retries) && patch.max_retries >= 1)) {
        throw invalid("max_retries must be an integer >= 1");
      }
      await setTaskField(ctx, id, "max_retries", patch.max_retries);
      edited.push("max_retries");
    }
    if (patch.model_override !== undefined) {
      const model = patch.model_override?.trim() || null;
      if (model !== task.model_override) {
        await setTaskField(ctx, id, "model_override", model);
        edited.push("model_override");
      }
    }
    if (requires !== undefined) {
      const before = await requiresOfTask(ctx, id);
      if (before.join(",") !== requires.join(",")) {
        await setRequires(ctx, id, requires);
        edited.push("requires");
      }
    }
    if (edited.length > 0) await ctx.appendEvent(id, "edited", { fields: edited });
    if (patch.priority !== undefined && patch.priority !== task.priority) {
      if (!Number.isInteger(patch.priority)) throw invalid("priority must be an integer");
      await setTaskField(ctx, id, "priority", patch.priority);
      await ctx.appendEvent(id, "reprioritized", { priority: patch.priority });
    }
    return await ctx.requireTask(id);
  });
}

/**
 * Direct status write (a drag on the board with no structured verb behind it). `ready` needs
 * finished parents; leaving `running` closes the run and reports the worker for termination.
 */
export async function setStatusDirect(
  ctx: BoardContext,
  id: string,
  status: string,
): Promise<{ task: Task; terminate: Termination | null }> {
  // Public on the Board, so it guards itself: only a claim starts work, and no unknown status is ever stored.
  if (status === "running") throw invalid(RUNNING_REFUSED);
  if (!TASK_STATUSES.includes(status as (typeof TASK_STATUSES)[number])) throw invalid(`unknown status: ${status}`);
  const out = await ctx.tx(async () => {
    const task = await ctx.getTask(id);
    if (!task) throw notFound(`task ${id} not found`, { task_id: id });
    if (status === "ready") {
      const open = await ctx.unfinishedParents(id);
      if (open.length > 0) {
        throw wrongState(
          `Cannot move to 'ready': blocked by parent(s) not done — ${open.map((p) => `'${p.title}' (${p.id}, status=${p.status})`).join(", ")}`,
          { task_id: id, parents: open },
        );
      }
    }
    if (task.status === status) return { task, terminate: null };
    // A task that lands in done this way still gets its completion time (every done task has one).
    const changed = await transition(ctx, "set_status", id, {
      to: status as TaskStatus,
      from: task.status,
      ...directStatusSet(status, ctx.now()),
    });
    if (changed !== 1)
      throw wrongState(`status transition to '${status}' not valid from current state`, { task_id: id });
    const runId = await ctx.endRun(id, {
      status: "reclaimed",
      outcome: "reclaimed",
      summary: `status changed to ${status} (dashboard/direct)`,
    });
    await ctx.appendEvent(id, "status", { status, requested_status: status, from: task.status }, runId);
    // A person moved the card out of review by hand: its gates' round (if any) is over, unjudged.
    if (task.status === "review") await dropRound(ctx, id);
    return { task: await ctx.requireTask(id), terminate: workerToStop(ctx, task) };
  });
  if (status === "done" || status === "archived") await recomputeChildren(ctx, id);
  return out;
}

export interface MoveInput {
  status: string;
  result?: string | null;
  summary?: string | null;
  metadata?: Record<string, unknown> | null;
  reason?: string | null;
}

/**
 * Moves a task to a column the way the board's drag-drop does: each target status maps to the
 * structured verb that owns it (done → complete, blocked → block, archived → archive, ready from
 * blocked/scheduled → unblock), anything else is a direct status write. `running` is never set
 * directly: only a claim starts work.
 */
export async function moveTask(
  ctx: BoardContext,
  id: string,
  input: MoveInput,
): Promise<{ task: Task; terminate: Termination | null }> {
  const status = input.status;
  if (status === "running") throw invalid(RUNNING_REFUSED);
  if (!TASK_STATUSES.includes(status as (typeof TASK_STATUSES)[number])) throw invalid(`unknown status: ${status}`);
  const task = await ctx.getTask(id);
  if (!task) throw notFound(`task ${id} not found`, { task_id: id });
  // Hermes B: a drag into Review hands the card to its assignee as reviewer (forced: a person's
  // move); a drag out of Review to ready/todo is a reopen (the implementer comes back).
  if (status === "review" && task.status !== "review") {
    const out = await requestReview(ctx, id, { force: true, reviewer: task.assignee });
    return { task: out.task, terminate: out.terminate };
  }
  if (task.status === "review" && (status === "ready" || status === "todo")) {
    return { task: await reopenReview(ctx, id), terminate: null };
  }
  switch (status) {
    case "done":
      // A card moved to done by a person: its worker, if one still runs, has nothing left to do.
      return {
        task: (
          await completeTask(ctx, id, {
            result: input.result,
            summary: input.summary,
            metadata: input.metadata,
          })
        ).task,
        terminate: workerToStop(ctx, task),
      };
    case "blocked": {
      if (task.status === "running" || task.status === "ready") {
        return { task: (await blockTask(ctx, id, { reason: input.reason })).task, terminate: workerToStop(ctx, task) };
      }
      throw wrongState("status transition to 'blocked' not valid from current state", {
        task_id: id,
        status: task.status,
      });
    }
    case "scheduled":
      return { task: (await scheduleTask(ctx, id, { reason: input.reason })).task, terminate: workerToStop(ctx, task) };
    case "archived":
      return await archiveTask(ctx, id);
    default:
      if (status === "ready" && (task.status === "blocked" || task.status === "scheduled")) {
        const open = await ctx.unfinishedParents(id);
        if (open.length > 0) {
          throw wrongState(
            `Cannot move to 'ready': blocked by parent(s) not done — ${open.map((p) => `'${p.title}' (${p.id}, status=${p.status})`).join(", ")}`,
            { task_id: id, parents: open },
          );
        }
        return { task: await unblockTask(ctx, id), terminate: null };
      }
      return await setStatusDirect(ctx, id, status);
  }
}
