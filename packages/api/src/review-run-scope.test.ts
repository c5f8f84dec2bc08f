import { openBoard } from "@kanban/kernel";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tokenServer } from "./testing.ts";

/** Run tokens: a worker hands over its own task, a reviewer's token sends back its own; nothing else. */
describe("the review verbs under a worker's run token", () => {
  const s = tokenServer("review");
  beforeAll(s.start);
  afterAll(s.stop);

  it("the implementer's token requests review of its own task (fenced); the reviewer's token requests changes", async () => {
    const { task } = await s.admin.tasks.create.mutate({ title: "impl", assignee: "coder" });
    const { task: other } = await s.admin.tasks.create.mutate({ title: "other", assignee: "coder" });
    const claim = await s.admin.tasks.claim.mutate({ id: task.id });
    const worker = s.asRun(task.id, claim.run_id as number);
    await expect(
      worker.tasks.requestReview.mutate({ id: other.id, expected_run_id: claim.run_id, reviewer: "critic" }),
    ).rejects.toMatchObject({ data: { code: "FORBIDDEN" } });
    await expect(worker.tasks.requestReview.mutate({ id: task.id, reviewer: "critic" })).rejects.toMatchObject({
      data: { kanbanCode: "STALE_RUN" },
    });
    await expect(worker.tasks.reopenReview.mutate({ id: task.id })).rejects.toMatchObject({
      data: { code: "FORBIDDEN" },
    });
    const asked = await worker.tasks.requestReview.mutate({
      id: task.id,
      expected_run_id: claim.run_id,
      reviewer: "critic",
      summary: "please review",
    });
    expect(asked.task.status).toBe("review");

    // The dispatcher's review lane claims it for the reviewer (here: a board of the same home).
    const board = openBoard({ location: { home: s.home.dir }, warn: () => {} });
    let reviewRun: number;
    try {
      reviewRun = (await board.claimReviewTask(task.id))?.current_run_id as number;
    } finally {
      board.close();
    }
    const reviewer = s.asRun(task.id, reviewRun);
    const back = await reviewer.tasks.requestChanges.mutate({
      id: task.id,
      expected_run_id: reviewRun,
      reason: "rename the flag",
    });
    expect(back.task).toMatchObject({ status: "ready", assignee: "coder" });
  });
});
