import {
  BLOCKER_AUTH_HOLD_SECONDS,
  RATE_LIMIT_COOLDOWN_JITTER,
  RATE_LIMIT_COOLDOWN_SECONDS,
  TRANSIENT_COOLDOWN_BASE_SECONDS,
  TRANSIENT_COOLDOWN_MAX_SECONDS,
} from "./constants.ts";
import type { BoardContext } from "./context.ts";
import { failureClassOf } from "./failure-class.ts";
import { parseJsonObject } from "./rows.ts";
import {
  commentsSince,
  handoffsSince,
  type RespawnFactsRow,
  reopenedSince,
  respawnFactsOf,
} from "./store/sqlite/respawn-reads.ts";
import { runById } from "./store/sqlite/run-reads.ts";

/**
 * Reasons the dispatcher holds a ready task back instead of spawning it again (spec §2.12): its
 * last spawn was refused for host reasons (`infrastructure`, [B] rule 1) or its last run was rate
 * limited (exit 75), and the cooldown is not over ([B]); its last failure reads
 * like an auth/quota problem that another attempt will not fix; it completed within the hour and
 * nothing reopened it since (a duplicate run would redo finished work); or a comment in the last
 * day links a GitHub pull request that is still under way. A held task stays `ready`; the
 * dispatcher records a `respawn_guarded` event. Every hold ends by itself at `until`.
 * Issue 17 adds two: a last run that failed `transient`ly (a provider 5xx, a network failure, exit
 * 69) cools down for a time that doubles with each transient run in a row (`transient_cooldown`),
 * and a run that ended in a mass timeout or crash of one tick waits out its own share of a spread
 * (`respawn_jitter`), so the cards do not all respawn into the same wall at the next tick.
 */
export type RespawnGuardReason =
  | "infrastructure_cooldown"
  | "rate_limit_cooldown"
  | "transient_cooldown"
  | "respawn_jitter"
  | "blocker_auth"
  | "recent_success"
  | "active_pr";

const AUTH_OR_QUOTA =
  /\b(quota|rate[\s_-]?limit(ed|s)?|429|403|auth|authenticat(e|es|ed|ing|ion)|authori[sz]\w*|authz|unauthori[sz]ed|forbidden|billing|subscription|access denied|permission denied|invalid api key)\b/i;
const PR_LINK = /https?:\/\/github\.com\/[^/\s]+\/[^/\s]+\/pull\/\d+/i;
const RECENT_SUCCESS_SECONDS = 3600;
const ACTIVE_PR_SECONDS = 86_400;

/**
 * A guard that holds a task, and until when. Every rule sets `until` (Hermes #115305: a hold with
 * no end parks a task in `ready` forever); null stays in the type for readers of older answers.
 */
export interface RespawnHold {
  reason: RespawnGuardReason;
  until: number | null;
}

/** The task's newest ended run, as the cooldown and expiry rules read it. */
export interface ClosedRunFact {
  outcome: string | null;
  ended_at: number;
  /** The run was a spawn refused for host reasons (its metadata says `infrastructure`). */
  infrastructure?: boolean;
  /** The run failed transiently: how many transient runs in a row it ends (1 for the first). */
  transient_streak?: number | null;
  /** The run ended in a mass failure of one tick and waits this long after its end before a respawn. */
  respawn_jitter_seconds?: number | null;
}

/**
 * The guard's view of a closed run's metadata (shared by the single-task read and the board-wide
 * one in latest-runs.ts, so the dispatcher's lane and `kanban why` read the same facts).
 */
export function closedRunFact(run: {
  outcome: string | null;
  ended_at: number;
  error?: string | null;
  metadata?: Record<string, unknown> | null;
}): ClosedRunFact {
  const m = run.metadata ?? null;
  const transient = failureClassOf(run) === "transient";
  const streak = typeof m?.transient_streak === "number" && m.transient_streak >= 1 ? m.transient_streak : 1;
  const jitter = typeof m?.respawn_jitter_seconds === "number" ? m.respawn_jitter_seconds : null;
  return {
    outcome: run.outcome,
    ended_at: run.ended_at,
    infrastructure: isInfrastructureRefusal(run),
    transient_streak: transient ? streak : null,
    respawn_jitter_seconds: jitter !== null && jitter > 0 ? jitter : null,
  };
}

/** Whether a closed run is an infrastructure spawn refusal (a `spawn_failed` run whose metadata says so). */
export function isInfrastructureRefusal(run: {
  outcome: string | null;
  metadata?: Record<string, unknown> | null;
}): boolean {
  return run.outcome === "spawn_failed" && run.metadata?.infrastructure === true;
}

