import type { TaskView } from "./board.ts";
import { notFound } from "./errors.ts";
import type { ScopedBoard } from "./scoped-board.ts";
import type { BoardCard } from "./store/sqlite/board-reads.ts";
import type { Diagnostic } from "./diagnostics.ts";
import type { TaskComment, TaskEvent, TaskRun } from "./types.ts";

/** Events shown with a task: the newest ones (the full log can be very long). */
export const DETAIL_EVENTS = 200;

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
  comments: TaskComment[];
  events: TaskEvent[];
  runs: TaskRun[];
  /** Parents and children inside the scope (another tenant's linked tasks are left out). */
  links: { parents: LinkedTask[]; children: LinkedTask[] };
  child_results: ChildResult[];
  /** The markdown a worker reads before it starts (what `kanban context` prints). */
  worker_context: string;
  diagnostics: Diagnostic[];
}

export interface TaskDetailOptions {
  failureLimit: number;
  /** The profiles the dispatcher can spawn on this host (see the diagnostics' `knownProfiles`). */
  knownProfiles?: readonly string[] | null;
}

function linked({ id, title, status, assignee }: LinkedTask): LinkedTask {
  return { id, title, status, assignee };
}

/**
 * Everything the task drawer shows about one task of the scope (NOT_FOUND for any other): the task
 * with its card extras, comments, the newest events, runs, links and child results within the
 * scope, the worker context and the diagnostics. Pass the task when the caller has just read it
 * through the scope (saves a second read).
 */
export function taskDetail(scoped: ScopedBoard, task: string | TaskView, opts: TaskDetailOptions): TaskDetail {
  const found = typeof task === "string" ? scoped.requireTask(task) : task;
  if (!scoped.sees(found)) throw notFound(`task ${found.id} not found`, { task_id: found.id });
  const id = found.id;
  const board = scoped.board;
  const diagnostics = board.diagnosticsByTask(opts.failureLimit, id, opts.knownProfiles);
  const [card] = board.decorateCards([{ ...found, skills: found.skills ?? [] }], {
    now: board.now(),
    failureLimit: opts.failureLimit,
    summaryChars: null,
    diagnostics,
  });
  if (!card) throw new Error("unreachable: decorate returns one card per task");
  const parents = scoped.linkedParents(id);
  const children = scoped.linkedChildren(id);
  const summaries = board.latestSummaries(children.map((c) => c.id));
  return {
    task: card,
    comments: board.listComments(id),
    events: board.listEvents(id, { limit: DETAIL_EVENTS }),
    runs: board.listRuns(id),
    links: { parents: parents.map(linked), children: children.map(linked) },
    child_results: children.map((c) => ({
      id: c.id,
      title: c.title,
      status: c.status,
      latest_summary: summaries.get(c.id) ?? null,
      result: c.result,
    })),
    worker_context: board.workerContext(id),
    diagnostics: card.diagnostics,
  };
}
