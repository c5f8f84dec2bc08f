// The vocabulary shared with the API, the board, the CLI and Hermes' file lives in @kanban/contract.
export {
  BOARD_COLUMNS,
  type BoardColumnName,
  EVENT_KINDS,
  type EventKind,
  HALLUCINATION_EVENT_KINDS,
  isEventKind,
  isTaskStatus,
  LEGACY_EVENT_KINDS,
  RUN_OUTCOMES,
  type RunOutcome,
  TASK_STATUSES,
  type TaskStatus,
  TITLE_MAX,
  WORKSPACE_KINDS,
  type WorkspaceKind,
} from "@kanban/contract";

/** Lease length of a claim when none is given (Hermes' DEFAULT_CLAIM_TTL_SECONDS). */
export const DEFAULT_CLAIM_TTL_SECONDS = 900;
/** A worker younger than this is never declared crashed (its pid may not be recorded yet). */
export const DEFAULT_CRASH_GRACE_SECONDS = 30;
/** Consecutive failures that trip the circuit breaker when neither task nor dispatcher says otherwise. */
export const DEFAULT_FAILURE_LIMIT = 2;
/** A running task with no heartbeat for this long is considered heartbeat-stale. */
export const STALE_HEARTBEAT_GAP_SECONDS = 3600;
/** Prose scan for task ids: 8+ hex so legacy 4-hex ids are never flagged. */
export const TASK_ID_REFERENCE_RE = /\bt_[a-f0-9]{8,}\b/g;
