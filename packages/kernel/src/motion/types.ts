/**
 * Why a card is (not) moving: one answer for `kanban why`, the MCP tool, `tasks.why`, the board's
 * cards and the dispatcher's own skip reasons (see explain.ts and holds.ts).
 */

/** Stable codes: clients key on them; the wording of `line` may improve. */
export const MOTION_CODES = [
  "waiting_on_parents",
  "in_todo",
  "in_triage",
  "in_review",
  "unassigned",
  "not_runnable_profile",
  "profile_cap_full",
  "host_cap_full",
  "memory_floor",
  "no_host_for_labels",
  "respawn_guard",
  "incident_paused",
  "budget_held",
  "breaker_tripped",
  "blocked",
  "scheduled",
  "claimed_not_spawned",
  "running_healthy",
  "running_quiet",
  "running_stale",
  "running_orphaned",
  "lease_expiring",
  "no_dispatcher",
  "ready_waiting_for_tick",
  "done",
  "archived",
  "unknown_status",
] as const;
export type MotionCode = (typeof MOTION_CODES)[number];

export interface Motion {
  /** True only while it progresses on its own: a healthy running worker, or a ready task the next tick takes. */
  moving: boolean;
  code: MotionCode;
  /** One readable sentence. */
  line: string;
  /** The next action (a person's or the system's), one sentence, often a command. */
  next: string;
  /** The facts behind the line (ids, counts, times in unix seconds), for UIs and scripts. */
  detail: Record<string, unknown>;
}

/** What a board card carries: the code and line of a card that is not moving (null when it moves or is finished). */
export type CardMotion = { code: MotionCode; line: string } | null;

/** A task the dispatcher held back at its last tick for a reason only the host knows. */
export interface HostHold {
  task_id: string;
  code: "memory_floor" | "host_cap" | "profile_cap";
  detail?: Record<string, unknown>;
}

/** One worker's sampled footprint (the dispatcher's status, when it samples). */
export interface WorkerFootprint {
  run_id: number | null;
  task_id: string;
  /** How many processes the run's tree has (a count, as the dispatcher's status publishes it). */
  pids?: number;
  rss_bytes?: number;
  cpu_percent?: number;
  sampled_at?: number;
}

/**
 * What only the host and its dispatcher know; every field is optional and an absent one is not
 * judged (the motion says less rather than guessing).
 */
export interface HostFacts {
  /** Profiles a worker can be started for here; null/undefined = unknown (not judged). */
  knownProfiles?: readonly string[] | null;
  /** config's `default_assignee`: an unassigned ready task gets it when it is a known profile. */
  defaultAssignee?: string | null;
  /** config's `max_in_progress_per_profile` (null = no cap). */
  maxInProgressPerProfile?: number | null;
  /** Whether any dispatcher serves the board (null/undefined = unknown). */
  dispatcher?: { alive: boolean; interval_seconds?: number | null; last_tick_at?: number | null } | null;
  /** The dispatcher's holds from its last tick. */
  holds?: readonly HostHold[] | null;
  /** The host-wide worker cap and how many run now. */
  hostCap?: { max: number | null; running: number } | null;
  footprints?: readonly WorkerFootprint[] | null;
  /**
   * The board's remote hosts (`Board.listHosts`): who could take a task that requires labels.
   * Absent: the motion reads them from the board itself. A host with a tenant serves only that tenant.
   */
  hosts?: readonly MotionHost[] | null;
  /**
   * Labels the local dispatcher offers (its config, reported in its status). Absent: none, as a
   * plain local dispatcher never takes a task that requires a label.
   */
  localLabels?: readonly string[] | null;
  /**
   * The dispatcher's auto-revive settings (`kanban.auto_revive_cooldowns_seconds`, `kanban.auto_revive_max`).
   * Absent: the defaults (10 min, 30 min, 2 h; 3 revives), which is what a dispatcher without them does.
   */
  autoRevive?: { cooldowns?: readonly number[]; max?: number } | null;
  /** Liveness of a host-local worker pid; default: the board's injected probe. */
  isPidAlive?: ((pid: number) => boolean) | null;
}

/** A remote host as the motion judges it: what it offers, and whether it is heard from. */
export interface MotionHost {
  labels: readonly string[];
  connected: boolean;
  tenant?: string | null;
}

/** How a read is scoped: a tenant's motion names no task of another tenant. */
export interface MotionScope {
  tenant?: string | null;
}
