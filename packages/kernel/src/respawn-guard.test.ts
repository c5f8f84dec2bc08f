import { rawSql } from "./testing/index.ts";
import { describe, expect, it } from "vitest";
import { useTestBoards } from "./testing/helpers.ts";

// Spec §2.12 (respawn guard, May-2026 rules): blocker_auth, recent_success, active_pr.
const board = useTestBoards();

describe("respawn guard", () => {
  it("lets an ordinary ready task through", async () => {
    const b = board();
    const t = await b.createTask({ title: "x", assignee: "w" });
    expect(await b.respawnGuard(t.id)).toBeNull();
  });

  it.each([
    ["HTTP 429 Too Many Requests"],
    ["quota exceeded for project"],
    ["rate-limit hit"],
    ["401 Unauthorized"],
    ["authentication failed: invalid api key"],
    ["billing account suspended"],
    ["permission denied (publickey)"],
  ])("blocker_auth: holds a task whose last failure reads %j", async (error) => {
    const b = board({ failureLimit: 5 });
    const t = await b.createTask({ title: "x", assignee: "w" });
    await b.recordTaskFailure(t.id, { error, outcome: "crashed" });
    expect(await b.respawnGuard(t.id)).toBe("blocker_auth");
  });

  it("blocker_auth: an ordinary crash message does not hold the task", async () => {
    const b = board({ failureLimit: 5 });
    const t = await b.createTask({ title: "x", assignee: "w" });
    await b.recordTaskFailure(t.id, { error: "pid 42 exited with code 3", outcome: "crashed" });
    expect(await b.respawnGuard(t.id)).toBeNull();
  });

  it("recent_success: a task that completed within the hour and was put back without a reopen event is held, until the hour passes", async () => {
    const b = board();
    const t = await b.createTask({ title: "x", assignee: "w" });
    await b.completeTask(t.id, { summary: "done" });
    // Back to ready by a raw write (no status/promoted/unblocked/reclaimed event): a duplicate run would redo finished work.
    await rawSql(b).run("UPDATE tasks SET status = 'ready' WHERE id = ?", t.id);
    expect(await b.respawnGuard(t.id)).toBe("recent_success");
    b.clock.advance(3601);
    expect(await b.respawnGuard(t.id)).toBeNull();
  });

  it("recent_success: an explicit reopen (status event) lifts it", async () => {
    const b = board();
    const t = await b.createTask({ title: "x", assignee: "w" });
    await b.completeTask(t.id, { summary: "done" });
    await b.moveTask(t.id, { status: "ready" });
    expect((await b.getTask(t.id))?.status).toBe("ready");
    expect(await b.respawnGuard(t.id)).toBeNull();
  });

  it("active_pr: a comment linking a pull request within a day holds the task; a hand-off to another profile lifts it", async () => {
    const b = board();
    const t = await b.createTask({ title: "x", assignee: "w" });
    await b.addComment(t.id, "w", "opened https://github.com/acme/app/pull/123 for review");
    expect(await b.respawnGuard(t.id)).toBe("active_pr");
    b.clock.advance(10);
    await b.assignTask(t.id, "reviewer");
    expect(await b.respawnGuard(t.id)).toBeNull();
  });

  it("active_pr: a link older than a day no longer holds the task", async () => {
    const b = board();
    const t = await b.createTask({ title: "x", assignee: "w" });
    await b.addComment(t.id, "w", "see https://github.com/acme/app/pull/9");
    b.clock.advance(86_401);
    expect(await b.respawnGuard(t.id)).toBeNull();
  });

  it("records respawn_guarded events with the reason", async () => {
    const b = board();
    const t = await b.createTask({ title: "x", assignee: "w" });
    await b.recordRespawnGuarded(t.id, "active_pr");
    expect((await b.listEvents(t.id)).at(-1)).toMatchObject({
      kind: "respawn_guarded",
      payload: { reason: "active_pr" },
    });
  });
});
