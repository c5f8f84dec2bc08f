import type { Task, TaskComment, TaskEvent, TaskRun } from "./types.ts";

type Row = Record<string, unknown>;

const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
const num = (v: unknown): number | null => (v === null || v === undefined || v === "" ? null : Number(v));
const emptyToNull = (v: unknown): string | null => {
  const s = str(v);
  return s === null || s.trim() === "" ? null : s;
};

export function parseJsonObject(text: unknown): Record<string, unknown> | null {
  if (typeof text !== "string" || text === "") return null;
  try {
    const v = JSON.parse(text) as unknown;
    return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** JSON for storage: empty or absent objects are stored as NULL, as Hermes does. */
export function jsonOrNull(value: Record<string, unknown> | null | undefined): string | null {
  if (!value || Object.keys(value).length === 0) return null;
  return JSON.stringify(value);
}

function parseSkills(text: unknown): string[] | null {
  if (typeof text !== "string" || text === "") return null;
  try {
    const v = JSON.parse(text) as unknown;
    if (!Array.isArray(v)) return null;
    return v.filter((s): s is string => typeof s === "string" && s.trim() !== "");
  } catch {
    return null;
  }
}

/**
 * Reads a `tasks` row by column name. Tolerates boards of any age: missing optional columns read as
 * NULL, legacy `spawn_failures` / `last_spawn_error` stand in for their renamed successors, unknown
 * extra columns are ignored.
 */
export function taskFromRow(r: Row): Task {
  const failures = "consecutive_failures" in r ? r.consecutive_failures : r.spawn_failures;
  const lastError = "last_failure_error" in r ? r.last_failure_error : r.last_spawn_error;
  return {
    id: String(r.id),
    title: String(r.title ?? ""),
    body: str(r.body),
    assignee: str(r.assignee),
    status: String(r.status),
    priority: num(r.priority) ?? 0,
    created_by: str(r.created_by),
    created_at: num(r.created_at) ?? 0,
    started_at: num(r.started_at),
    completed_at: num(r.completed_at),
    workspace_kind: str(r.workspace_kind) ?? "scratch",
    workspace_path: str(r.workspace_path),
    branch_name: str(r.branch_name),
    claim_lock: str(r.claim_lock),
    claim_expires: num(r.claim_expires),
    tenant: str(r.tenant),
    result: str(r.result),
    idempotency_key: str(r.idempotency_key),
    consecutive_failures: num(failures) ?? 0,
    worker_pid: num(r.worker_pid),
    last_failure_error: str(lastError),
    max_runtime_seconds: num(r.max_runtime_seconds),
    last_heartbeat_at: num(r.last_heartbeat_at),
    current_run_id: num(r.current_run_id),
    workflow_template_id: str(r.workflow_template_id),
    current_step_key: str(r.current_step_key),
    skills: parseSkills(r.skills),
    max_retries: num(r.max_retries),
    model_override: emptyToNull(r.model_override),
    session_id: str(r.session_id),
  };
}

export function eventFromRow(r: Row): TaskEvent {
  return {
    id: Number(r.id),
    task_id: String(r.task_id),
    run_id: num(r.run_id),
    kind: String(r.kind),
    payload: parseJsonObject(r.payload),
    created_at: Number(r.created_at),
  };
}

export function commentFromRow(r: Row): TaskComment {
  return { id: Number(r.id), task_id: String(r.task_id), author: String(r.author), body: String(r.body), created_at: Number(r.created_at) };
}

export function runFromRow(r: Row): TaskRun {
  return {
    id: Number(r.id),
    task_id: String(r.task_id),
    profile: str(r.profile),
    step_key: str(r.step_key),
    status: String(r.status),
    claim_lock: str(r.claim_lock),
    claim_expires: num(r.claim_expires),
    worker_pid: num(r.worker_pid),
    max_runtime_seconds: num(r.max_runtime_seconds),
    last_heartbeat_at: num(r.last_heartbeat_at),
    started_at: Number(r.started_at),
    ended_at: num(r.ended_at),
    outcome: str(r.outcome),
    summary: str(r.summary),
    metadata: parseJsonObject(r.metadata),
    error: str(r.error),
  };
}
