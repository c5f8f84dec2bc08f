import type { BoardCard } from "./store/sqlite/board-reads.ts";
import type { Diagnostic } from "./diagnostics.ts";
import type { TaskComment, TaskEvent, TaskRun } from "./types.ts";

// What the task drawer shows (`ScopedBoard.taskDetail`, behind the API's `tasks.get`). Types only, so
// that the board modules can name them without importing each other.

/** Events shown with a task: the newest ones (the full log can be very long). */
export const DETAIL_EVENTS = 200;
/** Comments shown with a task: the newest ones; the drawer pages back through the rest. */
export const DETAIL_COMMENTS = 50;

export interface LinkedTask {
  id: string;
  title: string;
  status: string;
  assignee: string | null;
}

export interface ChildResult {
  id: string;
  title: string;
  status: string;
  latest_summary: string | null;
  result: string | null;
}

export interface TaskDetail {
  /** The task with its card extras; `latest_summary` is the whole text here. */
  task: BoardCard;
  /** The newest {@link DETAIL_COMMENTS} comments, oldest first. */
  comments: TaskComment[];
  /** Every comment the task has (more than `comments` holds when the discussion is long). */
  comments_total: number;
  events: TaskEvent[];
  runs: TaskRun[];
  /** Parents and children inside the scope (another tenant's linked tasks are left out). */
  links: { parents: LinkedTask[]; children: LinkedTask[] };
  child_results: ChildResult[];
  /** The markdown a worker reads before it starts (what `kanban context` prints). */
  worker_context: string;
  diagnostics: Diagnostic[];
}

/** The failure limit is the board's own (`OpenBoardOptions.failureLimit`). */
export interface TaskDetailOptions {
  /** The profiles the dispatcher can spawn on this host (see the diagnostics' `knownProfiles`). */
  knownProfiles?: readonly string[] | null;
}
