import type { SqlContext } from "./session.ts";
import type { TransitionWrite } from "./tasks.ts";
import { CLEAR_CLAIM } from "./sql-fragments.ts";

// A person's edits of a task's fields (edit.ts's updateTask) and what a direct status write sets
// besides the status (setStatusDirect).

/** The task columns `updateTask` edits one at a time. */
export type EditableField = "title" | "body" | "max_runtime_seconds" | "max_retries" | "model_override" | "priority";

const SET_FIELD: Readonly<Record<EditableField, string>> = {
  title: "UPDATE tasks SET title = ? WHERE id = ?",
  body: "UPDATE tasks SET body = ? WHERE id = ?",
  max_runtime_seconds: "UPDATE tasks SET max_runtime_seconds = ? WHERE id = ?",
  max_retries: "UPDATE tasks SET max_retries = ? WHERE id = ?",
  model_override: "UPDATE tasks SET model_override = ? WHERE id = ?",
  priority: "UPDATE tasks SET priority = ? WHERE id = ?",
};

/** Writes one editable column of task `id`. */
export async function setTaskField(ctx: SqlContext, id: string, field: EditableField, value: unknown): Promise<void> {
  await ctx.run(SET_FIELD[field], value, id);
}

// A task that lands in done this way still gets its completion time (every done task has one).
const DIRECT_STATUS_SET = `${CLEAR_CLAIM}, completed_at = CASE WHEN ? = 'done' THEN COALESCE(completed_at, ?) ELSE completed_at END`;

/**
 * The rest of a direct status write to `status` at `now`: the claim is released, and a task landing
 * in done gets its completion time unless it has one.
 */
export function directStatusSet(status: string, now: number): Pick<TransitionWrite, "set" | "setArgs"> {
  return { set: DIRECT_STATUS_SET, setArgs: [status, now] };
}
