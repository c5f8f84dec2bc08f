import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { type BoardLocation, workspacesRoot } from "@kanban/db";
import type { Task } from "@kanban/kernel";

/**
 * Where a worker runs (spec §3.5). Resolved after the claim and persisted on the task:
 *   scratch   always `<board workspaces root>/<task id>/`, created, and removed once the task is
 *             finished. A `workspace_path` on a scratch task (a row written by Hermes or before
 *             callers were refused one) is ignored: a caller could otherwise name another task's
 *             live directory, or anyone's, and have the cleanup delete it.
 *   dir       the task's absolute `workspace_path`, created if missing, never removed
 *   worktree  a git worktree on branch `branch_name` (default `wt/<task id>`) at
 *             `<repo>/.worktrees/<task id>`, repo = the task's path or the board's default workdir
 * A tenant's `dir`/`worktree` path (and a worktree's repository) must lie under one of
 * config.json's `kanban.workspace_roots` once symlinks are resolved; otherwise the spawn is
 * refused with a permanent {@link WorkspaceError} (the task is blocked, not retried in a loop).
 */
export interface ResolvedWorkspace {
  kind: "scratch" | "dir" | "worktree";
  path: string;
  /** The worktree branch; null for scratch and dir. */
  branch: string | null;
}

export class WorkspaceError extends Error {
  override readonly name = "WorkspaceError";
  constructor(
    message: string,
    /** Retrying cannot help (a path outside the allowed roots): the task is blocked at once. */
    readonly permanent = false,
  ) {
    super(message);
  }
}

export interface WorkspaceContext {
  location: BoardLocation;
  /** Board slug (for the scratch root). */
  board: string;
  /** The board's default project directory (board.json `default_workdir`). */
  defaultWorkdir: string | null;
  /**
   * Where this task's `dir`/`worktree` workspace may be: config.json `kanban.workspace_roots` for a
   * tenant's task; null/undefined (an admin task) = anywhere.
   */
  allowedRoots?: readonly string[] | null;
}

/** The scratch directory of a task: the only place the dispatcher creates, and deletes, for it. */
export function scratchPath(ctx: Pick<WorkspaceContext, "location" | "board">, taskId: string): string {
  return path.join(workspacesRoot(ctx.location, ctx.board), taskId);
}

function requireAbsolute(task: Pick<Task, "id">, p: string): string {
  if (!path.isAbsolute(p)) {
    throw new WorkspaceError(
      `task ${task.id} has non-absolute workspace_path '${p}'; use an absolute path (relative paths are ambiguous against the dispatcher's CWD)`,
    );
  }
  return path.normalize(p);
}

function mkdirp(p: string): void {
  try {
    fs.mkdirSync(p, { recursive: true });
  } catch (err) {
    throw new WorkspaceError(`cannot create workspace ${p}: ${(err as Error).message}`);
  }
  if (!fs.statSync(p).isDirectory()) throw new WorkspaceError(`workspace ${p} exists and is not a directory`);
}

function git(args: string[], cwd: string): string {
  try {
    return execFileSync("git", args, {
      cwd,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 60_000,
    }).trim();
  } catch (err) {
    const e = err as { stderr?: string | Buffer; message: string; code?: string };
    if (e.code === "ENOENT") throw new WorkspaceError("git is not installed (needed for worktree workspaces)");
    const detail =
      String(e.stderr ?? "")
        .trim()
        .split("\n")
        .pop() || e.message;
    throw new WorkspaceError(`git ${args.join(" ")} failed in ${cwd}: ${detail}`);
  }
}

function tryGit(args: string[], cwd: string): string | null {
  try {
    return git(args, cwd);
  } catch {
    return null;
  }
}

function realpath(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}

function nearestExisting(p: string): string {
  let cur = p;
  while (!fs.existsSync(cur)) {
    const up = path.dirname(cur);
    if (up === cur) break;
    cur = up;
  }
  return cur;
}

/** `p` with symlinks resolved, also when its last parts do not exist yet (resolved up to the nearest existing ancestor). */
function resolvedPath(p: string): string {
  const base = nearestExisting(p);
  return path.join(realpath(base), path.relative(base, p));
}

