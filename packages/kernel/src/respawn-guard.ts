import type { BoardContext } from "./context.ts";
import { parseJsonObject } from "./rows.ts";
import { commentsSince, handoffsSince, reopenedSince } from "./store/sqlite/respawn-reads.ts";
import { lastCompletedAt } from "./store/sqlite/runs.ts";
import { getTask } from "./store/sqlite/tasks.ts";

/**
 * Reasons the dispatcher holds a ready task back instead of spawning it again (spec §2.12, the
 * May-2026 rules): its last failure reads like an auth/quota problem that another attempt will not
 * fix; it completed within the hour and nothing reopened it since (a duplicate run would redo
 * finished work); or a comment in the last day links a GitHub pull request that is still under
 * way. A held task stays `ready`; the dispatcher records a `respawn_guarded` event.
 */
export type RespawnGuardReason = "blocker_auth" | "recent_success" | "active_pr";

const AUTH_OR_QUOTA =
  /\b(quota|rate[\s_-]?limit(ed|s)?|429|403|auth|authenticat(e|es|ed|ing|ion)|authori[sz]\w*|authz|unauthori[sz]ed|forbidden|billing|subscription|access denied|permission denied|invalid api key)\b/i;
const PR_LINK = /https?:\/\/github\.com\/[^/\s]+\/[^/\s]+\/pull\/\d+/i;
const RECENT_SUCCESS_SECONDS = 3600;
const ACTIVE_PR_SECONDS = 86_400;

/** A guard that holds a task, and until when (null: until a person acts, e.g. a reassignment clears the error). */
export interface RespawnHold {
  reason: RespawnGuardReason;
  until: number | null;
}

/** What the guard's rules read about one task (respawnGuard reads it for one task, the motion reads for many). */
export interface RespawnGuardFacts {
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

/** The guard's rules over facts already read: the one decision for the dispatcher's lane and the motion. */
export function judgeRespawnGuard(f: RespawnGuardFacts, now: number): RespawnHold | null {
  if (f.last_failure_error && AUTH_OR_QUOTA.test(f.last_failure_error)) return { reason: "blocker_auth", until: null };
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

/** Why the guard holds `id` back now, and until when (null = it may be spawned). */
export async function respawnHold(ctx: BoardContext, id: string): Promise<RespawnHold | null> {
  const task = await getTask(ctx, id);
  if (!task) return null;
  const now = ctx.now();
  const base = { last_failure_error: task.last_failure_error, recent_comments: [], handoffs: [] };
  // Read lazily, rule by rule, as the lane walks many tasks: most are decided by the first read.
  const early = judgeRespawnGuard({ ...base, succeeded_at: null, reopened_after_success: false }, now);
  if (early) return early;
  const succeededAt = await lastCompletedAt(ctx, id);
  const recent = succeededAt !== null && now - succeededAt <= RECENT_SUCCESS_SECONDS;
  const reopened = recent ? await reopenedSince(ctx, id, succeededAt) : false;
  const success = judgeRespawnGuard({ ...base, succeeded_at: succeededAt, reopened_after_success: reopened }, now);
  if (success) return success;
  const comments = await commentsSince(ctx, id, respawnGuardWindowStart(now));
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
