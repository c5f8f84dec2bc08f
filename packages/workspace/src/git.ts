import { execFile } from "node:child_process";
import path from "node:path";
import { WorkspaceError } from "./errors.ts";
import { realpath } from "./paths.ts";

/** git's stdout, or the error with its stderr attached (as execFileSync's would be). */
function runGit(args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile("git", args, { cwd, encoding: "utf8", timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) reject(Object.assign(err, { stderr }));
      else resolve(stdout);
    });
  });
}

/**
 * Runs git and returns its trimmed stdout. Asynchronous on purpose: a `git worktree add` takes a
 * fraction of a second (up to the 60 s limit), and the API process must keep answering other calls
 * meanwhile. A failure is a WorkspaceError naming the command, the directory and git's last line of
 * stderr; its safe message names only the command (git's output quotes paths, which may be the server's).
 */
export async function git(args: string[], cwd: string): Promise<string> {
  try {
    return (await runGit(args, cwd)).trim();
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

export async function tryGit(args: string[], cwd: string): Promise<string | null> {
  try {
    return await git(args, cwd);
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
export async function repoInfo(dir: string): Promise<RepoInfo | null> {
  // One git process for the three answers (each spawn costs tens of ms). Fails outside a repository.
  const lines =
    (await tryGit(["rev-parse", "--show-toplevel", "--git-dir", "--git-common-dir"], dir))?.split("\n") ?? [];
  // A path with a newline in it cannot be told apart: treated as no repository (a refusal, never a wrong path).
  if (lines.length !== 3 || lines.some((l) => l === "")) return null;
  const [top, gitDir, commonDir] = lines.map((l, i) => (i === 0 ? realpath(l) : realpath(path.resolve(dir, l))));
  return { top: top as string, mainRoot: path.dirname(commonDir as string), linked: gitDir !== commonDir };
}

export async function branchExists(repo: string, branch: string): Promise<boolean> {
  return (await tryGit(["show-ref", "--verify", "--quiet", `refs/heads/${branch}`], repo)) !== null;
}
