import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createTestApi } from "../../testing.ts";

/**
 * config.json's `kanban.failure_limit` is the board's breaker policy: a completion through the API
 * re-gates the parent's children against it (it used to judge them against the built-in 2).
 */
describe("tasks.complete re-gates children against config's failure_limit", () => {
  let t: ReturnType<typeof createTestApi>;
  beforeEach(() => {
    t = createTestApi({ config: { kanban: { failure_limit: 3 } } });
  });
  afterEach(() => t.cleanup());

  it("a child the breaker blocked after 2 failures (a dispatcher run with --failure-limit 2) goes ready when its parent completes", async () => {
    const { task: child } = await t.api.tasks.create({ title: "child" });
    const board = t.board();
    for (let i = 0; i < 2; i++) {
      expect(board.claimTask(child.id)).not.toBeNull();
      board.recordTaskFailure(child.id, { error: "boom", outcome: "crashed", failureLimit: 2, releaseClaim: true });
    }
    expect(board.requireTask(child.id)).toMatchObject({ status: "blocked", consecutive_failures: 2 });
    const { task: parent } = await t.api.tasks.create({ title: "parent" });
    await t.api.links.add({ parent_id: parent.id, child_id: child.id });
    await t.api.tasks.complete({ id: parent.id, result: "ok" });
    expect(board.requireTask(child.id).status).toBe("ready");
  });

  it("an edit of config.json's failure_limit counts at once, without reopening the board", async () => {
    t.writeConfig({ kanban: { failure_limit: 2 } });
    const board = t.board(); // opened under the old limit
    const { task: child } = await t.api.tasks.create({ title: "child" });
    for (let i = 0; i < 2; i++) {
      expect(board.claimTask(child.id)).not.toBeNull();
      board.recordTaskFailure(child.id, { error: "boom", outcome: "crashed", releaseClaim: true });
    }
    expect(board.requireTask(child.id)).toMatchObject({ status: "blocked", consecutive_failures: 2 });
    const { task: parent } = await t.api.tasks.create({ title: "parent" });
    await t.api.links.add({ parent_id: parent.id, child_id: child.id });
    t.writeConfig({ kanban: { failure_limit: 3 } });
    await t.api.tasks.complete({ id: parent.id, result: "ok" });
    expect(board.requireTask(child.id).status).toBe("ready");
  });
});
