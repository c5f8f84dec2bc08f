import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { type ChangeEvidence, GATE_LIMITS } from "@kanban/kernel";

/**
 * What a card's work changed, recorded beside its acceptance commands' results: the files and the
 * diff of its workspace against the point it started from. Only read: nothing here stages, commits
 * or otherwise touches the repository (every git call is a query).
 */
export interface ChangeWorkspace {
  kind: string | null;
  path: string | null;
}

const GIT_TIMEOUT_MS = 30_000;
/** git's own output is read whole, so it is bounded: a diff beyond this is cut anyway. */
const MAX_BUFFER = GATE_LIMITS.diff_chars * 4 + 1024 * 1024;

function gitEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ["PATH", "HOME", "LANG", "TMPDIR"]) {
    const v = process.env[name];
    if (typeof v === "string" && v !== "") env[name] = v;
  }
  return env;
}

interface GitOut {
  code: number | null;
  stdout: string;
}

/** Runs git with argv (no shell) in `cwd`; a non-zero exit is returned, not thrown. */
function git(cwd: string, args: string[]): Promise<GitOut> {
  return new Promise((resolve) => {
    execFile(
      "git",
      // The repository's own config may name programs (fsmonitor, textconv, external diff): none is run.
      ["-c", "core.quotePath=false", "-c", "core.fsmonitor=false", ...args],
      {
        cwd,
        timeout: GIT_TIMEOUT_MS,
        maxBuffer: MAX_BUFFER,
        encoding: "utf8",
        // The workspace is the work's, and a filter its attributes name would run with this
        // environment: the same minimal one as the acceptance commands, no token. No pager, no prompts,
        // and never the optional index refresh (a read must leave the repository as it was).
        env: { ...gitEnv(), GIT_PAGER: "cat", GIT_TERMINAL_PROMPT: "0", LC_ALL: "C", GIT_OPTIONAL_LOCKS: "0" },
      },
      (err, stdout) => {
        const code = err
          ? typeof (err as { code?: unknown }).code === "number"
            ? (err as { code: number }).code
            : null
          : 0;
        resolve({ code, stdout: typeof stdout === "string" ? stdout : "" });
      },
    );
  });
}

async function revParse(cwd: string, args: string[]): Promise<string | null> {
  const r = await git(cwd, ["rev-parse", ...args]);
  const out = r.stdout.trim();
  return r.code === 0 && out !== "" ? out : null;
}

async function mergeBase(cwd: string, a: string, b: string): Promise<string | null> {
  const r = await git(cwd, ["merge-base", a, b]);
  const out = r.stdout.trim();
  return r.code === 0 && out !== "" ? out : null;
}

/**
 * Where the work started. A worktree: where its branch left the main checkout's HEAD. A directory:
 * where it left its upstream, if it has one. Otherwise its own HEAD (the uncommitted change only).
 */
async function baseOf(cwd: string, kind: "worktree" | "dir"): Promise<string | null> {
  const head = await revParse(cwd, ["--verify", "-q", "HEAD"]);
  if (head === null) return null;
  if (kind === "worktree") {
    const common = await revParse(cwd, ["--git-common-dir"]);
    if (common !== null) {
      // The common directory's HEAD is the main checkout's HEAD.
      const gitDir = path.resolve(cwd, common);
      const mainHead = await gitDirHead(gitDir);
      if (mainHead !== null) {
        const mb = await mergeBase(cwd, "HEAD", mainHead);
        if (mb !== null) return mb;
      }
    }
    return head;
  }
  const upstream = await revParse(cwd, ["--verify", "-q", "@{upstream}"]);
  if (upstream !== null) {
    const mb = await mergeBase(cwd, "HEAD", upstream);
    if (mb !== null) return mb;
  }
  return head;
}

/** The commit the HEAD of the git directory `gitDir` names. */
async function gitDirHead(gitDir: string): Promise<string | null> {
  const r = await git(gitDir, [`--git-dir=${gitDir}`, "rev-parse", "--verify", "-q", "HEAD"]);
  const out = r.stdout.trim();
  return r.code === 0 && out !== "" ? out : null;
}

function parseNameStatus(text: string): { path: string; status: string }[] {
  const files: { path: string; status: string }[] = [];
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const parts = line.split("\t");
    const status = parts[0] ?? "";
    // A rename or copy names both paths: the new one is the file the work has now.
    const file = parts.at(-1);
    if (file !== undefined && status !== "") files.push({ path: file, status: status.charAt(0) });
  }
  return files;
}

/**
 * The change of a `worktree` or git `dir` workspace; null for a scratch workspace, a missing
 * directory or one that is not a git repository.
 */
export async function collectChange(workspace: ChangeWorkspace): Promise<ChangeEvidence | null> {
  const kind = workspace.kind;
  const cwd = workspace.path;
  if ((kind !== "worktree" && kind !== "dir") || cwd === null) return null;
  try {
    if (!fs.statSync(cwd).isDirectory()) return null;
  } catch {
    return null;
  }
  if ((await revParse(cwd, ["--is-inside-work-tree"])) !== "true") return null;
  const base = await baseOf(cwd, kind);
  // A repository with no commit yet: everything in it is new, against the empty tree.
  const against = base ?? (await emptyTree(cwd));
  const files = parseNameStatus(
    (await git(cwd, ["diff", "--no-color", "--no-ext-diff", "--no-textconv", "--name-status", against])).stdout,
  );
  const untracked = (await git(cwd, ["ls-files", "-z", "--others", "--exclude-standard"])).stdout
    .split("\0")
    .filter((f) => f !== "");
  for (const f of untracked) files.push({ path: f, status: "A" });

  let diff = (await git(cwd, ["diff", "--no-color", "--no-ext-diff", "--no-textconv", against])).stdout;
  let truncated = false;
  for (const [i, f] of untracked.entries()) {
    // One git process per new file: a tree of thousands of unignored files is cut like a long diff.
    if (diff.length >= GATE_LIMITS.diff_chars || i >= GATE_LIMITS.files) {
      truncated = true;
      break;
    }
    // Exits 1 when the files differ, which a new file always does.
    const r = await git(cwd, [
      "diff",
      "--no-color",
      "--no-ext-diff",
      "--no-textconv",
      "--no-index",
      "--",
      "/dev/null",
      f,
    ]);
    diff += r.stdout;
  }
  if (diff.length > GATE_LIMITS.diff_chars) {
    diff = diff.slice(0, GATE_LIMITS.diff_chars);
    truncated = true;
  }
  return {
    base,
    files: files.slice(0, GATE_LIMITS.files),
    diff,
    truncated: truncated || files.length > GATE_LIMITS.files,
  };
}

async function emptyTree(cwd: string): Promise<string> {
  const r = await git(cwd, ["hash-object", "-t", "tree", "/dev/null"]);
  return r.stdout.trim() || "4b825dc642cb6eb9a060e54bf8d69288fbee4904";
}
