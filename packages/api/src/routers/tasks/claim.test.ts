import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { gitRepo } from "@kanban/workspace/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createTestApi, type TestApi } from "../../testing.ts";

/**
 * tasks.claim materialises the workspace with the dispatcher's rule (@kanban/workspace): a worktree
 * task gets its worktree, and a tenant's path is judged with symlinks resolved. Whatever refuses the
 * workspace undoes the claim.
 */
let t: TestApi;
beforeEach(() => {
  t = createTestApi();
});
afterEach(() => t.cleanup());

/** What a refused claim must leave as it was: the row's claim fields, its events and its runs. */
async function trace(id: string) {
  const b = t.board();
  const { status, claim_lock, current_run_id, workspace_path, branch_name } = await b.requireTask(id);
  return {
    task: { status, claim_lock, current_run_id, workspace_path, branch_name },
    events: (await b.listEvents(id)).map((e) => e.kind),
    runs: (await b.listRuns(id, { include_active: true })).length,
  };
}

describe("tasks.claim: the dispatcher's workspace rule", () => {
  it("a worktree task gets its own checkout on wt/<id> under <repo>/.worktrees, recorded on the task", async () => {
    const repo = gitRepo(path.join(fs.realpathSync(t.dir), "repo"));
    const { task } = await t.api.tasks.create({ title: "wt", workspace: `worktree:${repo}` });
    const r = await t.api.tasks.claim({ id: task.id });
    const target = path.join(repo, ".worktrees", task.id);
    expect(r.workspace).toBe(target);
    expect(r.task).toMatchObject({ workspace_path: target, branch_name: `wt/${task.id}` });
    expect(fs.readFileSync(path.join(target, "README"), "utf8")).toBe("hello\n");
    const head = execFileSync("git", ["rev-parse", "--abbrev-ref", "HEAD"], { cwd: target, encoding: "utf8" }).trim();
    expect(head).toBe(`wt/${task.id}`);
    expect(await t.board().requireTask(task.id)).toMatchObject({
      status: "running",
      workspace_path: target,
      branch_name: `wt/${task.id}`,
    });
  });

  it("a worktree that cannot be made (not a repository) is a 409 and undoes the claim", async () => {
    const plain = path.join(t.dir, "plain");
    fs.mkdirSync(plain);
    const { task } = await t.api.tasks.create({ title: "wt", workspace: `worktree:${plain}` });
    const before = await trace(task.id);
    await expect(t.api.tasks.claim({ id: task.id })).rejects.toMatchObject({
      code: "CONFLICT",
      message: `cannot claim ${task.id}: worktree anchor ${plain} is not inside a git repository`,
    });
    expect(await trace(task.id)).toEqual(before);
    expect(before.task).toMatchObject({ status: "ready", claim_lock: null, current_run_id: null });
    // Once it is a repository the same task claims normally.
    gitRepo(plain);
    expect((await t.api.tasks.claim({ id: task.id })).workspace).toBe(path.join(plain, ".worktrees", task.id));
  });

  it("a tenant's dir: path through a symlink inside its root that leads out is a 400: no claim, nothing created outside", async () => {
    const root = path.join(t.dir, "tenant-work");
    const outside = path.join(t.dir, "not-for-tenants");
    fs.mkdirSync(root);
    fs.mkdirSync(outside);
    fs.symlinkSync(outside, path.join(root, "sneaky"));
    t.writeConfig({ kanban: { workspace_roots: [root] } });
    const acme = t.caller("acme");
    // Lexically under the root, so create accepts it; really outside it.
    const { task } = await acme.tasks.create({ title: "via link", workspace: `dir:${path.join(root, "sneaky", "x")}` });
    const before = await trace(task.id);
    await expect(acme.tasks.claim({ id: task.id })).rejects.toMatchObject({
      code: "BAD_REQUEST",
      message: `cannot claim ${task.id}: the workspace path is outside the workspace roots allowed for tenant tasks (config.json kanban.workspace_roots, symlinks resolved)`,
      cause: { code: "WORKSPACE_PATH_NOT_ALLOWED" },
    });
    expect(await trace(task.id)).toEqual(before);
    expect(fs.existsSync(path.join(outside, "x"))).toBe(false);
  });
});
