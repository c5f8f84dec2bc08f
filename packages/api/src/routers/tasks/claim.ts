import { readBoardMetadata } from "@kanban/db";
import { KernelError, type Task, wrongState } from "@kanban/kernel";
import { type ResolvedWorkspace, resolveWorkspace, WorkspaceError } from "@kanban/workspace";
import type { KanbanContext } from "../../context.ts";
import type { RunScoped } from "../../run-scope.ts";
import { z } from "zod";
import { nameSchema } from "../../schemas.ts";
import { taskProcedure } from "../../trpc.ts";
import { ttlSchema, withWarnings } from "./shared.ts";
import { workspaceRules } from "./workspace-rules.ts";

/**
 * Materialises a claimed task's workspace with the dispatcher's own rule (@kanban/workspace):
 * scratch, dir and worktree alike, a tenant's paths judged against today's
 * `kanban.workspace_roots` with symlinks resolved. A refusal becomes `cannot claim <id>: <reason>`
 * with the rule's code (400 outside the roots, 409 otherwise); a path the server chose (the scratch
 * directory, the board's default workdir) is named only to the operator.
 */
function materialise(
  ctx: Pick<KanbanContext, "location" | "tenant" | "config"> & RunScoped,
  slug: string,
  task: Task,
): ResolvedWorkspace {
  try {
    return resolveWorkspace(task, {
      location: ctx.location,
      board: slug,
      // Only a worktree without a path of its own anchors there: other claims skip reading board.json.
      defaultWorkdir: task.workspace_kind === "worktree" ? readBoardMetadata(ctx.location, slug).default_workdir : null,
      allowedRoots: workspaceRules(ctx).allowedWorkspaceRoots,
    });
  } catch (err) {
    if (!(err instanceof WorkspaceError)) throw err;
    const revealPaths = ctx.tenant === null && !ctx.run;
    throw new KernelError(err.code, `cannot claim ${task.id}: ${err.messageFor(revealPaths)}`, err.details);
  }
}

/**
 * Claims a ready task (the one place work starts); 409 names its status and lock when it is not
 * claimable. The claim and its workspace commit together: a workspace that cannot be made (a
 * directory, or a worktree: the same as the dispatcher's claim) undoes the claim (no run, no event)
 * and answers 409 (400 for a path outside the roots), so no task is left running under a claim
 * nobody works on.
 */
export const claimProcedure = taskProcedure
  .input(z.object({ ttl_seconds: ttlSchema.nullish(), claimer: nameSchema.nullish() }))
  .mutation(async ({ ctx, input }) => {
    const board = ctx.board;
    const before = ctx.task;
    // The kernel claims and runs this callback in one transaction: a throw here undoes the claim.
    const { claimed, workspace } = await board.claimWithWorkspace(
      input.id,
      { ttl_seconds: input.ttl_seconds, claimer: input.claimer },
      async (claimed) => {
        if (claimed === null) {
          const now = (await board.getTask(input.id)) ?? before;
          throw wrongState(`cannot claim ${input.id}: status=${now.status} lock=${now.claim_lock ?? "(none)"}`, {
            task_id: input.id,
            status: now.status,
          });
        }
        // Inside the claim's transaction: a refusal here undoes the claim. A worktree's `git worktree
        // add` runs while the board is write-locked (see @kanban/workspace's README).
        const ws = materialise(ctx, board.slug ?? "default", claimed);
        await board.setWorkspace(claimed.id, ws.path, ws.branch);
        return { claimed: { ...claimed, branch_name: ws.branch ?? claimed.branch_name }, workspace: ws.path };
      },
    );
    return {
      task: await withWarnings(board, { ...claimed, workspace_path: workspace }),
      run_id: claimed.current_run_id,
      workspace,
    };
  });
