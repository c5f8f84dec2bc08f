import fs from "node:fs";
import path from "node:path";
import type { Task } from "@kanban/kernel";
import { WorkspaceError } from "./errors.ts";

export function requireAbsolute(task: Pick<Task, "id">, p: string): string {
  if (!path.isAbsolute(p)) {
    throw new WorkspaceError(
      `task ${task.id} has non-absolute workspace_path '${p}'; use an absolute path (relative paths are ambiguous against the dispatcher's CWD)`,
    );
  }
  return path.normalize(p);
}

/**
 * Creates a workspace directory (and its parents). `serverChosen`: the path is the server's (a
 * scratch directory), so the safe message leaves it out.
 */
export function mkdirp(task: Pick<Task, "id">, kind: string, p: string, serverChosen: boolean): void {
  const refuse = (reason: string, errno: string): never => {
    throw new WorkspaceError(`its ${kind} workspace ${reason} at ${p} (${errno})`, {
      safeMessage: serverChosen ? `its ${kind} workspace ${reason} (${errno})` : undefined,
      details: { task_id: task.id, workspace_kind: kind, error: errno },
    });
  };
  try {
    fs.mkdirSync(p, { recursive: true });
  } catch (err) {
    refuse("cannot be created", (err as NodeJS.ErrnoException).code ?? "error");
  }
  // mkdir -p accepts an existing path: a symlink to a file must not pass as a directory.
  if (!fs.statSync(p).isDirectory()) refuse("exists and is not a directory", "ENOTDIR");
}
