import type { TaskView } from "@kanban/kernel";

// Who may see which task is the kernel's ScopedBoard (`scopeBoard(board, { tenant })`), put in each
// procedure's context by `boardProcedure`/`taskProcedure` (trpc.ts). This module keeps only the
// shape of a task on the wire.

/** A task as the API returns it: the kernel's view, with `skills` always a list (Hermes' task dict). */
export type TaskDto = Omit<TaskView, "skills"> & { skills: string[] };

export function taskDto(t: TaskView): TaskDto {
  return { ...t, skills: t.skills ?? [] };
}
