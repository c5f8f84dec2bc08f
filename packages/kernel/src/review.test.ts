import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { beforeEach, describe, expect, it } from "vitest";
import { openBoard } from "./board.ts";
import { DEFAULT_CLAIM_TTL_SECONDS } from "./constants.ts";
import { REVIEW_APPROVAL_SUMMARY } from "./complete.ts";
import { caught, useTestBoards } from "./testing/helpers.ts";
import { rawSql, type TestBoard } from "./testing/index.ts";
import { TestClock } from "./testing/test-clock.ts";

const boards = useTestBoards();

let board: TestBoard;
beforeEach(() => {
  board = boards();
});

/** A task `coder` is working on: its id and run. */
async function implementing(title = "build it"): Promise<{ id: string; runId: number }> {
  const task = await board.createTask({ title, assignee: "coder" });
  const claim = await board.claimTask(task.id);
  if (!claim || claim.current_run_id === null) throw new Error("claim failed");
  return { id: task.id, runId: claim.current_run_id };
}

/** A task handed to `critic` for review by `coder`. */
async function inReview(): Promise<string> {
  const { id, runId } = await implementing();
  await board.requestReview(id, { expected_run_id: runId, reviewer: "critic", summary: "done, please look" });
  return id;
}

/** The reviewer's claim of a task in review: its run id. */
async function reviewerRun(id: string): Promise<number> {
  const claim = await board.claimReviewTask(id, { claimer: "testhost:7001" });
  if (!claim || claim.current_run_id === null) throw new Error("review claim failed");
  return claim.current_run_id;
}

async function lastEvent(id: string, kind: string) {
  const ev = (await board.listEvents(id)).filter((e) => e.kind === kind);
  return ev[ev.length - 1];
}

describe("requestReview", () => {
  it("hands a running task to the reviewer: status review, reviewer assigned, claim released, run closed review_requested", async () => {
    const { id, runId } = await implementing();
    board.clock.advance(30);
    const out = await board.requestReview(id, {
      expected_run_id: runId,
      reviewer: " critic ",
      summary: "  added the parser  ",
      metadata: { files: ["a.ts"] },
    });
    expect(out.run_id).toBe(runId);
    expect(out.terminate).toBeNull(); // the worker's own call
    expect(out.task).toMatchObject({
      status: "review",
      assignee: "critic",
      claim_lock: null,
      claim_expires: null,
      worker_pid: null,
      current_run_id: null,
    });
    expect(await board.getRun(runId)).toMatchObject({
      status: "review",
      outcome: "review_requested",
      summary: "added the parser",
      metadata: { files: ["a.ts"] },
      ended_at: board.clock.seconds,
    });
    const ev = await lastEvent(id, "review_requested");
    expect(ev?.payload).toEqual({ summary: "added the parser", implementer: "coder", reviewer: "critic" });
    expect(ev?.run_id).toBe(runId);
  });

  it("hands over a ready (never claimed) task with a synthesized run when it carries a summary", async () => {
    const task = await board.createTask({ title: "t", assignee: "coder" });
    const out = await board.requestReview(task.id, { reviewer: "critic", summary: "written by hand" });
    expect(out.task.status).toBe("review");
    expect(out.run_id).not.toBeNull();
    const run = await board.getRun(out.run_id as number);
    expect(run).toMatchObject({ outcome: "review_requested", summary: "written by hand" });
    expect(run?.started_at).toBe(run?.ended_at);
  });

  it("needs a reviewer on the first round", async () => {
    const { id, runId } = await implementing();
    const err = await caught(() => board.requestReview(id, { expected_run_id: runId }));
    expect(err.code).toBe("INVALID_INPUT");
    expect(err.message).toContain("name a reviewer");
    expect((await board.requireTask(id)).status).toBe("running");
  });

  it("refuses a task a worker holds unless the call names its run (or forces); force reports the worker to stop", async () => {
    const { id, runId } = await implementing();
    await board.recordSpawn(id, 4343, runId);
    const err = await caught(() => board.requestReview(id, { reviewer: "critic" }));
    expect(err.code).toBe("WRONG_STATE");
    expect(err.message).toContain("a worker holds it");
    const out = await board.requestReview(id, { reviewer: "critic", force: true });
    expect(out.task.status).toBe("review");
    expect(out.terminate).toMatchObject({ pid: 4343 });
  });

  it("refuses a stale run, a task not running/ready, and unfinished parents", async () => {
    const { id, runId } = await implementing();
    expect((await caught(() => board.requestReview(id, { expected_run_id: runId + 99, reviewer: "r" }))).code).toBe(
      "STALE_RUN",
    );
    await board.completeTask(id, { expected_run_id: runId });
    const done = await caught(() => board.requestReview(id, { reviewer: "r" }));
    expect(done.code).toBe("WRONG_STATE");
    expect(done.message).toBe(`cannot request review of ${id}: status is 'done' (expected running or ready)`);

    const parent = await board.createTask({ title: "parent" });
    const child = await board.createTask({ title: "child", assignee: "coder", parents: [parent.id] });
    await rawSql(board).run("UPDATE tasks SET status = 'ready' WHERE id = ?", child.id);
    const gated = await caught(() => board.requestReview(child.id, { reviewer: "r" }));
    expect(gated.code).toBe("WRONG_STATE");
    expect(gated.message).toContain("parent(s) not done");
  });

  it("NOT_FOUND for an unknown id; INVALID_INPUT for metadata that is not an object", async () => {
    expect((await caught(() => board.requestReview("t_nope", { reviewer: "r" }))).code).toBe("NOT_FOUND");
    const { id, runId } = await implementing();
    const bad = await caught(() =>
      board.requestReview(id, {
        expected_run_id: runId,
        reviewer: "r",
        metadata: [1] as unknown as Record<string, unknown>,
      }),
    );
    expect(bad.code).toBe("INVALID_INPUT");
  });
});

