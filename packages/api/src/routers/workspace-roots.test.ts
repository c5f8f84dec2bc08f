import fs from "node:fs";
import path from "node:path";
import { rawSql } from "@kanban/kernel/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createTestApi, type TestApi } from "../testing.ts";

let t: TestApi;
let root: string;
let outside: string;
beforeEach(() => {
  t = createTestApi();
  root = path.join(t.dir, "tenant-work");
  outside = path.join(t.dir, "elsewhere");
  fs.mkdirSync(root);
  t.writeConfig({ kanban: { workspace_roots: [root] } });
});
afterEach(() => t.cleanup());

async function taskCount(): Promise<number> {
  return Number((await rawSql(t.board()).get<{ n: number | string }>("SELECT COUNT(*) AS n FROM tasks"))?.n);
}

describe("workspace paths: tenants stay under kanban.workspace_roots", () => {
  it("a tenant's dir:/worktree path outside the roots is a 400 and creates nothing; inside is fine", async () => {
    const acme = t.caller("acme");
    const inside = (await acme.tasks.create({ title: "in", workspace: `dir:${path.join(root, "proj")}` })).task;
    expect(inside).toMatchObject({ workspace_kind: "dir", workspace_path: path.join(root, "proj"), tenant: "acme" });
    const n = await taskCount();
    for (const workspace of [`dir:${outside}`, `worktree:${outside}`, `dir:${root}/../elsewhere`, "dir:/etc"]) {
      await expect(acme.tasks.create({ title: "out", workspace })).rejects.toMatchObject({
        code: "BAD_REQUEST",
        message: expect.stringContaining("outside the workspace roots this server allows"),
      });
    }
    await expect(
      acme.tasks.create({ title: "out", workspace_kind: "dir", workspace_path: outside }),
    ).rejects.toMatchObject({ code: "BAD_REQUEST" });
    expect(await taskCount()).toBe(n);
  });

  it("with no roots configured a tenant gets scratch workspaces only; the operator is not confined", async () => {
    t.writeConfig({});
    const acme = t.caller("acme");
    await expect(acme.tasks.create({ title: "d", workspace: `dir:${root}` })).rejects.toMatchObject({
      code: "BAD_REQUEST",
      message: expect.stringContaining("dir workspaces are not enabled for this caller"),
    });
    expect((await acme.tasks.create({ title: "s" })).task.workspace_kind).toBe("scratch");
    expect((await t.api.tasks.create({ title: "op", workspace: `dir:${outside}` })).task.workspace_path).toBe(outside);
  });

  it("nobody chooses a scratch path, not even the operator (it would be deleted on completion)", async () => {
    const victim = (await t.api.tasks.create({ title: "victim" })).task;
    const claimed = await t.api.tasks.claim({ id: victim.id });
    for (const caller of [t.api, t.caller("acme")]) {
      await expect(
        caller.tasks.create({ title: "x", workspace_kind: "scratch", workspace_path: claimed.workspace as string }),
      ).rejects.toMatchObject({
        code: "BAD_REQUEST",
        cause: { code: "WORKSPACE_PATH_NOT_ALLOWED" },
      });
    }
  });

  it("a tenant's claim re-checks the roots: a dir: path the operator no longer allows is a 400, with no claim and no directory", async () => {
    const acme = t.caller("acme");
    const dir = path.join(root, "proj");
    const { task } = await acme.tasks.create({ title: "in", workspace: `dir:${dir}` });
    t.writeConfig({ kanban: { workspace_roots: [path.join(t.dir, "other-root")] } });
    await expect(acme.tasks.claim({ id: task.id })).rejects.toMatchObject({
      code: "BAD_REQUEST",
      cause: { code: "WORKSPACE_PATH_NOT_ALLOWED" },
    });
    expect(await t.board().requireTask(task.id)).toMatchObject({ status: "ready", claim_lock: null });
    expect(fs.existsSync(dir)).toBe(false);
    // The rule follows the task's tenant, not the caller: the operator's claim is refused the same way.
    await expect(t.api.tasks.claim({ id: task.id })).rejects.toMatchObject({
      code: "BAD_REQUEST",
      cause: { code: "WORKSPACE_PATH_NOT_ALLOWED" },
    });
    expect(fs.existsSync(dir)).toBe(false);
  });
});
