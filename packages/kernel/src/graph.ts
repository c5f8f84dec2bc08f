import type { BoardContext } from "./context.ts";
import { invalid } from "./errors.ts";
import { copyNotifySubs } from "./notify.ts";
import { hasStickyBlock, promotionCandidates } from "./store/sqlite/graph.ts";
import { resumesInReview } from "./store/sqlite/review-reads.ts";
import { childIds } from "./store/sqlite/dependencies.ts";
import { deleteLink, insertLink } from "./store/sqlite/links.ts";
import { transition } from "./transition.ts";

/**
 * Adds a dependency edge. Refuses self-links, unknown ids and cycles. A `ready` child with an
 * unfinished new parent goes back to `todo`.
 */
export async function linkTasks(ctx: BoardContext, parent: string, child: string): Promise<{ demoted: boolean }> {
  if (parent === child) throw invalid("a task cannot depend on itself");
  return await ctx.tx(async () => {
    const missing: string[] = [];
    for (const id of [parent, child]) if (!(await ctx.getTask(id))) missing.push(id);
    if (missing.length > 0) throw invalid(`unknown task(s): ${missing.join(", ")}`, { missing });
    if (await reachable(ctx, child, parent)) throw invalid(`linking ${parent} -> ${child} would create a cycle`);
    const added = await insertLink(ctx, parent, child);
    const parentTask = await ctx.requireTask(parent);
    let demoted = false;
    if (parentTask.status !== "done" && parentTask.status !== "archived") {
      demoted = (await transition(ctx, "link_demote", child, { to: "todo" })) > 0;
    }
    if (added) {
      await ctx.appendEvent(child, "linked", { parent, child });
      await copyNotifySubs(ctx, parent, child);
    }
    return { demoted };
  });
}

/** Whether `target` can be reached from `from` by following parent→child edges. */
async function reachable(ctx: BoardContext, from: string, target: string): Promise<boolean> {
  const seen = new Set<string>([from]);
  const stack = [from];
  while (stack.length > 0) {
    const cur = stack.pop() as string;
    if (cur === target) return true;
    for (const child_id of await childIds(ctx, cur)) {
      if (!seen.has(child_id)) {
        seen.add(child_id);
        stack.push(child_id);
      }
    }
  }
  return false;
}

/** Removes an edge; the child is re-gated at once (it may become ready). */
export async function unlinkTasks(ctx: BoardContext, parent: string, child: string): Promise<boolean> {
  const removed = await ctx.tx(async () => {
    const gone = await deleteLink(ctx, parent, child);
    if (gone) await ctx.appendEvent(child, "unlinked", { parent, child });
    return gone;
  });
  if (removed) await recomputeReady(ctx, [child]);
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
export async function recomputeReady(ctx: BoardContext, scope?: string[]): Promise<number> {
  if (scope !== undefined && scope.length === 0) return 0;
  return await ctx.tx(async () => {
    const candidates = await promotionCandidates(ctx, scope);
    let count = 0;
    for (const t of candidates) {
      if (t.status === "blocked") {
        if (await hasStickyBlock(ctx, t.id)) continue;
        const limit = t.max_retries ?? ctx.failureLimit;
        if ((t.consecutive_failures ?? 0) >= limit) continue; // a tripped breaker never self-recovers
      }
      // Hermes B: a card that left review (a reviewer's claim found a reopened parent) resumes there.
      const to = (await resumesInReview(ctx, t.id)) ? "review" : "ready";
      if ((await transition(ctx, "promote", t.id, { to, from: t.status })) === 1) {
        await ctx.appendEvent(t.id, "promoted", to === "ready" ? null : { status: to });
        count++;
      }
    }
    return count;
  });
}

/** Re-gates the children of `id` (after it completed, was archived or deleted). */
export async function recomputeChildren(ctx: BoardContext, id: string): Promise<number> {
  return await recomputeReady(ctx, await childIds(ctx, id));
}

/**
 * Operator promotion of a `todo`/`blocked` task to `ready`. Refuses unfinished parents (the claim
 * re-checks parents anyway, so a forced promotion would only bounce back).
 */
export async function promoteTask(
  ctx: BoardContext,
  id: string,
  opts: { actor?: string | null; reason?: string | null; dryRun?: boolean } = {},
): Promise<{ ok: boolean; error: string | null }> {
  return await ctx.tx(async () => {
    const task = await ctx.getTask(id);
    if (!task) return { ok: false, error: `task ${id} not found` };
    if (task.status !== "todo" && task.status !== "blocked") {
      return { ok: false, error: `task ${id} is '${task.status}'; promote only applies to 'todo' or 'blocked'` };
    }
    const open = await ctx.unfinishedParents(id);
    if (open.length > 0) {
      return {
        ok: false,
        error: `unsatisfied parent dependencies: ${open.map((p) => `${p.id} (${p.status})`).join(", ")} (the ready -> running claim re-checks parents, so promotion cannot bypass them; finish or unlink them first)`,
      };
    }
    if (opts.dryRun) return { ok: true, error: null };
    if ((await transition(ctx, "promote", id, { to: "ready", from: task.status })) !== 1) {
      return { ok: false, error: `task ${id} changed state concurrently` };
    }
    await ctx.appendEvent(id, "promoted_manual", { actor: opts.actor ?? "user", reason: opts.reason ?? null });
    return { ok: true, error: null };
  });
}
