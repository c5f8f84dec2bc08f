import type { BoardContext } from "./context.ts";
import { parseJsonObject } from "./rows.ts";

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

export function respawnGuard(ctx: BoardContext, id: string): RespawnGuardReason | null {
  const task = ctx.getTask(id);
  if (!task) return null;
  if (task.last_failure_error && AUTH_OR_QUOTA.test(task.last_failure_error)) return "blocker_auth";
  const now = ctx.now();

  const success = ctx
    .stmt("SELECT MAX(ended_at) AS at FROM task_runs WHERE task_id = ? AND outcome = 'completed'")
    .get(id) as { at: number | null };
  if (success.at !== null && now - success.at <= RECENT_SUCCESS_SECONDS) {
    const reopened = ctx
      .stmt(
        "SELECT 1 FROM task_events WHERE task_id = ? AND kind IN ('status', 'promoted', 'promoted_manual', 'unblocked', 'reclaimed') AND created_at >= ? LIMIT 1",
      )
      .get(id, success.at);
    if (!reopened) return "recent_success";
  }

  const comments = ctx
    .stmt(
      "SELECT body, created_at FROM task_comments WHERE task_id = ? AND created_at >= ? ORDER BY created_at DESC, id DESC",
    )
    .all(id, now - ACTIVE_PR_SECONDS) as { body: string; created_at: number }[];
  const pr = comments.find((c) => PR_LINK.test(c.body));
  if (pr) {
    // A hand-off after the link (a different assignee, a review verdict) lifts the guard.
    const handoffs = ctx
      .stmt(
        "SELECT kind, payload FROM task_events WHERE task_id = ? AND created_at >= ? AND kind IN ('assigned', 'changes_requested', 'review_reopened')",
      )
      .all(id, pr.created_at) as { kind: string; payload: string | null }[];
    const lifted = handoffs.some((e) => {
      if (e.kind !== "assigned") return true;
      const p = parseJsonObject(e.payload) ?? {};
      return p.from !== undefined && p.from !== p.assignee;
    });
    if (!lifted) return "active_pr";
  }
  return null;
}
