import fs from "node:fs";
import { workspacesRoot } from "@kanban/db";
import type { Task } from "@kanban/kernel";
import { type ResolvedWorkspace, scratchPath, type WorkspaceContext } from "./context.ts";
import { mkdirp, requireAbsolute } from "./directory.ts";
import { WorkspaceError } from "./errors.ts";
import { isStrictDescendant } from "./paths.ts";
import { checkAllowed } from "./roots.ts";
import { resolveWorktree } from "./worktree.ts";

/**
 * Materialises the workspace of a claimed task (spec §3.5): the one rule of the dispatcher's spawn
 * and the API's `tasks.claim`. Rejects with a {@link WorkspaceError} with a one-line reason; nothing is
 * created outside the allowed roots. Asynchronous (git runs without blocking the process), and meant
 * to run outside any write transaction of the board: the callers claim, then materialise, then
 * record the workspace.
 *
 *   scratch   always `<board workspaces root>/<task id>/`, created. A `workspace_path` recorded on a
 *             scratch task (by Hermes, an old version, a hand edit) is ignored: it could name another
 *             task's live directory, or anyone's, and the cleanup would delete it.
 *   dir       the task's absolute `workspace_path`, created if missing, never removed
 *   worktree  a git worktree (see {@link resolveWorktree})
 */
export async function resolveWorkspace(task: Task, ctx: WorkspaceContext): Promise<ResolvedWorkspace> {
  const kind = task.workspace_kind || "scratch";
  const given = task.workspace_path?.trim() || null;
  if (kind === "scratch") {
    const p = scratchPath(ctx, task.id);
    mkdirp(task, kind, p, true);
    // A symlink planted at our path (by another task's worker, say) must not become the workspace.
    if (fs.lstatSync(p).isSymbolicLink() || !isStrictDescendant(workspacesRoot(ctx.location, ctx.board), p)) {
      throw new WorkspaceError(
        `scratch workspace of ${task.id} is not a plain directory inside the board's workspaces root`,
        { permanent: true, details: { task_id: task.id, workspace_kind: kind } },
      );
    }
    return { kind: "scratch", path: p, branch: null };
  }
  if (kind === "dir") {
    if (given === null) {
      throw new WorkspaceError(`task ${task.id} has workspace_kind=dir but no workspace_path`, {
        details: { task_id: task.id, workspace_kind: kind },
      });
    }
    const p = requireAbsolute(task, given);
    checkAllowed(task, p, ctx, "workspace path");
    mkdirp(task, kind, p, false);
    // Judged again now that it exists: a symlink swapped in meanwhile is resolved too.
    checkAllowed(task, p, ctx, "workspace path");
    return { kind: "dir", path: p, branch: null };
  }
  if (kind === "worktree") return await resolveWorktree(task, ctx);
  throw new WorkspaceError(`task ${task.id} has unknown workspace_kind '${kind}'`, {
    details: { task_id: task.id, workspace_kind: kind },
  });
}
