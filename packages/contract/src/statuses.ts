/** Every status a task can have (spec §1.5), in the order the board's columns show them. */
export const TASK_STATUSES = [
  "triage",
  "todo",
  "scheduled",
  "ready",
  "running",
  "blocked",
  "review",
  "done",
  "archived",
] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

/**
 * The board's columns, left to right (spec: `GET /board`). Every status but `archived`, which is a
 * column only when a caller asks for archived tasks.
 */
export const BOARD_COLUMNS = ["triage", "todo", "scheduled", "ready", "running", "blocked", "review", "done"] as const;
export type BoardColumnName = (typeof BOARD_COLUMNS)[number];

export function isTaskStatus(value: string): value is TaskStatus {
  return (TASK_STATUSES as readonly string[]).includes(value);
}

/**
 * The kinds a block may declare (Hermes B `block_kind`): what the worker waits for. `dependency`:
 * another card must finish first (the task waits in `todo` while a parent is unfinished);
 * `needs_input`: a person must answer; `capability`: the worker cannot do it (tools, access);
 * `transient`: something outside is down for now; `budget`: a budget that counts the card is spent
 * (the kernel pauses a running card so; it counts no streak, and allowing more resumes it).
 */
export const BLOCK_KINDS = ["dependency", "needs_input", "capability", "transient", "budget"] as const;
export type BlockKind = (typeof BLOCK_KINDS)[number];
