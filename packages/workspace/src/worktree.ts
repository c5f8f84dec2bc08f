import fs from "node:fs";
import path from "node:path";
import type { Task } from "@kanban/kernel";
import type { ResolvedWorkspace, WorkspaceContext } from "./context.ts";
import { requireAbsolute } from "./directory.ts";
import { WorkspaceError } from "./errors.ts";
import { branchExists, git, repoInfo, tryGit } from "./git.ts";
import { nearestExisting, realpath } from "./paths.ts";
import { checkAllowed } from "./roots.ts";

async function isWorktreeRoot(p: string): Promise<boolean> {
  if (!fs.existsSync(p)) return false;
  const info = await repoInfo(p);
  return info !== null && info.top === realpath(p);
}

/** Adds the checkout at `target` on `branch` (made from HEAD if new); a checkout already there is reused. */
async function addWorktree(repoRoot: string, target: string, branch: string, where: string): Promise<void> {
  if (await isWorktreeRoot(target)) return; // a retry after a crash: the checkout is already there
  if (fs.existsSync(target) && fs.readdirSync(target).length > 0) {
    throw new WorkspaceError(
      `cannot create worktree at ${target}: the directory exists and is not an empty git worktree`,
      { safeMessage: `cannot create the worktree in ${where}: the directory exists and is not an empty git worktree` },
    );
  }
  if (await branchExists(repoRoot, branch)) await git(["worktree", "add", target, branch], repoRoot);
  else await git(["worktree", "add", "-b", branch, target, "HEAD"], repoRoot);
}

/**
 * A git worktree on `branch_name` (default `wt/<task id>`). The anchor is the task's path, else the
 * board's default workdir: an existing linked worktree already on the branch is used as is; a path
 * that does not exist yet (inside a repository) becomes the worktree; otherwise the checkout goes to
 * `<repo>/.worktrees/<task id>` so siblings never share one. Messages about the board's default
 * workdir keep its path out of the safe message (it is the server's).
 */
export async function resolveWorktree(task: Task, ctx: WorkspaceContext): Promise<ResolvedWorkspace> {
  const branch = task.branch_name?.trim() || `wt/${task.id}`;
  const given = task.workspace_path?.trim() || null;
  const anchorRaw = given ?? ctx.defaultWorkdir;
  if (anchorRaw === null || anchorRaw === "") {
    throw new WorkspaceError(
      `task ${task.id} has workspace_kind=worktree but no workspace_path, and the board has no default workdir`,
      { details: { task_id: task.id, workspace_kind: "worktree" } },
    );
  }
  const where = given === null ? "the board's default workdir" : `'${given}'`;
  const anchor = requireAbsolute(task, anchorRaw);
  checkAllowed(task, anchor, ctx, given === null ? "board's default workdir" : "workspace path");
  if (!fs.existsSync(anchor)) {
    // A path that does not exist yet: it must lie inside a repository, and becomes the worktree.
    const info = await repoInfo(nearestExisting(anchor));
    if (info === null) {
      throw new WorkspaceError(`worktree path ${anchor} is not inside a git repository`, {
        safeMessage: `worktree path ${where} is not inside a git repository`,
      });
    }
    // Branches and worktrees are added to that repository: it must be allowed too.
    checkAllowed(task, info.mainRoot, ctx, "repository of the worktree");
    await addWorktree(info.mainRoot, anchor, branch, where);
    return { kind: "worktree", path: anchor, branch };
  }
  const info = await repoInfo(anchor);
  if (info === null) {
    throw new WorkspaceError(`worktree anchor ${anchor} is not inside a git repository`, {
      safeMessage: `worktree anchor ${where} is not inside a git repository`,
    });
  }
  checkAllowed(task, info.mainRoot, ctx, "repository of the worktree");
  if (info.linked && info.top === realpath(anchor)) {
    const current = await tryGit(["rev-parse", "--abbrev-ref", "HEAD"], anchor);
    if (current === branch) return { kind: "worktree", path: anchor, branch };
  }
  // The repository itself (or a checkout on another branch): siblings never share a checkout.
  const target = path.join(info.mainRoot, ".worktrees", task.id);
  await addWorktree(info.mainRoot, target, branch, `the repository of ${where}`);
  return { kind: "worktree", path: target, branch };
}
