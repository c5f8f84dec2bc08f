import fs from "node:fs";
import path from "node:path";
import { workspacesRoot } from "@kanban/db";
import { isWithinRoot, KernelError, wrongState } from "@kanban/kernel";
import type { KanbanContext } from "../../context.ts";
import { nameSchema } from "../../schemas.ts";
import { scopedTask, taskDto } from "../../scope.ts";
import { publicProcedure } from "../../trpc.ts";
import { idInput, ttlSchema } from "./shared.ts";
import { workspaceRules } from "./workspace-rules.ts";

/** Refuses (400, undoing the claim around it) a tenant's dir: path outside the allowed roots. */
function checkTenantRoots(ctx: KanbanContext, id: string, dir: string): void {
  const roots = workspaceRules(ctx).allowedWorkspaceRoots;
  if (roots === null || roots === undefined || roots.some((root) => isWithinRoot(root, dir))) return;
  throw new KernelError(
    "WORKSPACE_PATH_NOT_ALLOWED",
    `cannot claim ${id}: workspace path '${dir}' is outside the workspace roots this server allows (config.json kanban.workspace_roots)`,
    { task_id: id, workspace_kind: "dir" },
  );
}

/**
 * Creates a claimed task's workspace directory, or refuses the claim (409). The path is named only
 * to an admin caller or when the caller chose it (a dir: path): a scratch path is the server's.
 */
function makeWorkspace(ctx: KanbanContext, task: { id: string; workspace_kind: string }, dir: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "error";
    const where = ctx.tenant === null || task.workspace_kind === "dir" ? ` at ${dir}` : "";
    throw wrongState(
      `cannot claim ${task.id}: its ${task.workspace_kind} workspace cannot be created${where} (${code})`,
      {
        task_id: task.id,
        workspace_kind: task.workspace_kind,
        error: code,
      },
    );
  }
}

/**
 * Claims a ready task (the one place work starts); 409 names its status and lock when it is not
 * claimable. The claim and its workspace directory commit together: a directory that cannot be
 * created undoes the claim (no run, no event) and answers 409, so no task is left running under
 * a claim nobody works on.
 */
export const claimProcedure = publicProcedure
  .input(idInput.extend({ ttl_seconds: ttlSchema.nullish(), claimer: nameSchema.nullish() }))
  .mutation(({ ctx, input }) => {
    const board = ctx.board(input.board);
    const before = scopedTask(ctx, board, input.id);
    // The kernel claims and runs this callback in one transaction: a throw here undoes the claim.
    const { claimed, workspace } = board.claimWithWorkspace(
      input.id,
      { ttl_seconds: input.ttl_seconds, claimer: input.claimer },
      (claimed) => {
        if (claimed === null) {
          const now = board.getTask(input.id) ?? before;
          throw wrongState(`cannot claim ${input.id}: status=${now.status} lock=${now.claim_lock ?? "(none)"}`, {
            task_id: input.id,
            status: now.status,
          });
        }
        // Scratch and dir workspaces are plain directories, materialised here like the dispatcher
        // does; a worktree needs git and is left to the dispatcher (workspace stays null).
        let workspace: string | null = claimed.workspace_path;
        if (claimed.workspace_kind === "scratch" || claimed.workspace_kind === "dir") {
          // A tenant's dir: path is judged again against today's roots (the operator may have narrowed them).
          if (claimed.workspace_kind === "dir" && workspace !== null) checkTenantRoots(ctx, claimed.id, workspace);
          // A scratch directory is always <root>/<task id>, as the dispatcher makes it: a path recorded
          // on the row (by an old version, by Hermes, by hand) is never trusted to name it.
          if (claimed.workspace_kind === "scratch")
            workspace = path.join(workspacesRoot(ctx.location, board.slug ?? "default"), claimed.id);
          workspace ??= path.join(workspacesRoot(ctx.location, board.slug ?? "default"), claimed.id);
          makeWorkspace(ctx, claimed, workspace);
          board.setWorkspace(claimed.id, workspace);
        }
        return { claimed, workspace };
      },
    );
    return {
      task: taskDto({ ...claimed, workspace_path: workspace, warnings: null }),
      run_id: claimed.current_run_id,
      workspace,
    };
  });
