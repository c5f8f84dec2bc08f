import type { RouterOutputs } from "@kanban/api/client";

/** Where a verb writes: normal output to stdout, diagnostics and errors to stderr, one line per call. */
export interface Io {
  out(line: string): void;
  err(line: string): void;
  /**
   * Resolves once stdout has taken what was written (a pipe takes 64 KiB at a time; the rest waits
   * in memory). Verbs that print without bound (`list`) wait on it between pages. Absent: nothing to wait for.
   */
  drained?(): Promise<void>;
}

export type TaskDto = RouterOutputs["tasks"]["list"]["tasks"][number];

// Statuses come from the shared contract (the CLI may not import the kernel).
export { TASK_STATUSES } from "@kanban/contract";

const ICONS: Record<string, string> = {
  triage: "?",
  todo: "◻",
  ready: "▶",
  running: "●",
  scheduled: "⏱",
  blocked: "⊘",
  review: "?",
  done: "✓",
  archived: "—",
};

export function statusIcon(status: string): string {
  return ICONS[status] ?? "?";
}

/** `--json` output: one document, two-space indented, non-ASCII kept as is. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

function two(n: number): string {
  return String(n).padStart(2, "0");
}

/** Unix seconds as local `YYYY-MM-DD HH:MM` (text output), `-` for none. */
export function formatTime(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return "-";
  const d = new Date(seconds * 1000);
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}`;
}

/** A duration as `Ns`, `Nm` or `N.Nh` (the runs table). */
export function formatElapsed(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  return `${(s / 3600).toFixed(1)}h`;
}

/**
 * The keys of a task in `--json` output, in Hermes' order (`_task_to_dict`): the v1 keys, then the
 * newer Hermes' `project_id` and `provider_override`, which our schema also holds.
 */
export const TASK_DICT_KEYS = [
  "id",
  "title",
  "body",
  "assignee",
  "status",
  "priority",
  "tenant",
  "workspace_kind",
  "workspace_path",
  "branch_name",
  "created_by",
  "created_at",
  "started_at",
  "completed_at",
  "result",
  "skills",
  "max_runtime_seconds",
  "max_retries",
  "model_override",
  "session_id",
  "workflow_template_id",
  "current_step_key",
  "project_id",
  "provider_override",
] as const;

export type TaskDict = Record<(typeof TASK_DICT_KEYS)[number], unknown>;

/** A task as `--json` prints it: stable keys only, whatever extras the API adds. */
export function taskDict(task: Partial<Record<string, unknown>>): TaskDict {
  const out = {} as TaskDict;
  for (const key of TASK_DICT_KEYS) out[key] = key === "skills" ? (task.skills ?? []) : (task[key] ?? null);
  return out;
}

/** `<icon> <id>  <status:8>  <assignee:20>[ [tenant]]  <title>` */
export function taskLine(t: {
  id: string;
  status: string;
  assignee: string | null;
  tenant: string | null;
  title: string;
}): string {
  const tenant = t.tenant ? ` [${t.tenant}]` : "";
  return `${statusIcon(t.status)} ${t.id}  ${t.status.padEnd(8)}  ${(t.assignee ?? "(unassigned)").padEnd(20)}${tenant}  ${t.title}`;
}

/** A payload on one line for event listings; long ones are cut. */
export function payloadText(payload: unknown, max = 160): string {
  if (payload === null || payload === undefined) return "";
  const text = JSON.stringify(payload);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** Left-aligned columns from rows of cells (tables of boards, runs, assignees). */
export function table(rows: string[][]): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return rows.map((row) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd(),
  );
}
