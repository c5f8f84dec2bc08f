import path from "node:path";
import { KernelError } from "./errors.ts";

/**
 * Who may choose where a task's worker runs.
 *
 * - `scratch`: nobody but the dispatcher. It creates `<workspaces root>/<task id>/` at claim time and
 *   records it (`setWorkspace`), and deletes it once the task is finished. A caller-chosen scratch
 *   path could name another task's live directory (or anyone's), which the cleanup would then
 *   delete, so create refuses one.
 * - `dir` / `worktree`: the caller's path, confined to `allowedWorkspaceRoots` when the caller is
 *   given such a list (the API passes config.json `kanban.workspace_roots` for tenant tokens; the
 *   operator is unrestricted). The check is lexical: the path is normalised, so `..` cannot climb out
 *   of a root. Symlinks inside a root are resolved, and judged, by the dispatcher when it spawns.
 */
export interface WorkspaceRules {
  /** Absolute directories a `dir`/`worktree` path must lie in (the root itself counts); null/undefined = anywhere. */
  allowedWorkspaceRoots?: readonly string[] | null;
}

function notAllowed(message: string, details: Record<string, unknown>): KernelError {
  return new KernelError("WORKSPACE_PATH_NOT_ALLOWED", message, details);
}

/** Whether absolute `candidate` is `root` or lies below it, after normalising both (`..`, `//`, trailing `/`). */
function isWithinRoot(root: string, candidate: string): boolean {
  // Relative roots would be judged against the process's working directory: never a match.
  if (!path.isAbsolute(root) || !path.isAbsolute(candidate)) return false;
  const rel = path.relative(path.normalize(root), path.normalize(candidate));
  return rel === "" || (rel !== ".." && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

/** Refuses a caller-chosen scratch path. */
export function checkScratchPath(kind: string, callerPath: string | null): void {
  if (kind === "scratch" && callerPath !== null) {
    throw notAllowed(
      "a scratch workspace's path is chosen by the dispatcher (a fresh directory per task); drop workspace_path, or use a dir: workspace for a directory of your own",
      { workspace_kind: kind },
    );
  }
}

/**
 * Refuses a `dir`/`worktree` path outside the allowed roots. `fromBoardDefault`: the path is the
 * board's default workdir rather than the caller's, so the message does not echo a server path.
 */
export function checkWorkspaceRoots(
  kind: string,
  workspacePath: string | null,
  rules: WorkspaceRules,
  fromBoardDefault = false,
): void {
  const roots = rules.allowedWorkspaceRoots;
  if (roots === null || roots === undefined || workspacePath === null || kind === "scratch") return;
  if (roots.some((root) => isWithinRoot(root, workspacePath))) return;
  const what = fromBoardDefault ? "the board's default workdir" : `workspace path '${workspacePath}'`;
  throw notAllowed(
    roots.length === 0
      ? `${kind} workspaces are not enabled for this caller (no workspace roots are configured: config.json kanban.workspace_roots); use a scratch workspace`
      : `${what} is outside the workspace roots this server allows (config.json kanban.workspace_roots)`,
    { workspace_kind: kind },
  );
}
