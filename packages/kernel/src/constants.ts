// The vocabulary shared with the API, the board, the CLI and Hermes' file lives in @kanban/contract.
export {
  BLOCK_KINDS,
  BOARD_COLUMNS,
  type BlockKind,
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

/**
 * Event kinds after which a task is (again) in the ready lane, or waiting to be: the newest one
 * starts its wait (flow's ready-queue age, diagnostics' stranded clock). A `status` event counts too
 * when it moved the task to ready; each reader decides how it checks that.
 */
export const READY_ENTRY_KINDS = [
  "created",
  "promoted",
  "promoted_manual",
  "unblocked",
  "reclaimed",
  "crashed",
  "timed_out",
  "stale",
  "rate_limited",
  "spawn_failed",
  "reconciled",
  "changes_requested",
  "review_reopened",
  "auto_revived",
] as const;

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

/**
 * The exit code a worker uses to say "rate limited, try me again later" (EX_TEMPFAIL from
 * sysexits.h, as Hermes B): the task is requeued without counting a failure and the respawn guard
 * cools it down, so a provider's rate limit never trips the breaker.
 */
export const RATE_LIMIT_EXIT_CODE = 75;
/** How long the respawn guard holds a rate-limited task before its next attempt (before jitter). */
export const RATE_LIMIT_COOLDOWN_SECONDS = 300;
/** Up to this share of the cooldown is added or taken away per task, so a burst does not retry in step. */
export const RATE_LIMIT_COOLDOWN_JITTER = 0.2;
/** Exits of 0 without settling the task in a row (a violation-only streak) that trip the breaker. */
export const PROTOCOL_VIOLATION_STREAK_LIMIT = 3;
/** How much of a worker's last output a `protocol_violation` event keeps (its end). */
export const WORKER_OUTPUT_MAX = 2000;
/**
 * How long a `blocker_auth` hold lasts after the failure that set it: long enough that a profile
 * without credentials does not burn its budget every tick, short enough that a fixed quota or a
 * renewed key is picked up the same day without a person (Hermes #115305: a hold with no end).
 */
export const BLOCKER_AUTH_HOLD_SECONDS = 6 * 3600;

/**
 * The exit code a worker uses to say "the provider or the network failed, not me" (EX_UNAVAILABLE
 * from sysexits.h): booked as a `transient` crash (outcome `crashed`, `failure_class: "transient"`
 * in the run's metadata), never counted towards the breaker, and cooled down by the respawn guard
 * (`transient_cooldown`). A crash whose error or last output reads like a provider 5xx or a network
 * failure is booked the same way (failure-class.ts).
 */
export const TRANSIENT_EXIT_CODE = 69;
/** The first transient cooldown; each further transient run in a row doubles it, up to the max. */
export const TRANSIENT_COOLDOWN_BASE_SECONDS = 60;
/** The longest transient cooldown (before jitter). */
export const TRANSIENT_COOLDOWN_MAX_SECONDS = 900;
/**
 * Transient runs in a row that are never counted (about 1 h 45 min of cooldowns); each further one
 * is counted, so a card whose own output keeps naming a network error cannot retry for ever.
 */
export const TRANSIENT_STREAK_UNCOUNTED = 10;
/** Cooldowns before each automatic revive of a card the breaker blocked for a transient-ish cause (the last repeats). */
export const DEFAULT_AUTO_REVIVE_COOLDOWNS_SECONDS: readonly number[] = [600, 1800, 7200];
/** How many times a breaker-blocked card is revived automatically before it stays blocked (0 disables). */
export const DEFAULT_AUTO_REVIVE_MAX = 3;
/** The widest respawn spread after a mass failure in one tick (`respawn_jitter`). */
export const RESPAWN_JITTER_MAX_SECONDS = 60;
/** How long a run may go when neither its task nor its profile sets `max_runtime` (0 disables). */
export const DEFAULT_MAX_RUNTIME_SECONDS = 14_400;
