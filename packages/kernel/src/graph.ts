import type { BoardContext } from "./context.ts";
import { invalid } from "./errors.ts";
import { copyNotifySubs } from "./notify.ts";
import { hasStickyBlock, promotionCandidates } from "./store/sqlite/graph.ts";
import { childIds } from "./store/sqlite/dependencies.ts";
import { deleteLink, insertLink } from "./store/sqlite/links.ts";
import { transition } from "./transition.ts";

/**
 * Adds a dependency edge. Refuses self-links, unknown ids and cycles. A `ready` child with an
 * unfinished new parent goes back to `todo`.
 */
export function linkTasks(ctx: BoardContext, parent: string, child: string): { demoted: boolean } {
  if (parent === child) throw invalid("a task cannot depend on itself");
  return ctx.tx(() => {
    const missing = [parent, child].filter((id) => !ctx.getTask(id));
    if (missing.length > 0) throw invalid(`unknown task(s): ${missing.join(", ")}`, { missing });
    if (reachable(ctx, child, parent)) throw invalid(`linking ${parent} -> ${child} would create a cycle`);
    const added = insertLink(ctx, parent, child);
    const parentTask = ctx.requireTask(parent);
    let demoted = false;
    if (parentTask.status !== "done" && parentTask.status !== "archived") {
      demoted = transition(ctx, "link_demote", child, { to: "todo" }) > 0;
    }
    if (added) {
      ctx.appendEvent(child, "linked", { parent, child });
      copyNotifySubs(ctx, parent, child);
    }
    return { demoted };
  });
}

/** Whether `target` can be reached from `from` by following parent→child edges. */
function reachable(ctx: BoardContext, from: string, target: string): boolean {
  const seen = new Set<string>([from]);
  const stack = [from];
  while (stack.length > 0) {
    const cur = stack.pop() as string;
    if (cur === target) return true;
    for (const child_id of childIds(ctx, cur)) {
      if (!seen.has(child_id)) {
        seen.add(child_id);
        stack.push(child_id);
      }
    }
  }
  return false;
}

/** Removes an edge; the child is re-gated at once (it may become ready). */
export function unlinkTasks(ctx: BoardContext, parent: string, child: string): boolean {
  const removed = ctx.tx(() => {
    const gone = deleteLink(ctx, parent, child);
    if (gone) ctx.appendEvent(child, "unlinked", { parent, child });
    return gone;
  });
  if (removed) recomputeReady(ctx, [child]);
  return removed;
}

/**
 * Promotes `todo` tasks whose parents are all done/archived (unless a person parked them there), and
 * `blocked` tasks that were blocked automatically (not sticky) and whose breaker has not tripped.
 * Returns how many moved.
 *
 * `scope` limits the pass to the given tasks (e.g. the children of a task that just completed), so
 * a completion costs O(children), not O(board); the dispatcher's tick runs the full pass.
 */
export function recomputeReady(ctx: BoardContext, scope?: string[]): number {
  if (scope !== undefined && scope.length === 0) return 0;
  return ctx.tx(() => {
    const candidates = promotionCandidates(ctx, scope);
    let count = 0;
    for (const t of candidates) {
      if (t.status === "blocked") {
        if (hasStickyBlock(ctx, t.id)) continue;
        const limit = t.max_retries ?? ctx.failureLimit;
        if ((t.consecutive_failures ?? 0) >= limit) continue; // a tripped breaker never self-recovers
      }
      if (transition(ctx, "promote", t.id, { to: "ready", from: t.status }) === 1) {
        ctx.appendEvent(t.id, "promoted", null);
        count++;
      }
    }
    return count;
  });
}

/** Re-gates the children of `id` (after it completed, was archived or deleted). */
export function recomputeChildren(ctx: BoardContext, id: string): number {
  return recomputeReady(ctx, childIds(ctx, id));
}

/**
 * Operator promotion of a `todo`/`blocked` task to `ready`. Refuses unfinished parents (the claim
 * re-checks parents anyway, so a forced promotion would only bounce back).
 */
export function promoteTask(
  ctx: BoardContext,
  id: string,
  opts: { actor?: string | null; reason?: string | null; dryRun?: boolean } = {},
): { ok: boolean; error: string | null } {
  return ctx.tx(() => {
    const task = ctx.getTask(id);
    if (!task) return { ok: false, error: `task ${id} not found` };
    if (task.status !== "todo" && task.status !== "blocked") {
      return { ok: false, error: `task ${id} is '${task.status}'; promote only applies to 'todo' or 'blocked'` };
    }
    const open = ctx.unfinishedParents(id);
    if (open.length > 0) {
      return {
        ok: false,
        error: `unsatisfied parent dependencies: ${open.map((p) => `${p.id} (${p.status})`).join(", ")} (the ready -> running claim re-checks parents, so promotion cannot bypass them; finish or unlink them first)`,
      };
    }
    if (opts.dryRun) return { ok: true, error: null };
    if (transition(ctx, "promote", id, { to: "ready", from: task.status }) !== 1) {
      return { ok: false, error: `task ${id} changed state concurrently` };
    }
    ctx.appendEvent(id, "promoted_manual", { actor: opts.actor ?? "user", reason: opts.reason ?? null });
    return { ok: true, error: null };
  });
}
