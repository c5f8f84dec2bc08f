import type { TaskStatus } from "./constants.ts";

/**
 * A task as the kernel returns it. Keys are Hermes' column names (snake_case) so that the same shape
 * travels unchanged from the database through the API to the CLI's `--json` output.
 */
export interface Task {
  id: string;
  title: string;
  body: string | null;
  assignee: string | null;
  status: TaskStatus | string;
  priority: number;
  created_by: string | null;
  created_at: number;
  started_at: number | null;
  completed_at: number | null;
  workspace_kind: string;
  workspace_path: string | null;
  branch_name: string | null;
  claim_lock: string | null;
  claim_expires: number | null;
  tenant: string | null;
  result: string | null;
  idempotency_key: string | null;
  consecutive_failures: number;
  worker_pid: number | null;
  last_failure_error: string | null;
  max_runtime_seconds: number | null;
  last_heartbeat_at: number | null;
  current_run_id: number | null;
  workflow_template_id: string | null;
  current_step_key: string | null;
  /** null = defaults only, [] = explicitly none. */
  skills: string[] | null;
  max_retries: number | null;
  model_override: string | null;
  session_id: string | null;
  /** Hermes' Projects link (read, never written here; Hermes' `show --json` prints it). */
  project_id: string | null;
  /** The worker's `--provider` beside model_override (read, never written here). */
  provider_override: string | null;
}

export interface TaskEvent {
  id: number;
  task_id: string;
  run_id: number | null;
  kind: string;
  payload: Record<string, unknown> | null;
  created_at: number;
}

export interface TaskComment {
  id: number;
  task_id: string;
  author: string;
  body: string;
  created_at: number;
}

export interface TaskRun {
  id: number;
  task_id: string;
  profile: string | null;
  step_key: string | null;
  status: string;
  claim_lock: string | null;
  claim_expires: number | null;
  worker_pid: number | null;
  max_runtime_seconds: number | null;
  last_heartbeat_at: number | null;
  started_at: number;
  ended_at: number | null;
  outcome: string | null;
  summary: string | null;
  metadata: Record<string, unknown> | null;
  error: string | null;
}

/**
 * A task's `warnings` everywhere (board cards, tasks.get/list, claim/complete/reclaim results): the
 * summary of its diagnostics, null when it has none (`summariseDiagnostics`).
 */
export interface TaskWarnings {
  /** How many diagnostics. */
  count: number;
  /** Diagnostic kind (`hallucinated_cards`, `stranded_in_ready`, …) → how many. */
  kinds: Record<string, number>;
  latest_at: number;
  highest_severity: "warning" | "error" | "critical";
}
