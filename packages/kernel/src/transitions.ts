import { TASK_STATUSES, type TaskStatus } from "./constants.ts";

/**
 * The task state machine: for each verb that changes a task's status, the statuses it may start
 * from and the ones it may land in. Every status write goes through `transition()` (transition.ts),
 * which puts the verb's from-states into the UPDATE's WHERE clause: this table is the only place
 * they are written. Pinned by transitions.test.ts and shown in the README.
 */
const ANY: readonly TaskStatus[] = TASK_STATUSES;

export const TRANSITIONS = {
  /** A worker takes a ready task (claim.ts); the only way into `running`. */
  claim: { from: ["ready"], to: ["running"] },
  /** A reviewer takes a task handed off for review (review.ts claimReviewTask): a reviewer run. */
  claim_review: { from: ["review"], to: ["running"] },
  /** The reviewer's claim found a reopened parent: the card waits in todo (`dependency_wait`). */
  review_demote: { from: ["review"], to: ["todo"] },
  /** The claim's parent re-check found an unfinished parent: back to waiting. */
  claim_rejected: { from: ["ready"], to: ["todo"] },
  /** A new parent that is not finished demotes a ready child (graph.ts linkTasks). */
  link_demote: { from: ["ready"], to: ["todo"] },
  /** Recompute (parents done, breaker not tripped) or an operator's promote. */
  promote: { from: ["todo", "blocked"], to: ["ready", "review"] },
  /** A structured completion with its handoff (complete.ts). */
  complete: { from: ["running", "ready", "blocked", "review"], to: ["done"] },
  /**
   * A worker or person parks the task for human input (sticky). A typed block (Hermes B `kind`) waits
   * in `todo` for an unfinished parent (`dependency`), or goes to `triage` when the same kind recurs.
   */
  block: { from: ["running", "ready"], to: ["blocked", "todo", "triage"] },
  /** Parked until something external happens. */
  schedule: { from: ["todo", "ready", "running", "blocked"], to: ["scheduled"] },
  /** Back into the flow: `ready` (Hermes B: `review` when it left review) when the parents are done, else `todo`. */
  unblock: { from: ["blocked", "scheduled"], to: ["ready", "todo", "review"] },
  /**
   * Recovery requeues a running task (expired lease, crashed worker, max runtime, stale run) to the
   * phase its run was claimed from: `review` for a reviewer run (Hermes B), else `ready`.
   */
  requeue: { from: ["running"], to: ["ready", "review"] },
  /** The spawn failed below the breaker's limit: retry later (a reviewer run: in review). */
  spawn_failed: { from: ["running"], to: ["ready", "review"] },
  /** The breaker tripped: the task is blocked until a person unblocks it or the limit allows. */
  give_up: { from: ["running", "ready", "review"], to: ["blocked"] },
  /** An operator releases a claim at once (recovery.ts reclaimTask). */
  reclaim: { from: ["running", "ready", "blocked"], to: ["ready", "review"] },
  /** The implementer hands its work to a reviewer (review.ts, Hermes B `request_review`). */
  request_review: { from: ["running", "ready"], to: ["review"] },
  /** A reviewer run sends the work back to its implementer (`request_changes`): ready, or todo by the parent gate. */
  request_changes: { from: ["running"], to: ["ready", "todo"] },
  /**
   * A gated card's completion (gates.ts): it waits in review while its acceptance commands, reviewer
   * or person's approval are pending.
   */
  verify: { from: ["running", "ready", "blocked", "review"], to: ["review"] },
  /** An acceptance command failed: back to the implementer, ready or todo by the parent gate. */
  gate_failed: { from: ["review"], to: ["ready", "todo"] },
  /** A person takes a card out of review without a reviewer run (`reopen_review_task`, a drag). */
  reopen_review: { from: ["review"], to: ["ready", "todo"] },
  /**
   * A person cancels a task that has not finished (cancel.ts): it is parked, sticky, so a hung card is
   * not simply run again. A running task is reclaimed first (its run ends), then cancelled from ready.
   */
  cancel: { from: ["triage", "todo", "scheduled", "ready"], to: ["blocked"] },
  /** Archive from any live status (archive.ts). */
  archive: { from: ANY.filter((s) => s !== "archived"), to: ["archived"] },
  /** A direct status write (a drag with no structured verb behind it); never into `running`. */
  set_status: { from: ANY, to: ANY.filter((s) => s !== "running") },
} as const satisfies Record<string, { from: readonly TaskStatus[]; to: readonly TaskStatus[] }>;

export type TransitionVerb = keyof typeof TRANSITIONS;

/** Whether `verb` may move a task out of `status`. */
export function allowedFrom(verb: TransitionVerb, status: string): boolean {
  return (TRANSITIONS[verb].from as readonly string[]).includes(status);
}
