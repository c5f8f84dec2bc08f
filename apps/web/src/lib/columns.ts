import { isTaskStatus, type TaskStatus } from "@kanban/contract";

// Every status the board knows, in the order its columns appear left to right (the shared contract's).
export { isTaskStatus as isStatus, TASK_STATUSES as STATUS_ORDER } from "@kanban/contract";
export type Status = TaskStatus;

export interface ColumnMeta {
  label: string;
  hint: string;
  /** Tailwind class of the header's status dot. */
  dot: string;
}

export const COLUMN_META: Record<Status, ColumnMeta> = {
  triage: { label: "Triage", hint: "Raw ideas: a specifier fleshes out the spec", dot: "bg-fuchsia-500" },
  todo: { label: "Todo", hint: "Waiting on dependencies or unassigned", dot: "bg-slate-400" },
  scheduled: { label: "Scheduled", hint: "Parked until something external happens", dot: "bg-sky-400" },
  ready: { label: "Ready", hint: "Dependencies satisfied; an assigned profile gets dispatched", dot: "bg-blue-500" },
  running: { label: "In progress", hint: "Claimed by a worker, in flight", dot: "bg-amber-500" },
  blocked: { label: "Blocked", hint: "A worker asked for human input", dot: "bg-red-500" },
  review: { label: "Review", hint: "Waiting for a reviewer", dot: "bg-violet-500" },
  done: { label: "Done", hint: "Completed", dot: "bg-emerald-500" },
  archived: { label: "Archived", hint: "Out of the default view", dot: "bg-zinc-400" },
};

/** Columns always shown; scheduled and review appear only while they hold tasks. */
const ALWAYS: readonly string[] = ["triage", "todo", "ready", "running", "blocked", "done"];

export function columnLabel(status: string): string {
  return isTaskStatus(status) ? COLUMN_META[status].label : status;
}

/** Which of the API's columns to draw: the core six, scheduled/review when used, archived when asked. */
export function visibleColumns<C extends { name: string; total: number }>(
  columns: readonly C[],
  showArchived: boolean,
): C[] {
  return columns.filter((c) => {
    if (c.name === "archived") return showArchived;
    return ALWAYS.includes(c.name) || c.total > 0;
  });
}

/** Columns a card can be created in directly (`+` in the header). */
export function canCreateIn(status: string): boolean {
  return ["triage", "todo", "scheduled", "ready", "blocked"].includes(status);
}
