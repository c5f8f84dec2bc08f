import type { Board, TaskView, Termination } from "@kanban/kernel";
import { z } from "zod";
import type { KanbanContext } from "../../context.ts";
import { idSchema, withBoard } from "../../schemas.ts";
import { type TaskDto, taskDto } from "../../scope.ts";

// What the procedures of `tasks.*` have in common: the input that names one task, two bounds, the
// live failure limit, the `{ task }` answer and the rule for stopping someone else's worker.

export const idInput = z.object({ ...withBoard, id: idSchema });

export const ttlSchema = z
  .number()
  .int()
  .min(1)
  .max(7 * 86_400);

export const prioritySchema = z.number().int().min(-1_000_000).max(1_000_000);

/** config.json's `failure_limit` as it is now (the board was opened with the value of that moment). */
export function failureLimit(ctx: KanbanContext): number {
  return ctx.config().kanban.failure_limit;
}

/** The answer of most verbs: the task as it is after the change. */
export function result(board: Board, id: string): { task: TaskDto } {
  return { task: taskDto(board.requireTask(id)) };
}

/**
 * Who else's worker a complete/block/schedule releases. A call fenced by run id or claim lock is the
 * worker speaking for itself (it exits on its own); an unfenced one is a person or a script closing
 * the card under a live worker, which must then be stopped like any other released claim.
 */
export function workerReleasedByOthers(
  board: Board,
  task: TaskView,
  fence: { expected_run_id?: number | null; claim_lock?: string | null },
): Termination | null {
  if (fence.expected_run_id != null || fence.claim_lock != null) return null;
  return board.workerToStop(task);
}
