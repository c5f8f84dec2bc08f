import { assignTask } from "./assign.ts";
import type { BoardContext } from "./context.ts";
import { canonicalAssignee } from "./create.ts";
import { moveTask, updateTask } from "./edit.ts";
import type { Termination } from "./termination.ts";
import type { Task } from "./types.ts";

/** One edit of a card as the board's drawer and drag-drop send it (`tasks.patch`); absent = unchanged. */
export interface TaskPatch {
  /** null or "" unassigns. */
  assignee?: string | null;
  /** Through the verb that owns the target status (see `moveTask`); never `running`. */
  status?: string;
  /** With status=done: the completion's result / summary / metadata. */
  result?: string | null;
  summary?: string | null;
  metadata?: Record<string, unknown> | null;
  /** With status=blocked or scheduled. */
  block_reason?: string | null;
  model_override?: string | null;
  /** Wins over `model_override`. */
  clear_model_override?: boolean;
  priority?: number;
  title?: string;
  body?: string | null;
  max_runtime_seconds?: number | null;
  max_retries?: number | null;
  /** Labels a host must offer to claim the task (replaces the list; [] or null: none). */
  requires?: string[] | null;
}

export interface PatchResult {
  task: Task;
  /** The worker to stop once this committed (the status move released its claim), or null. */
  terminate: Termination | null;
}

/**
 * Applies a patch in Hermes' order, each step through the verb that owns it: assignee (a running,
 * claimed task refuses a new one), status (`moveTask`), model override, priority, then title, body,
 * limits and required labels. One transaction: a refused step (an unknown status, a move the state forbids) undoes
 * the steps before it, so a refused patch changes nothing. A status move re-gates children against
 * the board's failure limit.
 */
export async function patchTask(ctx: BoardContext, id: string, patch: TaskPatch): Promise<PatchResult> {
  return await ctx.tx(async () => {
    const current = await ctx.requireTask(id);
    // Re-sending the current assignee (a form posting every field) is not a change, even while running.
    if (patch.assignee !== undefined && canonicalAssignee(patch.assignee) !== current.assignee)
      await assignTask(ctx, id, patch.assignee);
    const moved =
      patch.status === undefined
        ? null
        : await moveTask(ctx, id, {
            status: patch.status,
            result: patch.result,
            summary: patch.summary,
            metadata: patch.metadata,
            reason: patch.block_reason,
          });
    if (patch.clear_model_override) await updateTask(ctx, id, { model_override: null });
    else if (patch.model_override !== undefined) await updateTask(ctx, id, { model_override: patch.model_override });
    if (patch.priority !== undefined) await updateTask(ctx, id, { priority: patch.priority });
    const edits = {
      ...(patch.title !== undefined ? { title: patch.title } : {}),
      ...(patch.body !== undefined ? { body: patch.body } : {}),
      ...(patch.max_runtime_seconds !== undefined ? { max_runtime_seconds: patch.max_runtime_seconds } : {}),
      ...(patch.max_retries !== undefined ? { max_retries: patch.max_retries } : {}),
      ...(patch.requires !== undefined ? { requires: patch.requires } : {}),
    };
    if (Object.keys(edits).length > 0) await updateTask(ctx, id, edits);
    return { task: await ctx.requireTask(id), terminate: moved?.terminate ?? null };
  });
}
