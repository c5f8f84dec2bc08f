import type { ScopedBoard, TaskView } from "@kanban/kernel";
import { z } from "zod";
import { type TaskDto, taskDto } from "../../scope.ts";

// What the procedures of `tasks.*` have in common: two bounds and the answers. (The failure limit
// is the board's own policy, read live from config.json by the registry; no verb takes one.)

export const ttlSchema = z
  .number()
  .int()
  .min(1)
  .max(7 * 86_400);

export const prioritySchema = z.number().int().min(-1_000_000).max(1_000_000);

/**
 * Labels a task requires of the host that claims it. Bounded here only in size: the kernel owns
 * the rule (lower-cased, trimmed, `[a-z0-9][a-z0-9._-]{0,63}`, at most 16) and its typed refusal.
 */
export const requiresSchema = z.array(z.string().max(100)).max(64);

/** The answer of most verbs: the task as it is after the change. */
export async function result(board: ScopedBoard, id: string): Promise<{ task: TaskDto }> {
  return { task: taskDto(await board.requireTask(id)) };
}

/**
 * A task a verb returned (claim, complete, reclaim), with the same `warnings` as `tasks.get` and
 * `tasks.list` give it: the summary of its diagnostics now, null when it has none.
 */
export async function withWarnings(
  board: ScopedBoard,
  task: Omit<TaskView, "warnings" | "requires">,
): Promise<TaskDto> {
  // The kernel's view adds `warnings` now and the labels the task requires (`requires`).
  return taskDto(await board.taskView(task));
}
