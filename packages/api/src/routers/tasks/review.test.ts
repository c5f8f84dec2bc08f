import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createTestApi } from "../../testing.ts";

/** The review lane through the API: tasks.requestReview, tasks.requestChanges, tasks.reopenReview. */
describe("tasks.requestReview / requestChanges / reopenReview", () => {
  let t: ReturnType<typeof createTestApi>;
  beforeEach(() => {
    t = createTestApi();
  });
  afterEach(() => t.cleanup());

  async function claimed() {
    const { task } = await t.api.tasks.create({ title: "build", assignee: "coder" });
    const claim = await t.api.tasks.claim({ id: task.id });
    return { id: task.id, run: claim.run_id as number };
  }

  it("hands over, sends back with the reason as a comment, and approves through tasks.complete", async () => {
    const { id, run } = await claimed();
    const asked = await t.api.tasks.requestReview({ id, expected_run_id: run, reviewer: "critic", summary: "ready" });
    expect(asked.task).toMatchObject({ status: "review", assignee: "critic" });
    expect(asked.run_id).toBe(run);
    const reviewer = await t.board().claimReviewTask(id);
    const back = await t.api.tasks.requestChanges({
      id,
      expected_run_id: reviewer?.current_run_id,
      reason: "add tests",
      comment_author: "critic",
    });
    expect(back.task).toMatchObject({ status: "ready", assignee: "coder" });
    expect((await t.api.comments.list({ task_id: id })).comments.map((c) => c.body)).toContain(
      "CHANGES REQUESTED: add tests",
    );
    const again = await t.api.tasks.claim({ id });
    await t.api.tasks.requestReview({ id, expected_run_id: again.run_id });
    const done = await t.api.tasks.complete({ id });
    expect(done.task.status).toBe("done");
  });

  it("reopens a card in review for a person", async () => {
    const { id, run } = await claimed();
    await t.api.tasks.requestReview({ id, expected_run_id: run, reviewer: "critic" });
    const out = await t.api.tasks.reopenReview({ id, reason: "not now", comment_author: "alice" });
    expect(out.task).toMatchObject({ status: "ready", assignee: "coder" });
  });

  it("maps refusals: wrong state 409, missing reviewer 400, a live worker's task without force 409; force stops the worker", async () => {
    const { id, run } = await claimed();
    await t.board().recordSpawn(id, 5151, run);
    await expect(t.api.tasks.requestReview({ id, expected_run_id: run })).rejects.toMatchObject({
      code: "BAD_REQUEST",
    });
    await expect(t.api.tasks.requestReview({ id, reviewer: "critic" })).rejects.toMatchObject({ code: "CONFLICT" });
    await expect(t.api.tasks.reopenReview({ id })).rejects.toMatchObject({ code: "CONFLICT" });
    await expect(t.api.tasks.requestChanges({ id, reason: "x" })).rejects.toMatchObject({ code: "CONFLICT" });
    const forced = await t.api.tasks.requestReview({ id, reviewer: "critic", force: true });
    expect(forced.task.status).toBe("review");
    expect(t.terminated).toEqual([expect.objectContaining({ pid: 5151 })]);
  });
});
