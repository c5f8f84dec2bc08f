import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { type BoardLocation, workspacesRoot } from "@kanban/db";
import type { Task } from "@kanban/kernel";

/**
 * Where a worker runs (spec §3.5). Resolved after the claim and persisted on the task:
 *   scratch   `<board workspaces root>/<task id>/` (or an explicit absolute path), created
 *   dir       the task's absolute `workspace_path`, created if missing, never removed
 *   worktree  a git worktree on branch `branch_name` (default `wt/<task id>`) at
 *             `<repo>/.worktrees/<task id>`, repo = the task's path or the board's default workdir
 */
export interface ResolvedWorkspace {
  kind: "scratch" | "dir" | "worktree";
  path: string;
  /** The worktree branch; null for scratch and dir. */
  branch: string | null;
}

export class WorkspaceError extends Error {
  override readonly name = "WorkspaceError";
}

export interface WorkspaceContext {
  location: BoardLocation;
  /** Board slug (for the scratch root). */
  board: string;
  /** The board's default project directory (board.json `default_workdir`). */
  defaultWorkdir: string | null;
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
    return execFileSync("git", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 60_000 }).trim();
  } catch (err) {
    const e = err as { stderr?: string | Buffer; message: string; code?: string };
    if (e.code === "ENOENT") throw new WorkspaceError("git is not installed (needed for worktree workspaces)");
    const detail = String(e.stderr ?? "").trim().split("\n").pop() || e.message;
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
    throw new WorkspaceError(`cannot create worktree at ${target}: the directory exists and is not an empty git worktree`);
  }
  if (branchExists(repoRoot, branch)) git(["worktree", "add", target, branch], repoRoot);
  else git(["worktree", "add", "-b", branch, target, "HEAD"], repoRoot);
}

function resolveWorktree(task: Task, ctx: WorkspaceContext): ResolvedWorkspace {
  const branch = task.branch_name?.trim() || `wt/${task.id}`;
  const given = task.workspace_path?.trim() || null;
  const anchorRaw = given ?? ctx.defaultWorkdir;
  if (anchorRaw === null || anchorRaw === "") {
    throw new WorkspaceError(`task ${task.id} has workspace_kind=worktree but no workspace_path, and the board has no default workdir`);
  }
  const anchor = requireAbsolute(task, anchorRaw);
  if (!fs.existsSync(anchor)) {
    // A path that does not exist yet: it must lie inside a repository, and becomes the worktree.
    const info = repoInfo(nearestExisting(anchor));
    if (info === null) throw new WorkspaceError(`worktree path ${anchor} is not inside a git repository`);
    materialiseWorktree(info.mainRoot, anchor, branch);
    return { kind: "worktree", path: anchor, branch };
  }
  const info = repoInfo(anchor);
  if (info === null) throw new WorkspaceError(`worktree anchor ${anchor} is not inside a git repository`);
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
    const p = given === null ? path.join(workspacesRoot(ctx.location, ctx.board), task.id) : requireAbsolute(task, given);
    mkdirp(p);
    return { kind: "scratch", path: p, branch: null };
  }
  if (kind === "dir") {
    if (given === null) throw new WorkspaceError(`task ${task.id} has workspace_kind=dir but no workspace_path`);
    const p = requireAbsolute(task, given);
    mkdirp(p);
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
 * Removes a finished task's scratch directory, but only when it is a strict descendant of the
 * board's managed workspaces root (a scratch task pointed at someone's project directory must never
 * be deleted). Returns what happened, for logging.
 */
export function cleanupScratch(
  task: Pick<Task, "id" | "workspace_kind" | "workspace_path">,
  ctx: Pick<WorkspaceContext, "location" | "board">,
): "removed" | "absent" | "refused" | "skipped" {
  if ((task.workspace_kind || "scratch") !== "scratch" || !task.workspace_path) return "skipped";
  const p = task.workspace_path;
  if (!path.isAbsolute(p) || !fs.existsSync(p)) return "absent";
  const root = workspacesRoot(ctx.location, ctx.board);
  if (!isStrictDescendant(root, p)) return "refused";
  fs.rmSync(p, { recursive: true, force: true });
  return "removed";
}
