/** Outcomes a closed run can have (spec §1.6), including the two only Hermes' review flow writes. */
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
  "review_requested",
  "changes_requested",
] as const;
export type RunOutcome = (typeof RUN_OUTCOMES)[number];
