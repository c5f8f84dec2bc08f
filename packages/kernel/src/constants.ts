/** Every status a task can have (spec §1.5). */
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

/** Board columns, left to right, as the dashboard shows them. */
export const BOARD_COLUMNS = ["triage", "todo", "scheduled", "ready", "running", "blocked", "review", "done"] as const;

export const WORKSPACE_KINDS = ["scratch", "worktree", "dir"] as const;
export type WorkspaceKind = (typeof WORKSPACE_KINDS)[number];

/** Outcomes a closed run can have (spec §1.6). */
export const RUN_OUTCOMES = [
  "completed",
  "blocked",
  "crashed",
  "timed_out",
  "spawn_failed",
  "gave_up",
  "reclaimed",
  "stale",
  "rate_limited",
  "scheduled",
] as const;
export type RunOutcome = (typeof RUN_OUTCOMES)[number];

/** Lease length of a claim when none is given (Hermes' DEFAULT_CLAIM_TTL_SECONDS). */
export const DEFAULT_CLAIM_TTL_SECONDS = 900;
/** A worker younger than this is never declared crashed (its pid may not be recorded yet). */
export const DEFAULT_CRASH_GRACE_SECONDS = 30;
/** Consecutive failures that trip the circuit breaker when neither task nor dispatcher says otherwise. */
export const DEFAULT_FAILURE_LIMIT = 2;
/** A running task with no heartbeat for this long is considered heartbeat-stale. */
export const STALE_HEARTBEAT_GAP_SECONDS = 3600;
/** Event kinds that mark a hallucination warning on a task (spec §1.7). */
export const HALLUCINATION_EVENT_KINDS = [
  "completion_blocked_hallucination",
  "suspected_hallucinated_references",
] as const;
/** Prose scan for task ids: 8+ hex so legacy 4-hex ids are never flagged. */
export const TASK_ID_REFERENCE_RE = /\bt_[a-f0-9]{8,}\b/g;
