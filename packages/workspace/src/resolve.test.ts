import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import type { BoardLocation } from "@kanban/db";
import { makeTempDir } from "@kanban/db/testing";
import type { Task } from "@kanban/kernel";
import { afterEach, describe, expect, it } from "vitest";
import { gitRepo } from "./testing.ts";
import { allowedRootsFor, cleanupScratch, isStrictDescendant, resolveWorkspace, WorkspaceError } from "./index.ts";

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
  return execFileSync("git", ["branch", "--format=%(refname:short)"], { cwd: repo, encoding: "utf8" })
    .trim()
    .split("\n");
}

function ctx(home: string, defaultWorkdir: string | null = null) {
  const location: BoardLocation = { home };
  return { location, board: "default", defaultWorkdir };
}

describe("resolveWorkspace", () => {
  it("creates a scratch directory under the board's workspaces root", async () => {
    const home = tmp();
    const ws = await resolveWorkspace(task({}), ctx(home));
    expect(ws).toEqual({ kind: "scratch", path: path.join(home, "kanban", "workspaces", "t_00000001"), branch: null });
    expect(fs.statSync(ws.path).isDirectory()).toBe(true);
    const other = await resolveWorkspace(task({}), { ...ctx(home), board: "proj" });
    expect(other.path).toBe(path.join(home, "kanban", "boards", "proj", "workspaces", "t_00000001"));
  });

  it("creates a missing dir: workspace, and rejects relative paths with the spec's message", async () => {
    const home = tmp();
    const dir = path.join(home, "project", "deep");
    expect(await resolveWorkspace(task({ workspace_kind: "dir", workspace_path: dir }), ctx(home))).toEqual({
      kind: "dir",
      path: dir,
      branch: null,
    });
    expect(fs.existsSync(dir)).toBe(true);
    await expect(
      resolveWorkspace(task({ workspace_kind: "dir", workspace_path: "rel/dir" }), ctx(home)),
    ).rejects.toThrow(
      new WorkspaceError(
        "task t_00000001 has non-absolute workspace_path 'rel/dir'; use an absolute path (relative paths are ambiguous against the dispatcher's CWD)",
      ),
    );
    await expect(resolveWorkspace(task({ workspace_kind: "dir" }), ctx(home))).rejects.toThrow(
      "has workspace_kind=dir but no workspace_path",
    );
  });

  it("a scratch workspace is always the dispatcher's own <root>/<task id>, whatever workspace_path says", async () => {
    const home = tmp();
    const other = (await resolveWorkspace(task({ id: "t_0000000a" }), ctx(home))).path;
    fs.writeFileSync(path.join(other, "live.txt"), "another task's work");
    const project = path.join(home, "my-project");
    for (const given of [other, project, "relative/x"]) {
      const ws = await resolveWorkspace(task({ workspace_path: given }), ctx(home));
      expect(ws.path).toBe(path.join(home, "kanban", "workspaces", "t_00000001"));
    }
    expect(fs.existsSync(project)).toBe(false);
    expect(fs.readFileSync(path.join(other, "live.txt"), "utf8")).toBe("another task's work");
  });

  it("refuses a symlink planted at a task's scratch path (permanently)", async () => {
    const home = tmp();
    const root = path.join(home, "kanban", "workspaces");
    const outside = path.join(home, "precious");
    fs.mkdirSync(root, { recursive: true });
    fs.mkdirSync(outside);
    fs.symlinkSync(outside, path.join(root, "t_00000001"));
    const err = await (async () => {
      try {
        await resolveWorkspace(task({}), ctx(home));
      } catch (e) {
        return e as WorkspaceError;
      }
      throw new Error("expected a refusal");
    })();
    expect(err).toBeInstanceOf(WorkspaceError);
    expect(err.permanent).toBe(true);
  });

  it("adds a git worktree on wt/<id> under <repo>/.worktrees, and reuses it on a retry", async () => {
    const repo = gitRepo(path.join(tmp(), "repo"));
    const t = task({ workspace_kind: "worktree", workspace_path: repo });
    const ws = await resolveWorkspace(t, ctx(tmp()));
    const target = path.join(repo, ".worktrees", "t_00000001");
    expect(ws).toEqual({ kind: "worktree", path: target, branch: "wt/t_00000001" });
    expect(fs.readFileSync(path.join(target, "README"), "utf8")).toBe("hello\n");
    expect(branches(repo)).toContain("wt/t_00000001");
    // A retry after a crash: the persisted path is now the worktree itself.
    expect(await resolveWorkspace({ ...t, workspace_path: target, branch_name: "wt/t_00000001" }, ctx(tmp()))).toEqual(
      ws,
    );
    // ...or still the repo: the existing checkout is reused.
    expect(await resolveWorkspace(t, ctx(tmp()))).toEqual(ws);
  });

  it("anchors a path-less worktree at the board's default workdir, with the task's own branch", async () => {
    const repo = gitRepo(path.join(tmp(), "repo"));
    fs.mkdirSync(path.join(repo, "src"));
    const ws = await resolveWorkspace(
      task({ workspace_kind: "worktree", branch_name: "feature/x" }),
      ctx(tmp(), path.join(repo, "src")),
    );
    expect(ws).toEqual({ kind: "worktree", path: path.join(repo, ".worktrees", "t_00000001"), branch: "feature/x" });
    expect(branches(repo)).toContain("feature/x");
  });

  it("creates a worktree at a new path inside a repository", async () => {
    const repo = gitRepo(path.join(tmp(), "repo"));
    const target = path.join(repo, "trees", "mine");
    expect(await resolveWorkspace(task({ workspace_kind: "worktree", workspace_path: target }), ctx(tmp()))).toEqual({
      kind: "worktree",
      path: target,
      branch: "wt/t_00000001",
    });
    expect(fs.existsSync(path.join(target, "README"))).toBe(true);
  });

  it("refuses worktrees outside a git repository or without any anchor", async () => {
    const plain = tmp();
    await expect(
      resolveWorkspace(task({ workspace_kind: "worktree", workspace_path: plain }), ctx(tmp())),
    ).rejects.toThrow("is not inside a git repository");
    await expect(resolveWorkspace(task({ workspace_kind: "worktree" }), ctx(tmp()))).rejects.toThrow(
      "the board has no default workdir",
    );
    await expect(
      resolveWorkspace(task({ workspace_kind: "worktree", workspace_path: "repo" }), ctx(tmp())),
    ).rejects.toThrow("non-absolute workspace_path");
  });
});

