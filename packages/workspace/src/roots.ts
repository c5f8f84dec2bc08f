import path from "node:path";
import type { Task } from "@kanban/kernel";
import type { WorkspaceContext } from "./context.ts";
import { WorkspaceError } from "./errors.ts";
import { insideOrAt, resolvedPath } from "./paths.ts";

/**
 * The one rule for who is confined to config.json `kanban.workspace_roots`, keyed on the TASK's
 * tenant, never on who claims it: a tenant's task is confined wherever it is claimed from (the
 * dispatcher's spawn, a tenant's, a worker's or the operator's `tasks.claim`); an operator task (no
 * tenant) is not. Pass the result as {@link WorkspaceContext.allowedRoots}.
 */
export function allowedRootsFor(
  task: Pick<Task, "tenant">,
  workspaceRoots: readonly string[] | null | undefined,
): readonly string[] | null {
  // A blank tenant is no tenant, as in the kernel's scope.
  if (!task.tenant?.trim()) return null;
  // A tenant's task on a host with no roots configured gets scratch only (an empty list refuses all).
  return workspaceRoots ?? [];
}

/**
 * Refuses (permanently, WORKSPACE_PATH_NOT_ALLOWED) a `dir`/`worktree` path outside the allowed
 * roots once symlinks are resolved. The kernel's create check is lexical; this one sees a symlink
 * inside a root that leads out of it. The message names no path (`what` says which one) and no task
 * (the caller's line does: the dispatcher's spawn failure, the API's "cannot claim <id>: …").
 */
export function checkAllowed(
  task: Pick<Task, "id" | "workspace_kind">,
  p: string,
  ctx: WorkspaceContext,
  what: string,
): void {
  const roots = ctx.allowedRoots;
  if (roots === null || roots === undefined) return;
  const real = resolvedPath(p);
  if (roots.some((root) => path.isAbsolute(root) && insideOrAt(resolvedPath(root), real))) return;
  const kind = task.workspace_kind || "scratch";
  throw new WorkspaceError(
    roots.length === 0
      ? `${kind} workspaces are not allowed for tenant tasks on this host (config.json kanban.workspace_roots is empty); use a scratch workspace`
      : `the ${what} is outside the workspace roots allowed for tenant tasks (config.json kanban.workspace_roots, symlinks resolved)`,
    { permanent: true, code: "WORKSPACE_PATH_NOT_ALLOWED", details: { task_id: task.id, workspace_kind: kind } },
  );
}
