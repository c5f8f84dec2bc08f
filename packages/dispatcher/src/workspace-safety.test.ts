import fs from "node:fs";
import path from "node:path";
import type { Board } from "@kanban/kernel";
import { boardInternals } from "@kanban/kernel/testing";
import { afterEach, describe, expect, it } from "vitest";
import { fakeProfile, killAll, makeHome, readPids, type TestHome, trackPool, waitFor } from "../test/helpers.ts";
import { createDispatcher, type Dispatcher } from "./dispatcher.ts";

/**
 * Real dispatcher ticks and real fake workers: a tenant's task can neither make the dispatcher
 * delete another task's live scratch directory nor have a worker run (or a directory be created)
 * outside the roots the operator allows.
 */
let home: TestHome | null = null;

afterEach(async () => {
  await killAll();
  home?.cleanup();
  home = null;
});

function dispatcher(h: TestHome): Dispatcher {
  const d = createDispatcher(h.config(), { log: () => {} });
  trackPool(d.pool);
  return d;
}

function scratchOf(h: TestHome, id: string): string {
  return path.join(h.home, "kanban", "workspaces", id);
}

const statusOf = async (b: Board, id: string) => (await b.getTask(id))?.status;

describe("workspace safety", { timeout: 30_000 }, () => {
  it("a tenant task whose workspace_path points at another task's scratch dir does not delete it on completion", async () => {
    home = makeHome({
      kanban: { crash_grace_seconds: 0 },
      profiles: { alice: fakeProfile("hang"), bob: fakeProfile("complete") },
    });
    const h = home;
    const b = h.board();
    const victim = (await b.createTask({ title: "long job", assignee: "alice" })).id;
    const d = dispatcher(h);
    await d.tick();
    const victimWs = scratchOf(h, victim);
    await waitFor(() => readPids(victimWs), "the victim's worker to start");
    fs.writeFileSync(path.join(victimWs, "work-in-progress.txt"), "precious");
    // The create API refuses a scratch path; a row written by Hermes or before that rule can hold one.
    const rogue = (await b.createTask({ title: "rogue", assignee: "bob", tenant: "acme" })).id;
    boardInternals(b).sqlite.prepare("UPDATE tasks SET workspace_path = ? WHERE id = ?").run(victimWs, rogue);
    await d.tick();
    await waitFor(async () => (await statusOf(b, rogue)) === "done", "the rogue's worker to complete");
    // It ran in its own scratch directory, not in the victim's.
    expect((await b.requireTask(rogue)).result).toBe(fs.realpathSync(scratchOf(h, rogue)));
    await d.tick(); // the cleanup pass after the completion
    expect(fs.existsSync(scratchOf(h, rogue))).toBe(false);
    expect(fs.readFileSync(path.join(victimWs, "work-in-progress.txt"), "utf8")).toBe("precious");
    expect((await b.requireTask(victim)).status).toBe("running");
  });

  it("a tenant's dir: workspace outside kanban.workspace_roots is refused at spawn and the task blocked at once, not retried", async () => {
    const hh = makeHome({});
    home = hh;
    const roots = path.join(hh.home, "tenant-work");
    fs.mkdirSync(roots);
    const outside = path.join(hh.home, "not-for-tenants");
    fs.mkdirSync(outside);
    fs.symlinkSync(outside, path.join(roots, "sneaky"));
    hh.writeConfig({
      kanban: { crash_grace_seconds: 0, failure_limit: 5, workspace_roots: [roots] },
      profiles: { bob: fakeProfile("complete") },
    });
    const b = hh.board();
    // Lexically under the root (so the API's create check lets it through), really outside it.
    const viaLink = (
      await b.createTask({
        title: "via link",
        assignee: "bob",
        tenant: "acme",
        workspace_kind: "dir",
        workspace_path: path.join(roots, "sneaky", "x"),
      })
    ).id;
    const allowed = (
      await b.createTask({
        title: "inside",
        assignee: "bob",
        tenant: "acme",
        workspace_kind: "dir",
        workspace_path: path.join(roots, "acme"),
      })
    ).id;
    const admin = (
      await b.createTask({
        title: "admin",
        assignee: "bob",
        workspace_kind: "dir",
        workspace_path: path.join(outside, "admin"),
      })
    ).id;
    const d = dispatcher(hh);
    const r = (await d.tick()).boards[0];
    expect(r?.auto_blocked).toEqual([viaLink]);
    const refused = await b.requireTask(viaLink);
    expect(refused.status).toBe("blocked");
    expect(refused.last_failure_error).toContain("outside the workspace roots allowed for tenant tasks");
    expect((await b.listEvents(viaLink)).find((e) => e.kind === "gave_up")?.payload).toMatchObject({ permanent: true });
    expect(fs.existsSync(path.join(outside, "x"))).toBe(false);
    await waitFor(
      async () => (await statusOf(b, allowed)) === "done" && (await statusOf(b, admin)) === "done",
      "the allowed tenant task and the admin task to complete",
    );
    expect((await d.tick()).boards[0]?.spawned).toEqual([]); // the blocked one is never retried on its own
  });
});