describe("claimReviewTask", () => {
  it("claims a review task for the reviewer: a new run, claimed event with source_status review", async () => {
    const id = await inReview();
    const claim = await board.claimReviewTask(id, { claimer: "testhost:7001" });
    expect(claim).toMatchObject({ status: "running", assignee: "critic", claim_lock: "testhost:7001" });
    const runId = claim?.current_run_id as number;
    expect(await board.getRun(runId)).toMatchObject({ profile: "critic", status: "running", ended_at: null });
    const ev = await lastEvent(id, "claimed");
    expect(ev?.payload).toMatchObject({ lock: "testhost:7001", run_id: runId, source_status: "review" });
    expect(await board.isReviewerRun(id)).toBe(true);
  });

  it("returns null for a task not in review, and for one already claimed; an ordinary claim never takes a review task", async () => {
    const ready = await board.createTask({ title: "r", assignee: "coder" });
    expect(await board.claimReviewTask(ready.id)).toBeNull();
    const id = await inReview();
    expect(await board.claimTask(id)).toBeNull();
    await reviewerRun(id);
    expect(await board.claimReviewTask(id)).toBeNull();
  });

  it("demotes to todo when a parent was reopened, and recompute brings it back to review once the parent is done", async () => {
    const parent = await board.createTask({ title: "parent" });
    await board.completeTask(parent.id, { summary: "ok" });
    const child = await board.createTask({ title: "child", assignee: "coder", parents: [parent.id] });
    const claim = await board.claimTask(child.id);
    await board.requestReview(child.id, { expected_run_id: claim?.current_run_id, reviewer: "critic" });
    await rawSql(board).run("UPDATE tasks SET status = 'ready' WHERE id = ?", parent.id); // reopened
    expect(await board.claimReviewTask(child.id)).toBeNull();
    expect((await board.requireTask(child.id)).status).toBe("todo");
    expect((await lastEvent(child.id, "dependency_wait"))?.payload).toEqual({
      reason: "parent_reopened",
      source_status: "review",
    });
    await board.completeTask(parent.id, { summary: "again" });
    await board.recomputeReady();
    expect(await board.requireTask(child.id)).toMatchObject({ status: "review", assignee: "critic" });
    expect((await lastEvent(child.id, "promoted"))?.payload).toEqual({ status: "review" });
  });
});

