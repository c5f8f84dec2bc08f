import type { BoardContext } from "./context.ts";
import { swapStatus, swapStatusReturning, type TransitionWrite } from "./store/sqlite/tasks.ts";
import type { TransitionVerb } from "./transitions.ts";
import type { Task } from "./types.ts";

// The verb-level door for status changes. The SQL (built from the TRANSITIONS table, cached by
// shape) lives in store/sqlite/tasks.ts; the lifecycle verbs mostly use the store's named writes
// built on it (takeClaim, settleDone, parkTask, requeueRunning…).

/**
 * The single door for status changes: the store's compare-and-swap (set `status` to `to` where it is one of
 * the verb's from-states [and still the status read] [and the fence holds]). Returns how many rows moved (0 or 1):
 * 0 means the task was not in a state the verb may leave, or changed concurrently. A to-state the
 * table does not give the verb throws before anything is written.
 */
export async function transition(
  ctx: BoardContext,
  verb: TransitionVerb,
  id: string,
  w: TransitionWrite,
): Promise<number> {
  return await swapStatus(ctx, verb, id, w);
}

/** {@link transition} with `RETURNING *`: the moved row, or null when the swap missed (no second read). */
export async function transitionReturning(
  ctx: BoardContext,
  verb: TransitionVerb,
  id: string,
  w: TransitionWrite,
): Promise<Task | null> {
  return await swapStatusReturning(ctx, verb, id, w);
}
