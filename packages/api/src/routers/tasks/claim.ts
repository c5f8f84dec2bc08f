import { readBoardMetadata } from "@kanban/db";
import { KernelError, type Task, wrongState } from "@kanban/kernel";
import { allowedRootsFor, type ResolvedWorkspace, resolveWorkspace, WorkspaceError } from "@kanban/workspace";
import { z } from "zod";
import type { KanbanContext } from "../../context.ts";
import type { RunScoped } from "../../run-scope.ts";
import { nameSchema } from "../../schemas.ts";
import { taskProcedure } from "../../trpc.ts";
import { ttlSchema, withWarnings } from "./shared.ts";

/**
 * Materialises a claimed task's workspace with the dispatcher's own rule (@kanban/workspace):
 * scratch, dir and worktree alike, a tenant's TASK's paths judged against today's
 * `kanban.workspace_roots` with symlinks resolved, whoever claims it (the operator too: the same
 * rule as the dispatcher's, `allowedRootsFor`). A refusal becomes `cannot claim <id>: <reason>` with
 * the rule's code (400 outside the roots, 409 otherwise); a path the server chose (the scratch
 * directory, the board's default workdir) is named only to the operator.
 */
async function materialise(
  ctx: Pick<KanbanContext, "location" | "tenant" | "config"> & RunScoped,
  slug: string,
  task: Task,
): Promise<ResolvedWorkspace> {
  try {
    return await resolveWorkspace(task, {
      location: ctx.location,
      board: slug,
      // Only a worktree without a path of its own anchors there: other claims skip reading board.json.
      defaultWorkdir: task.workspace_kind === "worktree" ? readBoardMetadata(ctx.location, slug).default_workdir : null,
      allowedRoots: allowedRootsFor(task, ctx.config().kanban.workspace_roots),
    });
  } catch (err) {
    if (!(err instanceof WorkspaceError)) throw err;
    const revealPaths = ctx.tenant === null && !ctx.run;
    throw new KernelError(err.code, `cannot claim ${task.id}: ${err.messageFor(revealPaths)}`, err.details);
  }
}

/**
 * Claims a ready task (the one place work starts); 409 names its status and lock when it is not
 * claimable. As the dispatcher does, in three steps so the board is never write-locked while a
 * workspace is made (a `git worktree add` takes a fraction of a second, up to git's time limit):
 * the claim (one transaction), the workspace (outside any transaction), then the workspace recorded
 * (a second one). A workspace that cannot be made gives the claim back (`releaseUnstartedClaim`:
 * the task is ready again, its run closed as `reclaimed`, no failure counted) and answers 409 (400
 * for a path outside the roots), so no task is left running under a claim nobody works on.
 */
export const claimProcedure = taskProcedure
  .input(z.object({ ttl_seconds: ttlSchema.nullish(), claimer: nameSchema.nullish() }))
  .mutation(async ({ ctx, input }) => {
    const board = ctx.board;
    const before = ctx.task;
    const claimed = await board.claimTask(input.id, { ttl_seconds: input.ttl_seconds, claimer: input.claimer });
    if (claimed === null) {
      const now = (await board.getTask(input.id)) ?? before;
      throw wrongState(`cannot claim ${input.id}: status=${now.status} lock=${now.claim_lock ?? "(none)"}`, {
        task_id: input.id,
        status: now.status,
      });
    }
    const runId = claimed.current_run_id as number;
    let ws: ResolvedWorkspace;
    try {
      ws = await materialise(ctx, board.slug ?? "default", claimed);
    } catch (err) {
      const reason = err instanceof Error ? (err.message.split("\n")[0] ?? err.message) : String(err);
      await board.releaseUnstartedClaim(claimed.id, runId, `workspace: ${reason}`);
      throw err;
    }
    await board.setWorkspace(claimed.id, ws.path, ws.branch);
    return {
      task: await withWarnings(board, {
        ...claimed,
        workspace_path: ws.path,
        branch_name: ws.branch ?? claimed.branch_name,
      }),
      run_id: claimed.current_run_id,
      workspace: ws.path,
    };
  });