/** What the guard's rules read about one task (respawnGuard reads it for one task, the motion reads for many). */
export interface RespawnGuardFacts {
  task_id: string;
  /** When the task was created or last started: the failure time of last resort for blocker_auth's expiry. */
  fallback_failure_at: number;
  /** The newest ended run, or null when none ended. */
  latest_run: ClosedRunFact | null;
  last_failure_error: string | null;
  /** The newest completed run's end, or null. */
  succeeded_at: number | null;
  /** Reopening events (status, promoted, unblocked, reclaimed) at or after `succeeded_at`. */
  reopened_after_success: boolean;
  /** The task's comments of the last day, newest first. */
  recent_comments: readonly { body: string; created_at: number }[];
  /** Hand-off events (assigned, changes_requested, review_reopened) of the last day, any order. */
  handoffs: readonly { kind: string; payload: string | null; created_at: number }[];
}

/** The oldest comment the active-PR rule reads (and so the oldest hand-off that can lift it). */
export function respawnGuardWindowStart(now: number): number {
  return now - ACTIVE_PR_SECONDS;
}

/**
 * The rate-limit cooldown of one task: {@link RATE_LIMIT_COOLDOWN_SECONDS} moved by up to
 * {@link RATE_LIMIT_COOLDOWN_JITTER} either way, derived from the task id alone (FNV-1a), so that
 * tasks limited in the same burst come back spread out, and the dispatcher's lane and the motion
 * (`kanban why`) compute the same end without storing it.
 */
export function rateLimitCooldownSeconds(taskId: string): number {
  return Math.round(RATE_LIMIT_COOLDOWN_SECONDS * (1 + RATE_LIMIT_COOLDOWN_JITTER * jitterUnit(taskId)));
}

/** A number in [-1, 1] derived from `key` alone (FNV-1a): the same key always moves a cooldown the same way. */
export function jitterUnit(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return (h / 0xffffffff) * 2 - 1;
}

/**
 * The transient cooldown of one task after `streak` transient runs in a row:
 * {@link TRANSIENT_COOLDOWN_BASE_SECONDS} doubled per further run, capped at
 * {@link TRANSIENT_COOLDOWN_MAX_SECONDS}, then moved by the task's own jitter (as the rate limit's),
 * so a provider outage does not bring every card back in the same second.
 */
export function transientCooldownSeconds(taskId: string, streak: number): number {
  const doublings = Math.min(Math.max(0, Math.floor(streak) - 1), 20);
  const base = Math.min(TRANSIENT_COOLDOWN_MAX_SECONDS, TRANSIENT_COOLDOWN_BASE_SECONDS * 2 ** doublings);
  return Math.round(base * (1 + RATE_LIMIT_COOLDOWN_JITTER * jitterUnit(taskId)));
}

/**
 * When a `blocker_auth` hold ends: {@link BLOCKER_AUTH_HOLD_SECONDS} after the failure that set it.
 * The failure's time is the end of the task's newest ended run (every counted failure of a worker
 * closes one); a failure booked without any run ending (a direct breaker call) falls back to the
 * task's last start or creation, which may end the hold sooner but never leaves it without an end.
 */
function blockerAuthUntil(f: RespawnGuardFacts): number {
  return (f.latest_run?.ended_at ?? f.fallback_failure_at) + BLOCKER_AUTH_HOLD_SECONDS;
}

