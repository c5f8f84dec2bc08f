import type { BoardLocation } from "@kanban/db";
import { mintRunToken } from "@kanban/db";
import { makeTempDir } from "@kanban/db/testing";
import { openBoard } from "@kanban/kernel";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKanbanClient, type KanbanClient } from "./client.ts";
import { type RunningServer, startServer } from "./server.ts";
import { captureLogger } from "./testing.ts";

/** Run tokens: a worker hands over its own task, a reviewer's token sends back its own; nothing else. */
describe("the review verbs under a worker's run token", () => {
  const ADMIN = "admin-token-review-0123456789";
  let home: ReturnType<typeof makeTempDir>;
  let server: RunningServer;
  let admin: KanbanClient;

  beforeAll(async () => {
    home = makeTempDir("kanban-review-api-");
    const location: BoardLocation = { home: home.dir };
    server = await startServer({
      port: 0,
      location,
      logger: captureLogger(),
      token: ADMIN,
      tenantTokens: {},
      terminate: () => {},
    });
    admin = createKanbanClient({ url: `${server.url}/trpc`, token: ADMIN });
  });
  afterAll(async () => {
    await server.close();
    home.cleanup();
  });

  function asRun(task: string, run: number): KanbanClient {
    const token = mintRunToken(home.dir, { board: "default", task, run });
    return createKanbanClient({ url: `${server.url}/trpc`, token });
  }

  it("the implementer's token requests review of its own task (fenced); the reviewer's token requests changes", async () => {
    const { task } = await admin.tasks.create.mutate({ title: "impl", assignee: "coder" });
    const { task: other } = await admin.tasks.create.mutate({ title: "other", assignee: "coder" });
    const claim = await admin.tasks.claim.mutate({ id: task.id });
    const worker = asRun(task.id, claim.run_id as number);
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
    const board = openBoard({ location: { home: home.dir }, warn: () => {} });
    let reviewRun: number;
    try {
      reviewRun = (await board.claimReviewTask(task.id))?.current_run_id as number;
    } finally {
      board.close();
    }
    const reviewer = asRun(task.id, reviewRun);
    const back = await reviewer.tasks.requestChanges.mutate({
      id: task.id,
      expected_run_id: reviewRun,
      reason: "rename the flag",
    });
    expect(back.task).toMatchObject({ status: "ready", assignee: "coder" });
  });
});