describe("requestChanges", () => {
  it("sends the reviewer run back to the implementer: ready, run closed changes_requested, event and comment", async () => {
    const id = await inReview();
    const runId = await reviewerRun(id);
    const out = await board.requestChanges(id, {
      expected_run_id: runId,
      reason: " tests are missing ",
      comment_author: "critic",
    });
    expect(out.task).toMatchObject({ status: "ready", assignee: "coder", claim_lock: null, current_run_id: null });
    expect(await board.getRun(runId)).toMatchObject({
      status: "ready",
      outcome: "changes_requested",
      summary: "tests are missing",
    });
    const ev = await lastEvent(id, "changes_requested");
    expect(ev?.payload).toEqual({
      reason: "tests are missing",
      implementer: "coder",
      reviewer: "critic",
      status: "ready",
    });
    expect((await board.listComments(id)).map((c) => c.body)).toContain("CHANGES REQUESTED: tests are missing");
  });

  it("the next round goes to the same reviewer when none is named", async () => {
    const id = await inReview();
    await board.requestChanges(id, { expected_run_id: await reviewerRun(id), reason: "again" });
    const claim = await board.claimTask(id);
    const out = await board.requestReview(id, { expected_run_id: claim?.current_run_id, summary: "fixed" });
    expect(out.task).toMatchObject({ status: "review", assignee: "critic" });
    expect((await lastEvent(id, "review_requested"))?.payload).toMatchObject({
      implementer: "coder",
      reviewer: "critic",
    });
  });

  it("refuses an implementer's (non-review) run, a task in review with no reviewer run, and a blank reason", async () => {
    const { id, runId } = await implementing();
    const notReview = await caught(() => board.requestChanges(id, { expected_run_id: runId, reason: "x" }));
    expect(notReview.code).toBe("WRONG_STATE");
    expect(notReview.message).toContain("no reviewer run holds it");
    const waiting = await inReview();
    expect((await caught(() => board.requestChanges(waiting, { reason: "x" }))).code).toBe("WRONG_STATE");
    expect((await caught(() => board.requestChanges(waiting, { reason: "  " }))).code).toBe("INVALID_INPUT");
    expect((await board.requireTask(waiting)).status).toBe("review");
  });

  it("lands in todo when a parent is unfinished", async () => {
    const parent = await board.createTask({ title: "parent" });
    await board.completeTask(parent.id, { summary: "ok" });
    const child = await board.createTask({ title: "child", assignee: "coder", parents: [parent.id] });
    const claim = await board.claimTask(child.id);
    await board.requestReview(child.id, { expected_run_id: claim?.current_run_id, reviewer: "critic" });
    const runId = await reviewerRun(child.id);
    await rawSql(board).run("UPDATE tasks SET status = 'ready' WHERE id = ?", parent.id);
    const out = await board.requestChanges(child.id, { expected_run_id: runId, reason: "wait" });
    expect(out.task).toMatchObject({ status: "todo", assignee: "coder" });
  });
});

describe("approval (completing a card in review)", () => {
  it("a person's approval with no evidence says so on the synthesized run", async () => {
    const id = await inReview();
    const out = await board.completeTask(id);
    expect(out.task.status).toBe("done");
    expect(await board.getRun(out.run_id as number)).toMatchObject({
      outcome: "completed",
      summary: REVIEW_APPROVAL_SUMMARY,
      metadata: { source_status: "review", approval: "manual" },
    });
  });

  it("a reviewer run completes the card with its own summary", async () => {
    const id = await inReview();
    const runId = await reviewerRun(id);
    const out = await board.completeTask(id, { expected_run_id: runId, summary: "LGTM" });
    expect(out.task.status).toBe("done");
    expect(await board.getRun(runId)).toMatchObject({ outcome: "completed", summary: "LGTM", profile: "critic" });
  });
});

describe("reopenReview", () => {
  it("takes a card out of review: ready, implementer restored, review_reopened, optional comment", async () => {
    const id = await inReview();
    const task = await board.reopenReview(id, { reason: "needs a rethink", comment_author: "alice" });
    expect(task).toMatchObject({ status: "ready", assignee: "coder" });
    expect((await lastEvent(id, "review_reopened"))?.payload).toEqual({ status: "ready", implementer: "coder" });
    expect((await board.listComments(id)).map((c) => c.body)).toContain("CHANGES REQUESTED: needs a rethink");
  });

  it("refuses a card not in review", async () => {
    const t = await board.createTask({ title: "t", assignee: "coder" });
    const err = await caught(() => board.reopenReview(t.id));
    expect(err.code).toBe("WRONG_STATE");
    expect(err.message).toBe(`cannot reopen review of ${t.id}: status is 'ready' (not in review)`);
  });
});

