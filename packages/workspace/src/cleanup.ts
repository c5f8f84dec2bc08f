import fs from "node:fs";
import path from "node:path";
import { workspacesRoot } from "@kanban/db";
import type { Task } from "@kanban/kernel";
import { scratchPath, type WorkspaceContext } from "./context.ts";
import { isStrictDescendant } from "./paths.ts";

/**
 * Removes a finished scratch task's directory: only `<workspaces root>/<task id>`, the one
 * {@link resolveWorkspace} made for it, never the task's recorded `workspace_path` (which a caller or
 * an older writer may have pointed at another task's directory or at a project). A symlink there, or
 * a path that resolves outside the root, is refused. Returns what happened, for logging.
 */
export function cleanupScratch(
  task: Pick<Task, "id" | "workspace_kind">,
  ctx: Pick<WorkspaceContext, "location" | "board">,
): "removed" | "absent" | "refused" | "skipped" {
  if ((task.workspace_kind || "scratch") !== "scratch") return "skipped";
  const p = scratchPath(ctx, task.id);
  let st: fs.Stats;
  try {
    st = fs.lstatSync(p);
  } catch {
    return "absent";
  }
  const root = workspacesRoot(ctx.location, ctx.board);
  if (st.isSymbolicLink() || !st.isDirectory() || path.basename(p) !== task.id || !isStrictDescendant(root, p))
    return "refused";
  fs.rmSync(p, { recursive: true, force: true });
  return "removed";
}
