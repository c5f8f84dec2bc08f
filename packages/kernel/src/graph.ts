import type { BoardContext } from "./context.ts";
import { invalid } from "./errors.ts";
import { copyNotifySubs } from "./notify.ts";
import { fromStatesSql, transition } from "./transition.ts";

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
    const added =
      ctx.stmt("INSERT OR IGNORE INTO task_links (parent_id, child_id) VALUES (?, ?)").run(parent, child).changes > 0;
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
  const children = ctx.stmt("SELECT child_id FROM task_links WHERE parent_id = ?");
  const seen = new Set<string>([from]);
  const stack = [from];
  while (stack.length > 0) {
    const cur = stack.pop() as string;
    if (cur === target) return true;
    for (const { child_id } of children.all(cur) as { child_id: string }[]) {
      if (!seen.has(child_id)) {
        seen.add(child_id);
        stack.push(child_id);
      }
    }
  }
  return false;
}

/** Removes an edge; the child is re-gated at once (it may become ready). */
export function unlinkTasks(ctx: BoardContext, parent: string, child: string, failureLimit?: number): boolean {
  const removed = ctx.tx(() => {
    const gone = ctx.stmt("DELETE FROM task_links WHERE parent_id = ? AND child_id = ?").run(parent, child).changes > 0;
    if (gone) ctx.appendEvent(child, "unlinked", { parent, child });
    return gone;
  });
  if (removed) recomputeReady(ctx, failureLimit, [child]);
  return removed;
}

/** Whether the newest of the task's `blocked`/`unblocked` events is a `blocked`: an explicit, sticky block. */
function stickyBlock(ctx: BoardContext, id: string): boolean {
  const row = ctx
    .stmt(
      "SELECT kind FROM task_events WHERE task_id = ? AND kind IN ('blocked', 'unblocked') ORDER BY id DESC LIMIT 1",
    )
    .get(id) as { kind: string } | undefined;
  return row?.kind === "blocked";
}

/**
 * Event kinds that annotate a task without moving it between columns. A `todo` card's newest event
 * of any other kind is what put it there (see PARKED_IN_TODO).
 */
const ANNOTATION_KINDS = [
  "commented",
  "edited",
  "assigned",
  "reprioritized",
  "priority",
  "linked",
  "unlinked",
  "heartbeat",
  "spawned",
  "model_override_set",
  "reasoning_effort_set",
  "attached",
  "attachment_removed",
  "suspected_hallucinated_references",
  "completion_blocked_hallucination",
  "protocol_violation",
  "respawn_guarded",
];

/**
 * Whether a person parked the `todo` task `t`: the last thing that moved it was a direct status write
 * to `todo` (a drag to the Todo column, a bulk move, `tasks.patch`). A parked card waits there until
 * someone moves it again, even with every parent done; dependency waits (created with open parents,
 * demoted by a link or a claim's parent check, unblocked before its parents finished) and cards a
 * script set to todo with raw SQL (no event) are promoted as Hermes does. An automatic status write
 * (Hermes' `ancestor_reopened` invalidation carries a `reason`) is not a person's choice.
 *
 * In SQL, so that a board of parked cards costs the tick one query, not one per card. The CASE reads
 * the payload only once `json_valid` accepts it: a malformed or absurdly deep payload (which
 * `json_extract` would raise an error on) simply does not park.
 */
const PARKED_IN_TODO = `t.status = 'todo' AND COALESCE((
    SELECT CASE WHEN e.kind = 'status' AND json_valid(e.payload)
      THEN json_extract(e.payload, '$.status') IS 'todo' AND json_type(e.payload, '$.reason') IS NULL ELSE 0 END
    FROM task_events e
    WHERE e.task_id = t.id AND e.kind NOT IN (${ANNOTATION_KINDS.map((k) => `'${k}'`).join(", ")})
    ORDER BY e.id DESC LIMIT 1), 0)`;

/**
 * Promotes `todo` tasks whose parents are all done/archived (unless a person parked them there), and
 * `blocked` tasks that were blocked automatically (not sticky) and whose breaker has not tripped.
 * Returns how many moved.
 *
 * `scope` limits the pass to the given tasks (e.g. the children of a task that just completed), so
 * a completion costs O(children), not O(board); the dispatcher's tick runs the full pass.
 */
export function recomputeReady(ctx: BoardContext, failureLimit?: number, scope?: string[]): number {
  if (scope !== undefined && scope.length === 0) return 0;
  return ctx.tx(() => {
    // Parents are checked in SQL (one anti-join), so the loop below only sees tasks that may move.
    const unfinishedParent = `EXISTS (SELECT 1 FROM task_links l JOIN tasks p ON p.id = l.parent_id
        WHERE l.child_id = t.id AND p.status NOT IN ('done', 'archived'))`;
    const base = `SELECT t.id, t.status, t.consecutive_failures, t.max_retries FROM tasks t
       WHERE t.status ${fromStatesSql("promote")} AND NOT ${unfinishedParent} AND NOT (${PARKED_IN_TODO})`;
    const candidates = (
      scope === undefined
        ? ctx.stmt(base).all()
        : ctx.stmt(`${base} AND t.id IN (SELECT value FROM json_each(?))`).all(JSON.stringify(scope))
    ) as { id: string; status: string; consecutive_failures: number | null; max_retries: number | null }[];
    let count = 0;
    for (const t of candidates) {
      if (t.status === "blocked") {
        if (stickyBlock(ctx, t.id)) continue;
        const limit = t.max_retries ?? failureLimit ?? ctx.failureLimit;
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
export function recomputeChildren(ctx: BoardContext, id: string, failureLimit?: number): number {
  const children = (
    ctx.stmt("SELECT child_id FROM task_links WHERE parent_id = ?").all(id) as { child_id: string }[]
  ).map((r) => r.child_id);
  return recomputeReady(ctx, failureLimit, children);
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
