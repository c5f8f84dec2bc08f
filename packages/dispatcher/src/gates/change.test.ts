import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { gitRepo } from "../../test/helpers.ts";
import { collectChange } from "./change.ts";

/** The change a card's work made, read from real git repositories and worktrees. */
let root: string;
beforeEach(() => {
  root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "kanban-gate-change-")));
});
afterEach(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

const git = (cwd: string, ...args: string[]) =>
  execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.com", ...args], { cwd, encoding: "utf8" });

/** Everything that says what state a repository is in: each checkout's status, HEADs, branches and index. */
function snapshot(repo: string, tree: string): string {
  const index = (dir: string) => {
    const gitDir = git(dir, "rev-parse", "--absolute-git-dir").trim();
    return fs.readFileSync(path.join(gitDir, "index")).toString("base64");
  };
  return JSON.stringify([
    git(repo, "status", "--porcelain"),
    git(tree, "status", "--porcelain"),
    git(repo, "for-each-ref"),
    git(tree, "rev-parse", "HEAD"),
    git(repo, "stash", "list"),
    index(repo),
    index(tree),
  ]);
}

describe("collectChange", { timeout: 30_000 }, () => {
  it("finds a worktree's committed, uncommitted and untracked changes against where it left main, touching nothing", async () => {
    const repo = gitRepo(path.join(root, "repo"));
    fs.writeFileSync(path.join(repo, "lib.txt"), "one\ntwo\n");
    git(repo, "add", "lib.txt");
    git(repo, "commit", "-q", "-m", "lib");
    const base = git(repo, "rev-parse", "HEAD").trim();
    const tree = path.join(root, "tree");
    git(repo, "worktree", "add", "-q", "-b", "wt/t_1", tree, "HEAD");
    // Committed on the branch, changed but not committed, and a new file never added.
    fs.writeFileSync(path.join(tree, "feature.txt"), "the feature\n");
    git(tree, "add", "feature.txt");
    git(tree, "commit", "-q", "-m", "feature");
    fs.writeFileSync(path.join(tree, "lib.txt"), "one\ntwo\nthree\n");
    fs.writeFileSync(path.join(tree, "notes.md"), "untracked note\n");
    // main moves on after the branch left it: its commit is not the work's.
    fs.writeFileSync(path.join(repo, "later.txt"), "on main\n");
    git(repo, "add", "later.txt");
    git(repo, "commit", "-q", "-m", "later");

    const before = snapshot(repo, tree);
    const change = await collectChange({ kind: "worktree", path: tree });
    expect(snapshot(repo, tree)).toBe(before);

    expect(change?.base).toBe(base);
    expect(change?.files).toEqual(
      expect.arrayContaining([
        { path: "feature.txt", status: "A" },
        { path: "lib.txt", status: "M" },
        { path: "notes.md", status: "A" },
      ]),
    );
    expect(change?.files).toHaveLength(3);
    expect(change?.diff).toContain("+the feature");
    expect(change?.diff).toContain("+three");
    expect(change?.diff).toContain("+untracked note");
    expect(change?.diff).not.toContain("later.txt");
    expect(change?.truncated).toBe(false);
  });

  it("reads a git dir against its own HEAD when it has no upstream, and against its upstream when it has one", async () => {
    const origin = gitRepo(path.join(root, "origin"));
    const clone = path.join(root, "clone");
    git(root, "clone", "-q", origin, clone);
    const start = git(clone, "rev-parse", "HEAD").trim();
    fs.writeFileSync(path.join(clone, "a.txt"), "committed\n");
    git(clone, "add", "a.txt");
    git(clone, "commit", "-q", "-m", "a");
    fs.writeFileSync(path.join(clone, "README"), "hello\nedited\n");
    const withUpstream = await collectChange({ kind: "dir", path: clone });
    expect(withUpstream?.base).toBe(start);
    expect(withUpstream?.files).toEqual([
      { path: "README", status: "M" },
      { path: "a.txt", status: "A" },
    ]);

    const plain = gitRepo(path.join(root, "plain"));
    fs.writeFileSync(path.join(plain, "README"), "changed\n");
    const own = await collectChange({ kind: "dir", path: plain });
    expect(own?.base).toBe(git(plain, "rev-parse", "HEAD").trim());
    expect(own?.files).toEqual([{ path: "README", status: "M" }]);
    expect(own?.diff).toContain("+changed");
  });

  it("runs none of the programs the repository's config names, and a filter it must run sees no token", async () => {
    const repo = gitRepo(path.join(root, "hostile"));
    const marks = path.join(root, "marks");
    fs.mkdirSync(marks);
    // Each program the config could make git run records that it ran, and with which environment.
    const spy = path.join(root, "spy.js");
    fs.writeFileSync(
      spy,
      `const fs = require("fs"); fs.writeFileSync(${JSON.stringify(marks)} + "/" + process.argv[2], JSON.stringify(process.env));
if (process.argv[2] === "clean") process.stdin.pipe(process.stdout);`,
    );
    const run = (what: string) => `${process.execPath} ${spy} ${what}`;
    fs.writeFileSync(path.join(repo, ".gitattributes"), "*.txt diff=spy filter=spy\n");
    fs.writeFileSync(path.join(repo, "a.txt"), "one\n");
    git(repo, "add", ".gitattributes", "a.txt");
    git(repo, "commit", "-q", "-m", "attrs");
    git(repo, "config", "diff.spy.textconv", run("textconv"));
    git(repo, "config", "diff.spy.command", run("external"));
    git(repo, "config", "core.fsmonitor", run("fsmonitor"));
    git(repo, "config", "filter.spy.clean", run("clean"));
    fs.writeFileSync(path.join(repo, "a.txt"), "two\n");
    const saved = process.env.KANBAN_TOKEN;
    process.env.KANBAN_TOKEN = "kbt_not_for_the_work";
    try {
      const change = await collectChange({ kind: "dir", path: repo });
      expect(change?.files).toEqual([{ path: "a.txt", status: "M" }]);
      expect(change?.diff).toContain("+two");
    } finally {
      if (saved === undefined) delete process.env.KANBAN_TOKEN;
      else process.env.KANBAN_TOKEN = saved;
    }
    const ran = fs.readdirSync(marks);
    expect(ran.filter((m) => m !== "clean")).toEqual([]);
    for (const m of ran) expect(fs.readFileSync(path.join(marks, m), "utf8")).not.toContain("kbt_not_for_the_work");
  });

  it("cuts a diff longer than the limit and says so", async () => {
    const repo = gitRepo(path.join(root, "big"));
    // 500 kB of new lines: more than GATE_LIMITS.diff_chars (400 000).
    fs.writeFileSync(path.join(repo, "big.txt"), `${"y".repeat(99)}\n`.repeat(5000));
    const change = await collectChange({ kind: "dir", path: repo });
    expect(change?.truncated).toBe(true);
    expect(change?.diff.length).toBe(400_000);
  });

  it("has nothing to say of a scratch workspace, a plain directory or one that is gone", async () => {
    expect(await collectChange({ kind: "scratch", path: root })).toBeNull();
    expect(await collectChange({ kind: "dir", path: root })).toBeNull();
    expect(await collectChange({ kind: "dir", path: path.join(root, "gone") })).toBeNull();
    expect(await collectChange({ kind: "worktree", path: null })).toBeNull();
  });
});
