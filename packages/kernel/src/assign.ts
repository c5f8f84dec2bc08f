import type { BoardContext } from "./context.ts";
import { canonicalAssignee } from "./create.ts";
import { notFound, wrongState } from "./errors.ts";
import { applyNotifyRules } from "./notify-rules.ts";
import { reclaimTask } from "./recovery.ts";
import { appendEvent } from "./store/sqlite/events.ts";
import { getTask, setAssignee } from "./store/sqlite/tasks.ts";
import type { Termination } from "./termination.ts";

/**
 * Sets (or clears) the assignee. A running, claimed task cannot change hands: reclaim it first.
 * A real change of assignee resets the failure streak (it belongs to the task/profile pair).
 */
export async function assignTask(
  ctx: BoardContext,
  id: string,
  profile: string | null,
  extra: Record<string, unknown> = {},
): Promise<boolean> {
  const assignee = canonicalAssignee(profile);
  return await ctx.tx(async () => {
    const task = await getTask(ctx, id);
    if (!task) return false;
    if (task.status === "running" && task.claim_lock !== null) {
      throw wrongState(
        `cannot reassign ${id}: currently running (claimed). Wait for completion or reclaim the stale lock first.`,
        { task_id: id },
      );
    }
    if (task.assignee === assignee) return true;
    await setAssignee(ctx, id, assignee);
    await appendEvent(ctx, id, "assigned", { assignee, from: task.assignee, ...extra });
    // The new profile's rules subscribe the card, caught up past its `assigned` event.
    await applyNotifyRules(ctx, { id, assignee, tenant: task.tenant }, { assigneeOnly: true });
    return true;
  });
}

/** Reassigns, optionally reclaiming a running task first. False when the task is unknown or still running. */
export async function reassignTask(
  ctx: BoardContext,
  id: string,
  profile: string | null,
  opts: { reclaimFirst?: boolean; reason?: string | null } = {},
): Promise<{ ok: boolean; terminate: Termination | null }> {
  if (!(await getTask(ctx, id))) throw notFound(`task ${id} not found`, { task_id: id });
  let terminate: Termination | null = null;
  if (opts.reclaimFirst) {
    // reclaim_first is "clear a live claim if there is one": a task with nothing to reclaim is
    // simply reassigned (spec §2.2), so reclaim's WRONG_STATE refusal is not an error here.
    try {
      terminate = (await reclaimTask(ctx, id, { reason: opts.reason ?? "reassign" })).terminate;
    } catch (err) {
      if ((err as { code?: string }).code !== "WRONG_STATE") throw err;
    }
  }
  try {
    return { ok: await assignTask(ctx, id, profile), terminate };
  } catch (err) {
    if ((err as { code?: string }).code === "WRONG_STATE") return { ok: false, terminate };
    throw err;
  }
}
