import { execFileSync } from "node:child_process";
import path from "node:path";
import { WorkspaceError } from "./errors.ts";
import { realpath } from "./paths.ts";

/**
 * Runs git synchronously and returns its trimmed stdout. A failure is a WorkspaceError naming the
 * command, the directory and git's last line of stderr; its safe message names only the command
 * (git's output quotes paths, which may be the server's).
 */
export function git(args: string[], cwd: string): string {
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
    throw new WorkspaceError(`git ${args.join(" ")} failed in ${cwd}: ${detail}`, {
      safeMessage: `git ${args[0] ?? ""} failed for the worktree workspace`,
    });
  }
}

export function tryGit(args: string[], cwd: string): string | null {
  try {
    return git(args, cwd);
  } catch {
    return null;
  }
}

export interface RepoInfo {
  /** Top level of the checkout that contains the probed directory. */
  top: string;
  /** Top level of the main worktree (the repository itself). */
  mainRoot: string;
  /** Whether `top` is a linked worktree rather than the main checkout. */
  linked: boolean;
}

/** The checkout that contains `dir`, or null when `dir` is not inside a git repository. */
export function repoInfo(dir: string): RepoInfo | null {
  // One git process for the three answers (each spawn costs tens of ms, and the API's claim runs
  // this inside its write transaction). Fails outside a repository.
  const lines = tryGit(["rev-parse", "--show-toplevel", "--git-dir", "--git-common-dir"], dir)?.split("\n") ?? [];
  // A path with a newline in it cannot be told apart: treated as no repository (a refusal, never a wrong path).
  if (lines.length !== 3 || lines.some((l) => l === "")) return null;
  const [top, gitDir, commonDir] = lines.map((l, i) => (i === 0 ? realpath(l) : realpath(path.resolve(dir, l))));
  return { top: top as string, mainRoot: path.dirname(commonDir as string), linked: gitDir !== commonDir };
}

export function branchExists(repo: string, branch: string): boolean {
  return tryGit(["show-ref", "--verify", "--quiet", `refs/heads/${branch}`], repo) !== null;
}
