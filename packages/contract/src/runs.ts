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
