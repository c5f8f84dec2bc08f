import type { Board } from "@kanban/kernel";
import { type DispatchDeps, type DispatchResult, start } from "./dispatch-once.ts";

// The review lane (spec §3.2 step 4, Hermes B): after the ready lane, each unclaimed task in
// `review` is claimed for its assignee (the reviewer `request_review` named) with the kernel's
// claimReviewTask, and its worker is spawned as a reviewer run (KANBAN_REVIEW=1). It shares the
// tick's budget with the ready lane; the ready lane leaves it one slot while a review waits.

/** How many review rows one tick looks at: far more than any budget spawns. */
const REVIEW_LANE_PAGE = 200;

/** Whether some unclaimed review task has an assignee this dispatcher can spawn. */
export async function hasSpawnableReview(board: Board, deps: Pick<DispatchDeps, "isSpawnable">): Promise<boolean> {
  return (await board.reviewLane(REVIEW_LANE_PAGE)).some((t) => t.assignee !== null && deps.isSpawnable(t.assignee));
}

/**
 * Claims and spawns reviewers for review tasks in lane order (priority, then age), at most `budget`.
 * Unassigned rows are `skipped_unassigned`, rows whose reviewer is not a profile here
 * `skipped_nonspawnable`; a dry run records what it would spawn and writes nothing.
 */
export async function spawnReviews(
  board: Board,
  deps: DispatchDeps,
  out: DispatchResult,
  dryRun: boolean,
  budget: number,
): Promise<void> {
  let left = budget;
  for (const row of await board.reviewLane(REVIEW_LANE_PAGE)) {
    if (left <= 0) {
      out.held_back.push("budget_exhausted");
      return;
    }
    const assignee = row.assignee;
    if (assignee === null) {
      out.skipped_unassigned.push(row.id);
      continue;
    }
    if (!deps.isSpawnable(assignee)) {
      out.skipped_nonspawnable.push(row.id);
      out.not_a_profile.push({ task_id: row.id, assignee });
      continue;
    }
    if (dryRun) {
      out.spawned.push({ task_id: row.id, assignee, workspace: "", pid: null });
      left--;
      continue;
    }
    await deps.admission?.enter();
    try {
      const task = await board.claimReviewTask(row.id);
      if (task === null) continue; // taken by another dispatcher, demoted for a reopened parent, or held by a spent budget
      // A failed spawn gives the claim back to `review` (the kernel's source phase) and counts nothing here.
      if (await start(board, { task_id: row.id, assignee, task }, { release: () => {} }, deps, out, true)) left--;
    } finally {
      deps.admission?.leave();
    }
  }
}