/** The guard's rules over facts already read: the one decision for the dispatcher's lane and the motion. */
export function judgeRespawnGuard(f: RespawnGuardFacts, now: number): RespawnHold | null {
  // [B] rule 1: a spawn the host refused (program missing here, fork or disk failure) cools down
  // like a rate limit, with the same per-task jitter; nothing was counted, so this is the only pacing.
  const infrastructure = f.latest_run?.infrastructure === true;
  if (infrastructure && f.latest_run !== null) {
    const until = f.latest_run.ended_at + rateLimitCooldownSeconds(f.task_id);
    if (now < until) return { reason: "infrastructure_cooldown", until };
  }
  // [B] A rate-limited last run: held for its cooldown; after it, allowed, and the auth/quota rule
  // is skipped on purpose (its stamped error mentions the rate limit, which must not hold it on).
  const rateLimited = f.latest_run?.outcome === "rate_limited";
  if (rateLimited && f.latest_run !== null) {
    const until = f.latest_run.ended_at + rateLimitCooldownSeconds(f.task_id);
    if (now < until) return { reason: "rate_limit_cooldown", until };
  }
  // A transient last run (provider 5xx, network): a cooldown growing with the streak. After it the
  // task is allowed, and the auth/quota rule is skipped as after a rate limit: a gateway's error
  // page that mentions "authentication" is still the provider's outage.
  const streak = f.latest_run?.transient_streak ?? null;
  const transient = streak !== null;
  if (transient && f.latest_run !== null) {
    const until = f.latest_run.ended_at + transientCooldownSeconds(f.task_id, streak);
    if (now < until) return { reason: "transient_cooldown", until };
  }
  // A mass failure in one tick: this run's share of the spread, so the cards respawn apart.
  const jitter = f.latest_run?.respawn_jitter_seconds ?? null;
  if (jitter !== null && f.latest_run !== null) {
    const until = f.latest_run.ended_at + jitter;
    if (now < until) return { reason: "respawn_jitter", until };
  }
  // Skipped after an infrastructure refusal too: "permission denied" (EACCES on the program) is the
  // host's, not the profile's credentials, and must not hold the task for hours after its cooldown.
  if (
    !rateLimited &&
    !infrastructure &&
    !transient &&
    f.last_failure_error &&
    AUTH_OR_QUOTA.test(f.last_failure_error)
  ) {
    const until = blockerAuthUntil(f);
    if (now < until) return { reason: "blocker_auth", until };
  }
  if (f.succeeded_at !== null && now - f.succeeded_at <= RECENT_SUCCESS_SECONDS && !f.reopened_after_success)
    return { reason: "recent_success", until: f.succeeded_at + RECENT_SUCCESS_SECONDS };
  const pr = f.recent_comments.find((c) => c.created_at >= now - ACTIVE_PR_SECONDS && PR_LINK.test(c.body));
  if (pr) {
    // A hand-off after the link (a different assignee, a review verdict) lifts the guard.
    const lifted = f.handoffs.some((e) => {
      if (e.created_at < pr.created_at) return false;
      if (e.kind !== "assigned") return true;
      const p = parseJsonObject(e.payload) ?? {};
      return p.from !== undefined && p.from !== p.assignee;
    });
    if (!lifted) return { reason: "active_pr", until: pr.created_at + ACTIVE_PR_SECONDS };
  }
  return null;
}

/**
 * Why the guard holds `id` back now, and until when (null = it may be spawned). `known` are the
 * task's facts when the caller read them already (a claim walk's row lock on PostgreSQL), with a
 * comment window that started no later than this call's.
 */
export async function respawnHold(
  ctx: BoardContext,
  id: string,
  known: RespawnFactsRow | null = null,
): Promise<RespawnHold | null> {
  const now = ctx.now();
  const windowStart = respawnGuardWindowStart(now);
  // One statement for the common case (a task with no ended run, no success and no recent comment);
  // the rest is read only when there is something to read.
  const facts = known ?? (await respawnFactsOf(ctx, id, windowStart));
  if (!facts) return null;
  const latest = facts.latest_run_id === null ? null : await runById(ctx, facts.latest_run_id);
  const base = {
    task_id: id,
    fallback_failure_at: facts.started_at ?? facts.created_at,
    latest_run: latest?.ended_at != null ? closedRunFact({ ...latest, ended_at: latest.ended_at }) : null,
    last_failure_error: facts.last_failure_error,
    recent_comments: [],
    handoffs: [],
  };
  const early = judgeRespawnGuard({ ...base, succeeded_at: null, reopened_after_success: false }, now);
  if (early) return early;
  const succeededAt = facts.succeeded_at;
  const recent = succeededAt !== null && now - succeededAt <= RECENT_SUCCESS_SECONDS;
  const reopened = recent ? await reopenedSince(ctx, id, succeededAt) : false;
  const success = judgeRespawnGuard({ ...base, succeeded_at: succeededAt, reopened_after_success: reopened }, now);
  if (success) return success;
  const comments = facts.comments > 0 ? await commentsSince(ctx, id, windowStart) : [];
  const pr = comments.find((c) => PR_LINK.test(c.body));
  const handoffs = pr ? await handoffsSince(ctx, id, pr.created_at) : [];
  return judgeRespawnGuard(
    { ...base, succeeded_at: null, reopened_after_success: false, recent_comments: comments, handoffs },
    now,
  );
}

export async function respawnGuard(ctx: BoardContext, id: string): Promise<RespawnGuardReason | null> {
  return (await respawnHold(ctx, id))?.reason ?? null;
}