describe("cleanupScratch", () => {
  it("removes only the task's own <root>/<task id>, never the path the task records", async () => {
    const home = tmp();
    const loc = ctx(home);
    const inside = (await resolveWorkspace(task({}), loc)).path;
    fs.writeFileSync(path.join(inside, "out.txt"), "x");
    const other = (await resolveWorkspace(task({ id: "t_0000000a" }), loc)).path;
    const project = path.join(home, "my-project");
    fs.mkdirSync(project);
    const root = path.join(home, "kanban", "workspaces");
    // Recorded paths naming another task's directory, a project or the root itself are not looked at.
    for (const recorded of [other, project, root])
      expect(cleanupScratch(task({ id: "t_0000000b", workspace_path: recorded }), loc)).toBe("absent");
    expect(cleanupScratch(task({ workspace_path: other }), loc)).toBe("removed");
    expect(fs.existsSync(inside)).toBe(false);
    expect(cleanupScratch(task({}), loc)).toBe("absent");
    expect(cleanupScratch(task({ workspace_kind: "dir", workspace_path: project }), loc)).toBe("skipped");
    expect(fs.existsSync(project) && fs.existsSync(root) && fs.existsSync(other)).toBe(true);
  });

  it("sees through symlinks and '..' that leave the root", async () => {
    const home = tmp();
    const root = path.join(home, "kanban", "workspaces");
    const outside = path.join(home, "precious");
    fs.mkdirSync(root, { recursive: true });
    fs.mkdirSync(outside);
    fs.symlinkSync(outside, path.join(root, "link"));
    expect(isStrictDescendant(root, path.join(root, "link"))).toBe(false);
    expect(isStrictDescendant(root, path.join(root, "..", "precious"))).toBe(false);
    expect(isStrictDescendant(root, path.join(root, "t_1"))).toBe(true);
    fs.symlinkSync(outside, path.join(root, "t_00000001"));
    expect(cleanupScratch(task({}), ctx(home))).toBe("refused");
    expect(fs.existsSync(outside)).toBe(true);
  });
});

