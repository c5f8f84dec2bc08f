import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { gitRepo } from "@kanban/workspace/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createTestApi, type TestApi, waitFor } from "../../testing.ts";

/**
 * tasks.claim materialises the workspace with the dispatcher's rule (@kanban/workspace): a worktree
 * task gets its worktree, and a tenant's task's path is judged with symlinks resolved, whoever
 * claims it. The workspace is made between two transactions (claim, make, record); whatever refuses
 * it gives the claim back: the task is ready again with no failure counted.
 */
let t: TestApi;
beforeEach(() => {
  t = createTestApi();
});
afterEach(() => t.cleanup());

/** What a refused claim must leave as it was: the row's claim, workspace and breaker fields. */
async function trace(id: string) {
  const { status, claim_lock, current_run_id, workspace_path, branch_name, consecutive_failures, last_failure_error } =
    await t.board().requireTask(id);
  return { status, claim_lock, current_run_id, workspace_path, branch_name, consecutive_failures, last_failure_error };
}

/** A refused claim was given back: its run closed as `reclaimed`, no failure booked (no spawn_failed, no gave_up). */
async function givenBack(id: string) {
  const b = t.board();
  const kinds = (await b.listEvents(id)).map((e) => e.kind);
  expect(kinds).not.toContain("spawn_failed");
  expect(kinds).not.toContain("gave_up");
  const runs = await b.listRuns(id, { include_active: true });
  expect(runs.at(-1)).toMatchObject({ outcome: "reclaimed" });
  expect(runs.every((r) => r.ended_at !== null)).toBe(true);
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

  it("a worktree that cannot be made (not a repository) is a 409 and gives the claim back: ready, unclaimed, no failure counted", async () => {
    const plain = path.join(t.dir, "plain");
    fs.mkdirSync(plain);
    const { task } = await t.api.tasks.create({ title: "wt", workspace: `worktree:${plain}` });
    // A streak from an earlier attempt: the refusal neither adds to it nor wipes it.
    await t.board().recordTaskFailure(task.id, { error: "earlier crash", outcome: "crashed" });
    const before = await trace(task.id);
    expect(before).toMatchObject({ status: "ready", claim_lock: null, current_run_id: null, consecutive_failures: 1 });
    await expect(t.api.tasks.claim({ id: task.id })).rejects.toMatchObject({
      code: "CONFLICT",
      message: `cannot claim ${task.id}: worktree anchor ${plain} is not inside a git repository`,
    });
    expect(await trace(task.id)).toEqual(before);
    await givenBack(task.id);
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
    await givenBack(task.id);
    expect(fs.existsSync(path.join(outside, "x"))).toBe(false);
  });
});

describe("tasks.claim: who is confined is the task's tenant, not the caller", () => {
  it("the operator claiming a tenant's dir: task outside the roots is refused with WORKSPACE_PATH_NOT_ALLOWED; its own task there is not", async () => {
    const root = path.join(t.dir, "tenant-work");
    fs.mkdirSync(root);
    const outside = path.join(root, "proj");
    const acme = t.caller("acme");
    t.writeConfig({ kanban: { workspace_roots: [root] } });
    const { task } = await acme.tasks.create({ title: "in", workspace: `dir:${outside}` });
    // The roots change: the tenant's path is now outside them, whoever claims the task.
    t.writeConfig({ kanban: { workspace_roots: [path.join(t.dir, "other-root")] } });
    const before = await trace(task.id);
    await expect(t.api.tasks.claim({ id: task.id })).rejects.toMatchObject({
      code: "BAD_REQUEST",
      cause: { code: "WORKSPACE_PATH_NOT_ALLOWED" },
    });
    expect(await trace(task.id)).toEqual(before);
    expect(fs.existsSync(outside)).toBe(false);
    // An operator task (no tenant) at the same path is the operator's business.
    const mine = await t.api.tasks.create({ title: "mine", workspace: `dir:${outside}` });
    expect((await t.api.tasks.claim({ id: mine.task.id })).workspace).toBe(outside);
  });
});

describe("tasks.claim: the board is not write-locked while a worktree is made", () => {
  let savedPath: string | undefined;
  beforeEach(() => {
    savedPath = process.env.PATH;
  });
  afterEach(() => {
    process.env.PATH = savedPath;
  });

  /**
   * A `git` first on PATH that, for `git worktree …`, says it started and then waits for a gate file
   * before running the real git: the claim is held inside its materialisation for as long as the
   * test wants, with no clock involved. (It gives up after ~10 s, so a claim that blocks the whole
   * process fails the test instead of hanging it.)
   */
  function gatedGit(dir: string): { started: string; gate: string } {
    const real = execFileSync("sh", ["-c", "command -v git"], { encoding: "utf8" }).trim();
    const bin = path.join(dir, "gated-bin");
    fs.mkdirSync(bin);
    const started = path.join(dir, "git-worktree-started");
    const gate = path.join(dir, "git-worktree-go");
    fs.writeFileSync(
      path.join(bin, "git"),
      [
        "#!/bin/sh",
        'if [ "$1" = "worktree" ]; then',
        `  : > '${started}'`,
        "  i=0",
        `  while [ ! -e '${gate}' ]; do sleep 0.05; i=$((i+1)); [ "$i" -gt 200 ] && exit 1; done`,
        "fi",
        `exec '${real}' "$@"`,
        "",
      ].join("\n"),
      { mode: 0o755 },
    );
    process.env.PATH = `${bin}${path.delimiter}${process.env.PATH ?? ""}`;
    return { started, gate };
  }

  it("another write to the same board completes while a worktree claim is still making its worktree", async () => {
    const repo = gitRepo(path.join(fs.realpathSync(t.dir), "repo"));
    const { task } = await t.api.tasks.create({ title: "wt", workspace: `worktree:${repo}` });
    const { started, gate } = gatedGit(t.dir);
    let claimSettled = false;
    const claim = t.api.tasks.claim({ id: task.id }).finally(() => {
      claimSettled = true;
    });
    claim.catch(() => {}); // awaited below; no unhandled rejection while the other write runs
    await waitFor(() => fs.existsSync(started), 10_000, "git worktree add to start");
    // The claim is inside `git worktree add`: the board must still take a write.
    const other = await t.api.tasks.create({ title: "written meanwhile" });
    expect(claimSettled).toBe(false);
    expect((await t.board().requireTask(other.task.id)).status).toBe("ready");
    // The claim is already committed (the task is running) but its workspace is not recorded yet.
    expect(await t.board().requireTask(task.id)).toMatchObject({ status: "running", workspace_path: repo });
    fs.writeFileSync(gate, "");
    const r = await claim;
    const target = path.join(repo, ".worktrees", task.id);
    expect(r.workspace).toBe(target);
    expect(r.task).toMatchObject({ status: "running", workspace_path: target, branch_name: `wt/${task.id}` });
    expect(await t.board().requireTask(task.id)).toMatchObject({
      workspace_path: target,
      branch_name: `wt/${task.id}`,
    });
  });
});
