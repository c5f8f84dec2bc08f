import fs from "node:fs";
import path from "node:path";
import type { BoardLocation } from "@kanban/db";
import { makeTempDir } from "@kanban/db/testing";
import { KernelError, type Task } from "@kanban/kernel";
import { afterEach, describe, expect, it } from "vitest";
import { resolveWorkspace, WorkspaceError } from "./index.ts";
import { gitRepo } from "./testing.ts";

/**
 * The refusals are typed for both users of the rule: a KernelError whose code the API maps (400 for a
 * path the caller may not use, 409 for a workspace that cannot be made), `permanent` for the
 * dispatcher's block, and a safe message that names no path the server chose.
 */
const temps: { cleanup: () => void }[] = [];
afterEach(() => {
  for (const t of temps.splice(0)) t.cleanup();
});
function tmp(): string {
  const t = makeTempDir("kanban-wserr-");
  temps.push(t);
  return fs.realpathSync(t.dir);
}
function task(over: Partial<Task>): Task {
  return { id: "t_00000001", workspace_kind: "scratch", workspace_path: null, branch_name: null, ...over } as Task;
}
function ctx(home: string, defaultWorkdir: string | null = null, allowedRoots: string[] | null = null) {
  const location: BoardLocation = { home };
  return { location, board: "default", defaultWorkdir, allowedRoots };
}
async function refusal(fn: () => Promise<unknown>): Promise<WorkspaceError> {
  try {
    await fn();
  } catch (e) {
    if (e instanceof WorkspaceError) return e;
    throw e;
  }
  throw new Error("expected a WorkspaceError");
}

describe("WorkspaceError", () => {
  it("a path outside the allowed roots is WORKSPACE_PATH_NOT_ALLOWED, permanent, and names no path", async () => {
    const home = tmp();
    const root = path.join(home, "roots");
    fs.mkdirSync(root);
    const outside = path.join(home, "outside", "p");
    const err = await refusal(() =>
      resolveWorkspace(task({ workspace_kind: "dir", workspace_path: outside }), ctx(home, null, [root])),
    );
    expect(err).toBeInstanceOf(KernelError);
    expect(err).toMatchObject({
      code: "WORKSPACE_PATH_NOT_ALLOWED",
      permanent: true,
      details: { task_id: "t_00000001", workspace_kind: "dir" },
    });
    expect(err.message).not.toContain(home);
    expect(fs.existsSync(path.join(home, "outside"))).toBe(false);
  });

  it("a scratch directory that cannot be made is WRONG_STATE; only the operator's message names its path", async () => {
    const home = tmp();
    const root = path.join(home, "kanban", "workspaces");
    fs.mkdirSync(path.dirname(root), { recursive: true });
    fs.writeFileSync(root, "a file where the workspaces root should be");
    const err = await refusal(() => resolveWorkspace(task({}), ctx(home)));
    expect(err).toMatchObject({
      code: "WRONG_STATE",
      permanent: false,
      details: { task_id: "t_00000001", workspace_kind: "scratch", error: "ENOTDIR" },
    });
    expect(err.messageFor(true)).toBe(
      `its scratch workspace cannot be created at ${path.join(root, "t_00000001")} (ENOTDIR)`,
    );
    expect(err.messageFor(false)).toBe("its scratch workspace cannot be created (ENOTDIR)");
  });

  it("a dir: path that cannot be made names the caller's own path to every caller; a symlink to a file is no directory", async () => {
    const home = tmp();
    const blocker = path.join(home, "a-file");
    fs.writeFileSync(blocker, "x");
    const err = await refusal(() =>
      resolveWorkspace(task({ workspace_kind: "dir", workspace_path: path.join(blocker, "work") }), ctx(home)),
    );
    expect(err.code).toBe("WRONG_STATE");
    expect(err.messageFor(false)).toBe(
      `its dir workspace cannot be created at ${path.join(blocker, "work")} (ENOTDIR)`,
    );
    const link = path.join(home, "link");
    fs.symlinkSync(blocker, link);
    expect(
      (await refusal(() => resolveWorkspace(task({ workspace_kind: "dir", workspace_path: link }), ctx(home)))).message,
    ).toBe(`its dir workspace cannot be created at ${link} (EEXIST)`);
  });

  it("a worktree anchored at the board's default workdir keeps that path (and git's output) out of the safe message", async () => {
    const home = tmp();
    const plain = path.join(home, "not-a-repo");
    fs.mkdirSync(plain);
    const err = await refusal(() => resolveWorkspace(task({ workspace_kind: "worktree" }), ctx(home, plain)));
    expect(err.message).toContain(plain);
    expect(err.messageFor(false)).toBe("worktree anchor the board's default workdir is not inside a git repository");

    // git itself refuses: the branch name is not a valid ref.
    const repo = gitRepo(path.join(home, "repo"));
    const bad = await refusal(() =>
      resolveWorkspace(task({ workspace_kind: "worktree", branch_name: "bad..name" }), ctx(home, repo)),
    );
    expect(bad.message).toContain(repo);
    expect(bad.messageFor(false)).toBe("git worktree failed for the worktree workspace");
    expect(bad.messageFor(false)).not.toContain(home);
  });
});