describe("workspace roots for tenant tasks (config.json kanban.workspace_roots)", () => {
  async function refusal(fn: () => Promise<unknown>): Promise<WorkspaceError> {
    try {
      await fn();
    } catch (e) {
      if (e instanceof WorkspaceError) return e;
      throw e;
    }
    throw new Error("expected a WorkspaceError");
  }

  it("a tenant's dir: path must lie under an allowed root, symlinks resolved; nothing is created outside", async () => {
    const home = tmp();
    const root = path.join(home, "tenant-roots");
    fs.mkdirSync(root);
    const tenantCtx = { ...ctx(home), allowedRoots: [root] };
    const inside = path.join(root, "acme", "project");
    expect((await resolveWorkspace(task({ workspace_kind: "dir", workspace_path: inside }), tenantCtx)).path).toBe(
      inside,
    );
    expect((await resolveWorkspace(task({ workspace_kind: "dir", workspace_path: root }), tenantCtx)).path).toBe(root);

    const outside = path.join(home, "elsewhere", "deep");
    const err = await refusal(() =>
      resolveWorkspace(task({ workspace_kind: "dir", workspace_path: outside }), tenantCtx),
    );
    expect(err.permanent).toBe(true);
    expect(err.message).toContain("outside the workspace roots allowed for tenant tasks");
    expect(fs.existsSync(path.join(home, "elsewhere"))).toBe(false);

    // A symlink inside the root that leads out of it, and '..' climbing out.
    const secret = path.join(home, "secret");
    fs.mkdirSync(secret);
    fs.symlinkSync(secret, path.join(root, "escape"));
    expect(
      (
        await refusal(() =>
          resolveWorkspace(task({ workspace_kind: "dir", workspace_path: path.join(root, "escape", "x") }), tenantCtx),
        )
      ).permanent,
    ).toBe(true);
    expect(fs.existsSync(path.join(secret, "x"))).toBe(false);
    expect(
      (
        await refusal(() =>
          resolveWorkspace(task({ workspace_kind: "dir", workspace_path: `${root}/../secret` }), tenantCtx),
        )
      ).permanent,
    ).toBe(true);

    // No roots configured: no dir: workspace for tenants at all. Admin tasks (null) go anywhere.
    expect(
      (
        await refusal(() =>
          resolveWorkspace(task({ workspace_kind: "dir", workspace_path: inside }), { ...ctx(home), allowedRoots: [] }),
        )
      ).message,
    ).toContain("kanban.workspace_roots is empty");
    expect(
      (
        await resolveWorkspace(task({ workspace_kind: "dir", workspace_path: outside }), {
          ...ctx(home),
          allowedRoots: null,
        })
      ).path,
    ).toBe(outside);
  });

  it("a tenant's worktree needs its anchor and its repository under an allowed root: no branch is added elsewhere", async () => {
    const home = tmp();
    const repo = gitRepo(path.join(home, "outside-repo"));
    const root = path.join(home, "tenant-roots");
    fs.mkdirSync(root);
    const before = branches(repo);
    const t = task({ workspace_kind: "worktree", workspace_path: repo });
    expect((await refusal(() => resolveWorkspace(t, { ...ctx(home), allowedRoots: [root] }))).permanent).toBe(true);
    // An anchor inside the root that is a symlink to the repository outside it.
    fs.symlinkSync(repo, path.join(root, "repo-link"));
    const linked = task({ workspace_kind: "worktree", workspace_path: path.join(root, "repo-link") });
    expect((await refusal(() => resolveWorkspace(linked, { ...ctx(home), allowedRoots: [root] }))).permanent).toBe(
      true,
    );
    // The board's default workdir is judged the same way.
    expect(
      (
        await refusal(() =>
          resolveWorkspace(task({ workspace_kind: "worktree" }), { ...ctx(home, repo), allowedRoots: [root] }),
        )
      ).message,
    ).toContain("default workdir");
    expect(branches(repo)).toEqual(before);
    expect(fs.existsSync(path.join(repo, ".worktrees"))).toBe(false);
    // A repository inside the root is fine.
    const allowed = gitRepo(path.join(root, "repo"));
    expect(
      (
        await resolveWorkspace(task({ workspace_kind: "worktree", workspace_path: allowed }), {
          ...ctx(home),
          allowedRoots: [root],
        })
      ).branch,
    ).toBe("wt/t_00000001");
  });
});

describe("allowedRootsFor: who is confined is decided by the task's tenant, not by who claims it", () => {
  it("confines a tenant's task to the roots (none configured = none allowed) and leaves an operator task free", () => {
    expect(allowedRootsFor({ tenant: "acme" }, ["/srv/tenants"])).toEqual(["/srv/tenants"]);
    expect(allowedRootsFor({ tenant: "acme" }, [])).toEqual([]);
    expect(allowedRootsFor({ tenant: "acme" }, null)).toEqual([]);
    expect(allowedRootsFor({ tenant: null }, ["/srv/tenants"])).toBeNull();
    expect(allowedRootsFor({ tenant: "  " }, ["/srv/tenants"])).toBeNull();
  });

  it("a tenant's dir: task outside the roots is refused whoever resolves it; an operator task there is made", async () => {
    const home = tmp();
    const root = path.join(home, "tenant-roots");
    fs.mkdirSync(root);
    const outside = path.join(home, "elsewhere");
    const tenantTask = task({ workspace_kind: "dir", workspace_path: outside, tenant: "acme" });
    await expect(
      resolveWorkspace(tenantTask, { ...ctx(home), allowedRoots: allowedRootsFor(tenantTask, [root]) }),
    ).rejects.toMatchObject({ code: "WORKSPACE_PATH_NOT_ALLOWED", permanent: true });
    expect(fs.existsSync(outside)).toBe(false);
    const operatorTask = task({ workspace_kind: "dir", workspace_path: outside, tenant: null });
    const ws = await resolveWorkspace(operatorTask, {
      ...ctx(home),
      allowedRoots: allowedRootsFor(operatorTask, [root]),
    });
    expect(ws.path).toBe(outside);
  });
});
