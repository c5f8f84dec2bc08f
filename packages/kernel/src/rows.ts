import type Database from "better-sqlite3";
import { parseStoredJson, storableJson, unreadableJson } from "./stored-json.ts";
import type { Task, TaskComment, TaskEvent, TaskRun } from "./types.ts";

type Row = Record<string, unknown>;

const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
const num = (v: unknown): number | null => (v === null || v === undefined || v === "" ? null : Number(v));
const emptyToNull = (v: unknown): string | null => {
  const s = str(v);
  return s === null || s.trim() === "" ? null : s;
};

/**
 * A stored JSON object column (payload, metadata). Never throws: NULL, empty, malformed or non-object
 * text reads as null; text too deep or too long to handle safely reads as `{ _unreadable: "<why>" }`
 * (see stored-json.ts), so one pathological row cannot break the read it is part of.
 */
export function parseJsonObject(text: unknown): Record<string, unknown> | null {
  const parsed = parseStoredJson(text);
  if (parsed === null) return null;
  if ("unreadable" in parsed) return unreadableJson(parsed.unreadable);
  const v = parsed.value;
  return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}

/**
 * JSON for storage: empty or absent objects are stored as NULL, as Hermes does. Refuses (INVALID_INPUT)
 * a value a later read would not parse.
 */
export function jsonOrNull(value: Record<string, unknown> | null | undefined, field = "metadata"): string | null {
  if (!value || Object.keys(value).length === 0) return null;
  return storableJson(value, field);
}

function parseSkills(text: unknown): string[] | null {
  const parsed = parseStoredJson(text);
  if (parsed === null || !("value" in parsed) || !Array.isArray(parsed.value)) return null;
  return parsed.value.filter((s): s is string => typeof s === "string" && s.trim() !== "");
}

/**
 * Reads a `tasks` row by column name. Tolerates boards of any age: missing optional columns read as
 * NULL, legacy `spawn_failures` / `last_spawn_error` stand in for their renamed successors, unknown
 * extra columns are ignored.
 */
function taskFrom(get: (column: string) => unknown, has: (column: string) => boolean): Task {
  const failures = has("consecutive_failures") ? get("consecutive_failures") : get("spawn_failures");
  const lastError = has("last_failure_error") ? get("last_failure_error") : get("last_spawn_error");
  return {
    id: String(get("id")),
    title: String(get("title") ?? ""),
    body: str(get("body")),
    assignee: str(get("assignee")),
    status: String(get("status")),
    priority: num(get("priority")) ?? 0,
    created_by: str(get("created_by")),
    created_at: num(get("created_at")) ?? 0,
    started_at: num(get("started_at")),
    completed_at: num(get("completed_at")),
    workspace_kind: str(get("workspace_kind")) ?? "scratch",
    workspace_path: str(get("workspace_path")),
    branch_name: str(get("branch_name")),
    claim_lock: str(get("claim_lock")),
    claim_expires: num(get("claim_expires")),
    tenant: str(get("tenant")),
    result: str(get("result")),
    idempotency_key: str(get("idempotency_key")),
    consecutive_failures: num(failures) ?? 0,
    worker_pid: num(get("worker_pid")),
    last_failure_error: str(lastError),
    max_runtime_seconds: num(get("max_runtime_seconds")),
    last_heartbeat_at: num(get("last_heartbeat_at")),
    current_run_id: num(get("current_run_id")),
    workflow_template_id: str(get("workflow_template_id")),
    current_step_key: str(get("current_step_key")),
    skills: parseSkills(get("skills")),
    max_retries: num(get("max_retries")),
    model_override: emptyToNull(get("model_override")),
    session_id: str(get("session_id")),
    project_id: str(get("project_id")),
    provider_override: emptyToNull(get("provider_override")),
  };
}

/** A `tasks` row read as an object (better-sqlite3's default row shape). */
export function taskFromRow(r: Row): Task {
  return taskFrom(
    (c) => r[c],
    (c) => c in r,
  );
}

/** Column name → position, for rows read as arrays; a repeated name maps to its last position. */
export type ColumnIndex = Map<string, number>;

export function columnIndex(stmt: Database.Statement): ColumnIndex {
  return new Map(stmt.columns().map((c, i) => [c.name, i]));
}

/**
 * A `tasks` row read as an array (raw mode). better-sqlite3 spends about 13 µs building a
 * 38-property object per row and 8 µs on the whole raw read, so the hot reads (claims, completions,
 * board pages) take arrays and name the columns here.
 */
export function taskFromValues(columns: ColumnIndex, values: unknown[]): Task {
  return taskFrom(
    (c) => {
      const i = columns.get(c);
      return i === undefined ? undefined : values[i];
    },
    (c) => columns.has(c),
  );
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
  return {
    id: Number(r.id),
    task_id: String(r.task_id),
    author: String(r.author),
    body: String(r.body),
    created_at: Number(r.created_at),
  };
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
