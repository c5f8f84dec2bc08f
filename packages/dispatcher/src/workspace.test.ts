import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import type { BoardLocation } from "@kanban/db";
import { makeTempDir } from "@kanban/db/testing";
import type { Task } from "@kanban/kernel";
import { afterEach, describe, expect, it } from "vitest";
import { gitRepo } from "../test/helpers.ts";
import { cleanupScratch, isStrictDescendant, resolveWorkspace, WorkspaceError } from "./workspace.ts";

const temps: { cleanup: () => void }[] = [];
afterEach(() => {
  for (const t of temps.splice(0)) t.cleanup();
});
function tmp(): string {
  const t = makeTempDir("kanban-ws-");
  temps.push(t);
  return fs.realpathSync(t.dir);
}

function task(over: Partial<Task>): Task {
  return { id: "t_00000001", workspace_kind: "scratch", workspace_path: null, branch_name: null, ...over } as Task;
}

function branches(repo: string): string[] {
  return execFileSync("git", ["branch", "--format=%(refname:short)"], { cwd: repo, encoding: "utf8" }).trim().split("\n");
}

function ctx(home: string, defaultWorkdir: string | null = null) {
  const location: BoardLocation = { home };
  return { location, board: "default", defaultWorkdir };
}

describe("resolveWorkspace", () => {
  it("creates a scratch directory under the board's workspaces root", () => {
    const home = tmp();
    const ws = resolveWorkspace(task({}), ctx(home));
    expect(ws).toEqual({ kind: "scratch", path: path.join(home, "kanban", "workspaces", "t_00000001"), branch: null });
    expect(fs.statSync(ws.path).isDirectory()).toBe(true);
    const other = resolveWorkspace(task({}), { ...ctx(home), board: "proj" });
    expect(other.path).toBe(path.join(home, "kanban", "boards", "proj", "workspaces", "t_00000001"));
  });

  it("creates a missing dir: workspace, and rejects relative paths with the spec's message", () => {
    const home = tmp();
    const dir = path.join(home, "project", "deep");
    expect(resolveWorkspace(task({ workspace_kind: "dir", workspace_path: dir }), ctx(home))).toEqual({ kind: "dir", path: dir, branch: null });
    expect(fs.existsSync(dir)).toBe(true);
    expect(() => resolveWorkspace(task({ workspace_kind: "dir", workspace_path: "rel/dir" }), ctx(home))).toThrow(
      new WorkspaceError(
        "task t_00000001 has non-absolute workspace_path 'rel/dir'; use an absolute path (relative paths are ambiguous against the dispatcher's CWD)",
      ),
    );
    expect(() => resolveWorkspace(task({ workspace_kind: "dir" }), ctx(home))).toThrow("has workspace_kind=dir but no workspace_path");
    expect(() => resolveWorkspace(task({ workspace_kind: "scratch", workspace_path: "x" }), ctx(home))).toThrow("non-absolute workspace_path");
  });

  it("adds a git worktree on wt/<id> under <repo>/.worktrees, and reuses it on a retry", () => {
    const repo = gitRepo(path.join(tmp(), "repo"));
    const t = task({ workspace_kind: "worktree", workspace_path: repo });
    const ws = resolveWorkspace(t, ctx(tmp()));
    const target = path.join(repo, ".worktrees", "t_00000001");
    expect(ws).toEqual({ kind: "worktree", path: target, branch: "wt/t_00000001" });
    expect(fs.readFileSync(path.join(target, "README"), "utf8")).toBe("hello\n");
    expect(branches(repo)).toContain("wt/t_00000001");
    // A retry after a crash: the persisted path is now the worktree itself.
    expect(resolveWorkspace({ ...t, workspace_path: target, branch_name: "wt/t_00000001" }, ctx(tmp()))).toEqual(ws);
    // ...or still the repo: the existing checkout is reused.
    expect(resolveWorkspace(t, ctx(tmp()))).toEqual(ws);
  });

  it("anchors a path-less worktree at the board's default workdir, with the task's own branch", () => {
    const repo = gitRepo(path.join(tmp(), "repo"));
    fs.mkdirSync(path.join(repo, "src"));
    const ws = resolveWorkspace(task({ workspace_kind: "worktree", branch_name: "feature/x" }), ctx(tmp(), path.join(repo, "src")));
    expect(ws).toEqual({ kind: "worktree", path: path.join(repo, ".worktrees", "t_00000001"), branch: "feature/x" });
    expect(branches(repo)).toContain("feature/x");
  });

  it("creates a worktree at a new path inside a repository", () => {
    const repo = gitRepo(path.join(tmp(), "repo"));
    const target = path.join(repo, "trees", "mine");
    expect(resolveWorkspace(task({ workspace_kind: "worktree", workspace_path: target }), ctx(tmp()))).toEqual({
      kind: "worktree",
      path: target,
      branch: "wt/t_00000001",
    });
    expect(fs.existsSync(path.join(target, "README"))).toBe(true);
  });

  it("refuses worktrees outside a git repository or without any anchor", () => {
    const plain = tmp();
    expect(() => resolveWorkspace(task({ workspace_kind: "worktree", workspace_path: plain }), ctx(tmp()))).toThrow("is not inside a git repository");
    expect(() => resolveWorkspace(task({ workspace_kind: "worktree" }), ctx(tmp()))).toThrow("the board has no default workdir");
    expect(() => resolveWorkspace(task({ workspace_kind: "worktree", workspace_path: "repo" }), ctx(tmp()))).toThrow("non-absolute workspace_path");
  });
});

describe("cleanupScratch", () => {
  it("removes only scratch directories strictly inside the managed root", () => {
    const home = tmp();
    const loc = ctx(home);
    const inside = resolveWorkspace(task({}), loc).path;
    fs.writeFileSync(path.join(inside, "out.txt"), "x");
    expect(cleanupScratch(task({ workspace_path: inside }), loc)).toBe("removed");
    expect(fs.existsSync(inside)).toBe(false);
    expect(cleanupScratch(task({ workspace_path: inside }), loc)).toBe("absent");

    const project = path.join(home, "my-project");
    fs.mkdirSync(project);
    expect(cleanupScratch(task({ workspace_path: project }), loc)).toBe("refused");
    const root = path.join(home, "kanban", "workspaces");
    expect(cleanupScratch(task({ workspace_path: root }), loc)).toBe("refused");
    expect(cleanupScratch(task({ workspace_kind: "dir", workspace_path: project }), loc)).toBe("skipped");
    expect(fs.existsSync(project) && fs.existsSync(root)).toBe(true);
  });

  it("sees through symlinks and '..' that leave the root", () => {
    const home = tmp();
    const root = path.join(home, "kanban", "workspaces");
    const outside = path.join(home, "precious");
    fs.mkdirSync(root, { recursive: true });
    fs.mkdirSync(outside);
    fs.symlinkSync(outside, path.join(root, "link"));
    expect(isStrictDescendant(root, path.join(root, "link"))).toBe(false);
    expect(isStrictDescendant(root, path.join(root, "..", "precious"))).toBe(false);
    expect(isStrictDescendant(root, path.join(root, "t_1"))).toBe(true);
    expect(cleanupScratch(task({ workspace_path: path.join(root, "link") }), ctx(home))).toBe("refused");
    expect(fs.existsSync(outside)).toBe(true);
  });
});
