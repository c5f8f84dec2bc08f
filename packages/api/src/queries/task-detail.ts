import type { Board, BoardCard, Diagnostic, TaskComment, TaskEvent, TaskRun } from "@kanban/kernel";
import type { KanbanContext } from "../context.ts";
import { scopedTask, taskDto } from "../scope.ts";

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
  links: { parents: LinkedTask[]; children: LinkedTask[] };
  child_results: ChildResult[];
  /** The markdown a worker reads before it starts (what `kanban context` prints). */
  worker_context: string;
  diagnostics: Diagnostic[];
}

/** Everything the task drawer shows, for one task the caller may see. */
export function taskDetail(ctx: KanbanContext, board: Board, id: string, failureLimit: number): TaskDetail {
  const task = taskDto(scopedTask(ctx, board, id));
  const diagnostics = board.diagnosticsByTask(failureLimit, id, ctx.knownProfiles()?.names);
  const [card] = board.decorateCards([task], { now: board.now(), failureLimit, summaryChars: null, diagnostics });
  if (!card) throw new Error("unreachable: decorate returns one card per task");
  const sameTenant = (t: { tenant: string | null }) => ctx.tenant === null || t.tenant === ctx.tenant;
  const strip = ({ id: i, title, status, assignee }: LinkedTask & { tenant: string | null }): LinkedTask => ({
    id: i,
    title,
    status,
    assignee,
  });
  const parents = board.linkedParents(id).filter(sameTenant);
  const children = board.linkedChildren(id).filter(sameTenant);
  const summaries = board.latestSummaries(children.map((c) => c.id));
  return {
    task: card,
    comments: board.listComments(id),
    events: board.listEvents(id, { limit: DETAIL_EVENTS }),
    runs: board.listRuns(id),
    links: { parents: parents.map(strip), children: children.map(strip) },
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