function insideOrAt(root: string, p: string): boolean {
  const rel = path.relative(root, p);
  return rel === "" || (rel !== ".." && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

/** Refuses (permanently) a path of a tenant's task that is not under an allowed root, symlinks resolved. */
function checkAllowed(task: Pick<Task, "id" | "workspace_kind">, p: string, ctx: WorkspaceContext, what: string): void {
  const roots = ctx.allowedRoots;
  if (roots === null || roots === undefined) return;
  const real = resolvedPath(p);
  if (roots.some((root) => path.isAbsolute(root) && insideOrAt(resolvedPath(root), real))) return;
  const kind = task.workspace_kind || "scratch";
  throw new WorkspaceError(
    roots.length === 0
      ? `task ${task.id}: ${kind} workspaces are not allowed for tenant tasks on this host (config.json kanban.workspace_roots is empty); use a scratch workspace`
      : `task ${task.id}: the ${what} is outside the workspace roots allowed for tenant tasks (config.json kanban.workspace_roots, symlinks resolved)`,
    true,
  );
}

interface RepoInfo {
  /** Top level of the checkout that contains the probed directory. */
  top: string;
  /** Top level of the main worktree (the repository itself). */
  mainRoot: string;
  /** Whether `top` is a linked worktree rather than the main checkout. */
  linked: boolean;
}

function repoInfo(dir: string): RepoInfo | null {
  const top = tryGit(["rev-parse", "--show-toplevel"], dir);
  if (top === null || top === "") return null;
  const gitDir = realpath(path.resolve(dir, git(["rev-parse", "--git-dir"], dir)));
  const commonDir = realpath(path.resolve(dir, git(["rev-parse", "--git-common-dir"], dir)));
  return { top: realpath(top), mainRoot: path.dirname(commonDir), linked: gitDir !== commonDir };
}

function branchExists(repo: string, branch: string): boolean {
  return tryGit(["show-ref", "--verify", "--quiet", `refs/heads/${branch}`], repo) !== null;
}

function isWorktreeRoot(p: string): boolean {
  if (!fs.existsSync(p)) return false;
  const info = repoInfo(p);
  return info !== null && info.top === realpath(p);
}

function materialiseWorktree(repoRoot: string, target: string, branch: string): void {
  if (isWorktreeRoot(target)) return; // a retry after a crash: the checkout is already there
  if (fs.existsSync(target) && fs.readdirSync(target).length > 0) {
    throw new WorkspaceError(
      `cannot create worktree at ${target}: the directory exists and is not an empty git worktree`,
    );
  }
  if (branchExists(repoRoot, branch)) git(["worktree", "add", target, branch], repoRoot);
  else git(["worktree", "add", "-b", branch, target, "HEAD"], repoRoot);
}

function resolveWorktree(task: Task, ctx: WorkspaceContext): ResolvedWorkspace {
  const branch = task.branch_name?.trim() || `wt/${task.id}`;
  const given = task.workspace_path?.trim() || null;
  const anchorRaw = given ?? ctx.defaultWorkdir;
  if (anchorRaw === null || anchorRaw === "") {
    throw new WorkspaceError(
      `task ${task.id} has workspace_kind=worktree but no workspace_path, and the board has no default workdir`,
    );
  }
  const anchor = requireAbsolute(task, anchorRaw);
  checkAllowed(task, anchor, ctx, given === null ? "board's default workdir" : "workspace path");
  if (!fs.existsSync(anchor)) {
    // A path that does not exist yet: it must lie inside a repository, and becomes the worktree.
    const info = repoInfo(nearestExisting(anchor));
    if (info === null) throw new WorkspaceError(`worktree path ${anchor} is not inside a git repository`);
    // Branches and worktrees are added to that repository: it must be allowed too.
    checkAllowed(task, info.mainRoot, ctx, "repository of the worktree");
    materialiseWorktree(info.mainRoot, anchor, branch);
    return { kind: "worktree", path: anchor, branch };
  }
  const info = repoInfo(anchor);
  if (info === null) throw new WorkspaceError(`worktree anchor ${anchor} is not inside a git repository`);
  checkAllowed(task, info.mainRoot, ctx, "repository of the worktree");
  if (info.linked && info.top === realpath(anchor)) {
    const current = tryGit(["rev-parse", "--abbrev-ref", "HEAD"], anchor);
    if (current === branch) return { kind: "worktree", path: anchor, branch };
  }
  // The repository itself (or a checkout on another branch): siblings never share a checkout.
  const target = path.join(info.mainRoot, ".worktrees", task.id);
  materialiseWorktree(info.mainRoot, target, branch);
  return { kind: "worktree", path: target, branch };
}

/** Materialises the workspace of a claimed task. Throws {@link WorkspaceError} with a one-line reason. */
export function resolveWorkspace(task: Task, ctx: WorkspaceContext): ResolvedWorkspace {
  const kind = task.workspace_kind || "scratch";
  const given = task.workspace_path?.trim() || null;
  if (kind === "scratch") {
    const p = scratchPath(ctx, task.id);
    mkdirp(p);
    // A symlink planted at our path (by another task's worker, say) must not become the workspace.
    if (fs.lstatSync(p).isSymbolicLink() || !isStrictDescendant(workspacesRoot(ctx.location, ctx.board), p)) {
      throw new WorkspaceError(
        `scratch workspace of ${task.id} is not a plain directory inside the board's workspaces root`,
        true,
      );
    }
    return { kind: "scratch", path: p, branch: null };
  }
  if (kind === "dir") {
    if (given === null) throw new WorkspaceError(`task ${task.id} has workspace_kind=dir but no workspace_path`);
    const p = requireAbsolute(task, given);
    checkAllowed(task, p, ctx, "workspace path");
    mkdirp(p);
    // Judged again now that it exists: a symlink swapped in meanwhile is resolved too.
    checkAllowed(task, p, ctx, "workspace path");
    return { kind: "dir", path: p, branch: null };
  }
  if (kind === "worktree") return resolveWorktree(task, ctx);
  throw new WorkspaceError(`task ${task.id} has unknown workspace_kind '${kind}'`);
}

/** Whether `child` lies strictly below `root`, both as written and with symlinks resolved. */
export function isStrictDescendant(root: string, child: string): boolean {
  const inside = (r: string, c: string) => {
    const rel = path.relative(r, c);
    return rel !== "" && !rel.startsWith("..") && !path.isAbsolute(rel);
  };
  return inside(path.resolve(root), path.resolve(child)) && inside(realpath(root), realpath(child));
}

/**
 * Removes a finished scratch task's directory: only `<workspaces root>/<task id>`, the one the
 * dispatcher made for it, never the task's recorded `workspace_path` (which a caller or an older
 * writer may have pointed at another task's directory or at a project). A symlink there, or a path
 * that resolves outside the root, is refused. Returns what happened, for logging.
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
