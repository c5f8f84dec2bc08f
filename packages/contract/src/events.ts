/**
 * Every kind a `task_events` row may carry on a Hermes-compatible board (spec §1.7): what this
 * implementation writes and what Hermes writes to the same file, so a reader can name each one.
 */
export const EVENT_KINDS = [
  // lifecycle and edits
  "created",
  "blocked",
  "dependency_wait",
  "block_loop_detected",
  "unblocked",
  "promoted",
  "promoted_manual",
  "claimed",
  "claim_rejected",
  "completed",
  "completion_blocked_hallucination",
  "suspected_hallucinated_references",
  "edited",
  "assigned",
  "reprioritized",
  "status",
  "archived",
  // a hard delete (any status): the only row the task leaves behind, so that open boards and live
  // streams in other processes learn that it is gone; payload {tenant, linked: same-tenant neighbours}
  "deleted",
  "archive_worker_termination",
  "scheduled",
  "specified",
  "decomposed",
  "linked",
  "unlinked",
  "commented",
  "attached",
  "attachment_removed",
  "model_override_set",
  "reasoning_effort_set",
  "review_requested",
  "changes_requested",
  "review_reopened",
  "descendant_invalidated",
  "recipe_instantiated",
  "pr_acceptance",
  "existing_pr_authorized",
  "existing_pr_authorization_consumed",
  // worker telemetry and the dispatcher
  "spawned",
  "worker_registered",
  "heartbeat",
  "claim_extended",
  "reclaim_deferred",
  "reclaimed",
  "crashed",
  "protocol_violation",
  "rate_limited",
  "timed_out",
  "stale",
  "reconciled",
  "spawn_failed",
  "gave_up",
  "respawn_guarded",
  // incident folding (issue 17): an outage of one profile or host opened, absorbed this card's run, closed
  "incident_opened",
  "incident_folded",
  "incident_closed",
  // a card the breaker blocked for a transient-ish cause, put back in play after a cooldown (issue 17)
  "auto_revived",
  // the last automatic revive of a card was used up: it stays blocked for a person
  "auto_revive_exhausted",
  "skipped_nonspawnable",
  "tip_scratch_workspace",
  "workspace_discarded_content",
  "terminal_worker_reaped",
  // a fenced terminal call (complete/block) of a run that was no longer current: refused, and recorded
  "late_report",
  "notification",
  // the notifier gave up on a subscription after repeated failed deliveries (issue 17)
  "notify_dropped",
  // a budget that counts this card's spend reached its warning share (issue 21), once per budget and period
  "budget_warning",
  // completion gates (issue 20): a card's gates were set or cleared; a completion started a round of
  // them (the card waits in review); a gate passed; the acceptance commands failed (back to the
  // implementer); the card's other gates passed and it waits for a person's approval
  "gates_set",
  "verification_started",
  "gate_passed",
  "gate_failed",
  "approval_requested",
] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

/**
 * Old names still found in boards written by earlier Hermes versions, and the kind the database
 * upgrade renames each to (spec §1.7, §1.8 step 9).
 */
export const LEGACY_EVENT_KINDS = {
  ready: "promoted",
  priority: "reprioritized",
  spawn_auto_blocked: "gave_up",
} as const satisfies Record<string, EventKind>;

/** Events that mark a hallucination warning on a task (spec §1.7): the board badges them. */
export const HALLUCINATION_EVENT_KINDS = [
  "completion_blocked_hallucination",
  "suspected_hallucinated_references",
] as const satisfies readonly EventKind[];

export function isEventKind(value: string): value is EventKind {
  return (EVENT_KINDS as readonly string[]).includes(value);
}
