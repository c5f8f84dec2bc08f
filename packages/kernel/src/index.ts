export type { EventStreamFilter } from "./activity.ts";
export type { PreviousRun } from "./previous-run.ts";
export type { EndedRun, StoppedTree, Termination } from "./termination.ts";
export { Board, type ClaimForHostInput, type OpenBoardOptions, openBoard, type TaskView } from "./board.ts";
export {
  type HostHeartbeatInput,
  type HostHelloInput,
  type HostRunsAnswer,
  type HostView,
  isHostLock,
  type RevokedRun,
} from "./hosts.ts";
export { LABEL_RE, MAX_REQUIRES, missingLabels, normaliseRequires } from "./labels.ts";
export { BLOCK_RECURRENCE_LIMIT, type ParkOptions, type ParkResult } from "./block.ts";
export type { RequestReviewInput, ReviewResult } from "./review.ts";
export {
  BOARD_GATE_KEY,
  GATE_LIMITS,
  GATE_SCOPES,
  type GateCommand,
  type GateScope,
  type GateSpec,
  type GateView,
  parseGateSpec,
  type VerificationStage,
} from "./gates.ts";
export type { ChangeEvidence, CommandResult, CommandRound } from "./gate-commands.ts";
export type { CardGates, EvidenceItem, EvidenceRound } from "./gate-evidence.ts";
export { REVIEW_APPROVAL_SUMMARY } from "./complete.ts";
export type { CancelOptions, CancelResult } from "./cancel.ts";
export { LATE_REPORT_TEXT_MAX, type TerminalVerb } from "./late-report.ts";
export { OUTPUT_TAIL_MAX, type RemoteExit, type RemoteExitResult } from "./remote-exit.ts";
export { type OpenPgBoardOptions, openPgBoard, pgBoard } from "./open-pg-board.ts";
export { type BoardScope, ScopedBoard, scopeBoard } from "./scoped-board.ts";
export { type BulkChange, type BulkRow, bulkUpdate } from "./bulk.ts";
export {
  type ChildResult,
  DETAIL_EVENTS,
  type LinkedTask,
  type TaskDetail,
  type TaskDetailOptions,
} from "./task-detail.ts";
export type { FailureInput } from "./breaker.ts";
export {
  type ClassifiedRun,
  exitCodeClass,
  FAILURE_CLASSES,
  type FailureClass,
  failureClassOf,
  isTransientFailureText,
  UNCOUNTED_FAILURE_CLASSES,
} from "./failure-class.ts";
export type { ClaimOptions } from "./claim.ts";
export {
  type ClaimNextResult,
  type LaneClaim,
  type LaneHold,
  type LaneSkip,
  ReadyLane,
  type ReadyLaneFilter,
} from "./claim-next.ts";
export type { RunningWorkerRow } from "./store/sqlite/ready-lane.ts";
export { type Clock, nowSeconds, systemClock } from "./clock.ts";
export type { CompleteInput, CompleteResult } from "./complete.ts";
export * from "./constants.ts";
export type { PidProbe } from "./context.ts";
export {
  canonicalAssignee,
  type CreateTaskInput,
  KNOWN_TOOLSETS,
  normaliseSkills,
  parseWorkspaceSpec,
} from "./create.ts";
export type { MoveInput } from "./edit.ts";
export * from "./errors.ts";
export type { Fence } from "./fencing.ts";
export { type IdSource, randomIds } from "./ids.ts";
export { LIST_ORDER_NAMES, type ListOrder, type ListTasksFilter } from "./list.ts";
export { CHAT_TYPES, DELIVERY_MODES, type NotifySub, type NotifySubInput, type NotifySubKey } from "./notify.ts";
export {
  DELIVERY_LOG_MAX_LIMIT,
  DELIVERY_LOG_RETENTION_SECONDS,
  DELIVERY_OUTCOMES,
  type DeliveryAttempt,
  type DeliveryOutcome,
  type DeliveryQuery,
  type FailureStreak,
  type NotifyDelivery,
} from "./notify-deliveries.ts";
export {
  DEFAULT_INCIDENT_POLICY,
  type IncidentPolicy,
  type IncidentScope,
  type IncidentView,
} from "./incidents.ts";
export { NOTIFY_RULE_SCOPES, type NotifyRule, type NotifyRuleInput, type NotifyRuleScope } from "./notify-rules.ts";
export {
  costFromPrice,
  formatMicroUsd,
  type ModelPrice,
  type PriceTable,
  priceFor,
  type UsageGroup,
  type UsageGroupBy,
  type UsageInput,
  type UsageRow,
  type UsageSummary,
  type UsageSummaryQuery,
  usdToMicro,
} from "./usage.ts";
export {
  type AllowBudgetInput,
  BUDGET_SCOPES,
  type BudgetHold,
  type BudgetScope,
  type BudgetView,
  budgetLabel,
  type SetBudgetInput,
} from "./budgets.ts";
export { type SavedView, VIEW_NAME_MAX, type ViewQuery } from "./views.ts";
export type { ExitCodes, ExitStatus, MaxRuntimeOptions, RecoveryOptions } from "./recovery.ts";
export { type AutoReviveConfig, DEFAULT_AUTO_REVIVE, type ReviveVerdict } from "./auto-revive.ts";
export type { RespawnGuardReason } from "./respawn-guard.ts";
export {
  type CardMotion,
  explainMotion,
  explainMotions,
  type HostFacts,
  type HostHold,
  holdMotion,
  laneSkipMotion,
  LEASE_WARNING_SECONDS,
  MOTION_CODES,
  type Motion,
  type MotionCode,
  type MotionHost,
  type MotionScope,
  QUIET_HEARTBEAT_SECONDS,
  type ReadyHold,
  type WorkerFootprint,
} from "./motion/index.ts";
export * from "./types.ts";
export {
  type BoardDiagnosticsOptions,
  DEFAULT_BLOCKED_STALE_SECONDS,
  DEFAULT_CRASH_THRESHOLD,
  DEFAULT_STRANDED_THRESHOLD_SECONDS,
  type Diagnostic,
  type DiagnosticAction,
  DIAGNOSTIC_EVENT_KINDS,
  type DiagnosticKind,
  SEVERITIES,
  SEVERITY_RANK,
  type Severity,
  type TaskDiagnostics,
} from "./diagnostics.ts";
export { type BoardStats, DEFAULT_EVENT_RETENTION_SECONDS, type KnownAssignee, type TaskAge } from "./stats.ts";
export {
  DEFAULT_FLOW_WINDOW_SECONDS,
  type FlowOptions,
  type FlowStats,
  MAX_FLOW_WINDOW_SECONDS,
  type Percentiles,
} from "./flow.ts";
export { FLOW_BLOCKED_MAX, type FlowBlockedCard } from "./flow-blocked.ts";
export { WORKER_CONTEXT_LIMITS } from "./worker-context.ts";
export type { WorkspaceRules } from "./workspace-rules.ts";
export { STORED_JSON_LIMITS, UNREADABLE_JSON_KEY } from "./stored-json.ts";
export {
  ATTENTION_LIMIT,
  type AttentionRow,
  type BoardCard,
  type BoardColumn,
  type BoardFilter,
  type BoardView,
  type BoardViewOptions,
  CARD_SUMMARY_CHARS,
  type ColumnPageOptions,
  type CardExtras,
  COLUMN_NAMES,
  DEFAULT_COLUMN_LIMIT,
  DEFAULT_DONE_LIMIT,
  type DecorateOptions,
  PAGED_COLUMNS,
} from "./store/sqlite/board-reads.ts";
export {
  type BoardDelta,
  type BoardDeltaOptions,
  type DeltaCard,
  MAX_DELTA_IDS,
} from "./store/sqlite/board-delta.ts";
export { TASK_PAGE, type TaskPage } from "./store/sqlite/task-pages.ts";
export type { DiagnosticsPolicy } from "./warnings.ts";
export type { ActiveWorker } from "./store/sqlite/workers.ts";
export type { LinkedTaskRow } from "./store/sqlite/links.ts";
export type { LiveEventRow } from "./store/sqlite/live-events.ts";
export * from "./coordination/index.ts";
