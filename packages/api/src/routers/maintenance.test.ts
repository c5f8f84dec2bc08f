import fs from "node:fs";
import path from "node:path";
import { logsDir, workspacesRoot } from "@kanban/db";
import { rawSql } from "@kanban/kernel/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createTestApi, type TestApi } from "../testing.ts";

let t: TestApi;
beforeEach(() => {
  t = createTestApi();
});
afterEach(() => t.cleanup());

describe("maintenance.gc", () => {
  it("removes old events of finished tasks, old logs and archived scratch dirs inside the managed root only", async () => {
    const done = (await t.api.tasks.create({ title: "done" })).task;
    const live = (await t.api.tasks.create({ title: "live" })).task;
    const gone = (await t.api.tasks.create({ title: "gone" })).task;
    await t.api.tasks.complete({ id: done.id, summary: "ok" });
    await t.api.tasks.archive({ id: gone.id });
    const root = workspacesRoot(t.location, "default");
    fs.mkdirSync(path.join(root, gone.id), { recursive: true });
    fs.writeFileSync(path.join(root, gone.id, "out.txt"), "x");
    const outside = path.join(t.dir, "outside");
    fs.mkdirSync(outside);
    await rawSql(t.board()).run("UPDATE tasks SET workspace_path = ? WHERE id = ?", outside, gone.id);
    // An archived scratch task whose recorded path is a live task's scratch directory.
    const rogue = (await t.api.tasks.create({ title: "rogue" })).task;
    await t.api.tasks.archive({ id: rogue.id });
    fs.mkdirSync(path.join(root, live.id), { recursive: true });
    await rawSql(t.board()).run("UPDATE tasks SET workspace_path = ? WHERE id = ?", path.join(root, live.id), rogue.id);
    const logs = logsDir(t.location, "default");
    fs.mkdirSync(logs, { recursive: true });
    fs.writeFileSync(path.join(logs, `${done.id}.log`), "old");
    fs.writeFileSync(path.join(logs, `${live.id}.log`), "new");
    const old = new Date((t.clock.seconds - 40 * 86_400) * 1000);
    fs.utimesSync(path.join(logs, `${done.id}.log`), old, old);

    t.clock.advance(40 * 86_400);
    const eventsBefore = (await t.api.tasks.get({ id: live.id })).events.length;
    const r = await t.api.maintenance.gc({});
    // Only <root>/<archived id> goes: the recorded paths (outside, a live task's dir) are never touched.
    expect(r).toEqual({ workspaces: 1, events: expect.any(Number), logs: 1 });
    expect(r.events).toBeGreaterThan(0);
    expect(fs.existsSync(outside)).toBe(true);
    expect(fs.existsSync(path.join(root, live.id))).toBe(true);
    expect(fs.existsSync(path.join(root, gone.id))).toBe(false);
    expect(fs.existsSync(path.join(logs, `${live.id}.log`))).toBe(true);
    expect((await t.api.tasks.get({ id: live.id })).events.length).toBe(eventsBefore);

    expect((await t.api.maintenance.gc({})).workspaces).toBe(0);
  });

  it("shares the dispatcher's scratch rule: a symlink or a file named for an archived task is refused, not removed", async () => {
    const linked = (await t.api.tasks.create({ title: "linked" })).task;
    const filed = (await t.api.tasks.create({ title: "filed" })).task;
    const live = (await t.api.tasks.create({ title: "live" })).task;
    await t.api.tasks.archive({ id: linked.id });
    await t.api.tasks.archive({ id: filed.id });
    const root = workspacesRoot(t.location, "default");
    fs.mkdirSync(path.join(root, live.id), { recursive: true });
    fs.symlinkSync(path.join(root, live.id), path.join(root, linked.id));
    fs.writeFileSync(path.join(root, filed.id), "not a workspace");
    expect((await t.api.maintenance.gc({})).workspaces).toBe(0);
    expect(fs.lstatSync(path.join(root, linked.id)).isSymbolicLink()).toBe(true);
    expect(fs.existsSync(path.join(root, filed.id))).toBe(true);
    expect(fs.existsSync(path.join(root, live.id))).toBe(true);
  });

  it("is refused to a tenant-scoped caller", async () => {
    await expect(t.caller("acme").maintenance.gc({})).rejects.toMatchObject({ code: "FORBIDDEN" });
  });
});

describe("tasks.list include_links and tasks.claim workspace", () => {
  it("lists parents and children of each task in one call", async () => {
    const a = (await t.api.tasks.create({ title: "a" })).task;
    const b = (await t.api.tasks.create({ title: "b", parents: [a.id] })).task;
    const { tasks } = await t.api.tasks.list({ include_links: true });
    const byId = new Map(tasks.map((x) => [x.id, x]));
    expect(byId.get(a.id)).toMatchObject({ parents: [], children: [b.id] });
    expect(byId.get(b.id)).toMatchObject({ parents: [a.id], children: [] });
    expect((await t.api.tasks.list({})).tasks[0]).not.toHaveProperty("parents");
  });

  it("claim materialises a scratch workspace and returns its path", async () => {
    const a = (await t.api.tasks.create({ title: "a", assignee: "w" })).task;
    const r = await t.api.tasks.claim({ id: a.id, claimer: "me:1" });
    expect(r.workspace).toBe(path.join(workspacesRoot(t.location, "default"), a.id));
    expect(fs.statSync(r.workspace as string).isDirectory()).toBe(true);
    expect((await t.api.tasks.get({ id: a.id })).task.workspace_path).toBe(r.workspace);
  });
});
