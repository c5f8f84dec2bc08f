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

export async function respawnGuard(ctx: BoardContext, id: string): Promise<RespawnGuardReason | null> {
  const task = await getTask(ctx, id);
  if (!task) return null;
  if (task.last_failure_error && AUTH_OR_QUOTA.test(task.last_failure_error)) return "blocker_auth";
  const now = ctx.now();

  const succeededAt = await lastCompletedAt(ctx, id);
  if (succeededAt !== null && now - succeededAt <= RECENT_SUCCESS_SECONDS) {
    if (!(await reopenedSince(ctx, id, succeededAt))) return "recent_success";
  }

  const comments = await commentsSince(ctx, id, now - ACTIVE_PR_SECONDS);
  const pr = comments.find((c) => PR_LINK.test(c.body));
  if (pr) {
    // A hand-off after the link (a different assignee, a review verdict) lifts the guard.
    const handoffs = await handoffsSince(ctx, id, pr.created_at);
    const lifted = handoffs.some((e) => {
      if (e.kind !== "assigned") return true;
      const p = parseJsonObject(e.payload) ?? {};
      return p.from !== undefined && p.from !== p.assignee;
    });
    if (!lifted) return "active_pr";
  }
  return null;
}
