import path from "node:path";
import { openBoard } from "@kanban/kernel";
import { boardInternals } from "@kanban/kernel/testing";

/**
 * How many write transactions (each one `BEGIN IMMEDIATE` … `COMMIT`, so one fsync at
 * synchronous=FULL and one turn of the board's single write lock) it takes to claim a task and record
 * its workspace, counted on the kernel's session rather than estimated:
 * - the dispatcher's path: `claimNext` (select + claim), then `setWorkspace` once the directory or
 *   worktree exists, then `recordSpawn` once the worker has a pid. The workspace is made between the
 *   first two on purpose: a git worktree takes a fraction of a second, and holding the write lock
 *   through it would stall every other writer of the board.
 * - the API's `tasks.claim`: the same split, `claimTask`, then `setWorkspace` once the workspace is
 *   made (no worker to record). It used to be one (`claimWithWorkspace`, the workspace made inside
 *   the claim's transaction) and so held the lock through `git worktree add`.
 */
export async function benchClaimTransactions(
  dir: string,
): Promise<{ dispatcher_path: number; api_path: number; claims: number }> {
  const board = openBoard({ path: path.join(dir, "claim-transactions.db"), warn: () => {} });
  try {
    const claims = 50;
    const ids: string[] = [];
    await board.atomically(async () => {
      for (let i = 0; i < 2 * claims; i++)
        ids.push((await board.createTask({ title: `job ${i}`, assignee: "bench" })).id);
    });
    const ctx = boardInternals(board).ctx;

    const before = ctx.transactionsBegun;
    for (let i = 0; i < claims; i++) {
      const lane = board.readyLane({});
      const task = (await board.claimNext(lane, { claimer: "bench:1" }, 1)).claimed[0]?.task;
      if (!task) throw new Error("the ready lane ran dry: raise the task count");
      await board.setWorkspace(task.id, path.join(dir, "ws", task.id));
      await board.recordSpawn(task.id, 4242, task.current_run_id ?? 0);
    }
    const dispatcherPath = (ctx.transactionsBegun - before) / claims;

    let apiClaims = 0;
    // Only tasks still ready: an attempt on a task the loop above took is a refused claim, not a claim.
    const ready: string[] = [];
    for (const id of ids) if ((await board.getTask(id))?.status === "ready") ready.push(id);
    const mid = ctx.transactionsBegun;
    for (const id of ready) {
      if (apiClaims === claims) break;
      // What tasks.claim does (packages/api/src/routers/tasks/claim.ts), the workspace made in between.
      const task = await board.claimTask(id, { claimer: "bench:2" });
      if (task === null) continue;
      await board.setWorkspace(task.id, path.join(dir, "ws", task.id));
      apiClaims++;
    }
    const apiPath = (ctx.transactionsBegun - mid) / claims;
    return { dispatcher_path: dispatcherPath, api_path: apiPath, claims };
  } finally {
    board.close();
  }
}
