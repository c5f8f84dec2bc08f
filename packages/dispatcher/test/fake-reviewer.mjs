#!/usr/bin/env node
// A stand-in for an implementer or a reviewer agent in the review lane's tests, acting on its task
// (KANBAN_DB / KANBAN_TASK) through @kanban/kernel, fenced on KANBAN_RUN_ID like a real worker.
//
// Not a review run (no KANBAN_REVIEW): hand the task to review; the reviewer is $FAKE_REVIEWER on the
//   first round, and on later rounds none is named (the kernel takes the last round's reviewer).
// A review run (KANBAN_REVIEW=1): request changes on the first round, approve (complete) after that.
// $FAKE_WORKER_RECORD: append one JSON line {role, task, run, review} to that file.
import fs from "node:fs";
import { loadKernel } from "./fake-kernel.mjs";

const taskId = process.env.KANBAN_TASK;
const runId = Number(process.env.KANBAN_RUN_ID);
const review = process.env.KANBAN_REVIEW === "1";
const { openBoard } = await loadKernel();
const board = openBoard({ path: process.env.KANBAN_DB, warn: () => {} });
const fence = { expected_run_id: runId, claim_lock: process.env.KANBAN_CLAIM_LOCK };
const rounds = (await board.listEvents(taskId)).filter((e) => e.kind === "changes_requested").length;
if (process.env.FAKE_WORKER_RECORD) {
  const line = {
    role: review ? "reviewer" : "implementer",
    task: taskId,
    run: runId,
    review: process.env.KANBAN_REVIEW ?? null,
  };
  fs.appendFileSync(process.env.FAKE_WORKER_RECORD, `${JSON.stringify(line)}\n`);
}
if (!review) {
  await board.requestReview(taskId, {
    ...fence,
    summary: `round ${rounds + 1} ready`,
    ...(rounds === 0 ? { reviewer: process.env.FAKE_REVIEWER } : {}),
  });
  console.log("review requested");
} else if (rounds === 0) {
  await board.requestChanges(taskId, { ...fence, reason: "handle the empty input", comment_author: "critic" });
  console.log("changes requested");
} else {
  await board.completeTask(taskId, { ...fence, summary: "approved: the empty input is handled" });
  console.log("approved");
}
board.close();
