import path from "node:path";
import { type BoardLocation, workspacesRoot } from "@kanban/db";

/** Where a claimed task's worker runs: the directory, and the branch of a worktree. */
export interface ResolvedWorkspace {
  kind: "scratch" | "dir" | "worktree";
  path: string;
  /** The worktree branch; null for scratch and dir. */
  branch: string | null;
}

/** What the rule needs to know about the board and about who is confined. */
export interface WorkspaceContext {
  location: BoardLocation;
  /** Board slug (for the scratch root). */
  board: string;
  /** The board's default project directory (board.json `default_workdir`). */
  defaultWorkdir: string | null;
  /**
   * Where a `dir`/`worktree` workspace may be: config.json `kanban.workspace_roots` for a tenant's
   * task, null/undefined = anywhere (an operator task). Both callers take it from
   * `allowedRootsFor` (roots.ts), so the dispatcher and the API confine the same tasks.
   */
  allowedRoots?: readonly string[] | null;
}

/** The scratch directory of a task: the only place ever created, and deleted, for it by this rule. */
export function scratchPath(ctx: Pick<WorkspaceContext, "location" | "board">, taskId: string): string {
  return path.join(workspacesRoot(ctx.location, ctx.board), taskId);
}