describe("recovery of a reviewer run returns it to review", () => {
  it("an operator reclaim", async () => {
    const id = await inReview();
    await reviewerRun(id);
    const out = await board.reclaimTask(id, { reason: "stuck" });
    expect(out.task).toMatchObject({ status: "review", assignee: "critic", claim_lock: null });
  });

  it("an expired lease", async () => {
    const id = await inReview();
    await reviewerRun(id);
    board.clock.advance(DEFAULT_CLAIM_TTL_SECONDS + 1);
    expect((await board.releaseStaleClaims()).reclaimed).toEqual([id]);
    expect((await board.requireTask(id)).status).toBe("review");
  });

  it("a spawn failure below the breaker's limit", async () => {
    const id = await inReview();
    await reviewerRun(id);
    await board.recordTaskFailure(id, { error: "boom", outcome: "spawn_failed", releaseClaim: true });
    expect((await board.requireTask(id)).status).toBe("review");
  });

  it("a reviewer run that blocks resumes in review when unblocked", async () => {
    const id = await inReview();
    const runId = await reviewerRun(id);
    await board.blockTask(id, { expected_run_id: runId, reason: "need the staging URL" });
    expect((await lastEvent(id, "blocked"))?.payload).toEqual({
      reason: "need the staging URL",
      source_status: "review",
    });
    const task = await board.unblockTask(id);
    expect(task).toMatchObject({ status: "review", assignee: "critic" });
    expect((await lastEvent(id, "unblocked"))?.payload).toEqual({ status: "review", resume_status: "review" });
  });

  it("a breaker trip of a reviewer run says so, and the unblock puts the card back in review", async () => {
    const id = await inReview();
    await reviewerRun(id);
    expect(
      await board.recordTaskFailure(id, {
        error: "boom",
        outcome: "spawn_failed",
        releaseClaim: true,
        forceTrip: true,
      }),
    ).toBe(true);
    expect((await lastEvent(id, "gave_up"))?.payload).toMatchObject({ source_status: "review" });
    expect((await board.unblockTask(id)).status).toBe("review");
  });

  it("an implementer's run still goes back to ready", async () => {
    const { id } = await implementing();
    expect((await board.reclaimTask(id)).task.status).toBe("ready");
  });
});

describe("the review lane", () => {
  it("lists unclaimed review tasks by priority, then age", async () => {
    const a = await inReview();
    board.clock.advance(1);
    const b = await inReview();
    await rawSql(board).run("UPDATE tasks SET priority = 5 WHERE id = ?", b);
    board.clock.advance(1);
    const c = await inReview();
    await reviewerRun(c);
    expect((await board.reviewLane()).map((t) => t.id)).toEqual([b, a]);
  });
});

describe("a Hermes board with review rows", () => {
  const fixture = path.resolve(
    import.meta.dirname,
    "..",
    "..",
    "..",
    "..",
    "shared",
    "fixtures",
    "hermes-v3-2026-07-29.db",
  );

  it("lists them and moves them through claim, request changes, review again and approval", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kanban-review-fixture-"));
    try {
      const file = path.join(dir, "kanban.db");
      fs.copyFileSync(fixture, file);
      // Hermes B's request_review, as its rows and event read: review status, reviewer assigned, provenance event.
      const raw = new Database(file);
      const row = raw.prepare("SELECT id FROM tasks WHERE status = 'ready' ORDER BY id LIMIT 1").get() as {
        id: string;
      };
      raw
        .prepare("UPDATE tasks SET status = 'review', assignee = 'critic', claim_lock = NULL WHERE id = ?")
        .run(row.id);
      raw
        .prepare("INSERT INTO task_events (task_id, kind, payload, created_at) VALUES (?, 'review_requested', ?, ?)")
        .run(row.id, JSON.stringify({ summary: "from B", implementer: "coder", reviewer: "critic" }), 1_780_000_000);
      raw.close();

      const hermes = openBoard({ path: file, clock: new TestClock(), warn: () => {} });
      try {
        expect((await hermes.listTasks({ status: "review" })).map((t) => t.id)).toEqual([row.id]);
        expect((await hermes.reviewLane()).map((t) => t.id)).toContain(row.id);
        const claim = await hermes.claimReviewTask(row.id);
        const back = await hermes.requestChanges(row.id, { expected_run_id: claim?.current_run_id, reason: "no" });
        expect(back.task).toMatchObject({ status: "ready", assignee: "coder" });
        const again = await hermes.claimTask(row.id);
        await hermes.requestReview(row.id, { expected_run_id: again?.current_run_id });
        expect((await hermes.requireTask(row.id)).assignee).toBe("critic");
        expect((await hermes.completeTask(row.id)).task.status).toBe("done");
      } finally {
        await hermes.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
