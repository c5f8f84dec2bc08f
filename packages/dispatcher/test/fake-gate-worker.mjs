#!/usr/bin/env node
// A stand-in for an implementer or a reviewer profile of a gated card, for the completion gates' tests.
// It acts on its task (KANBAN_DB / KANBAN_TASK) through @kanban/kernel, fenced on KANBAN_RUN_ID.
//
// An implementer run completes the card; from its second run on it first writes ./fixed.txt (the file
//   the test's acceptance command looks for), so its first completion fails the gate.
// A review run (KANBAN_REVIEW=1) requests changes on its first run and approves (completes) after that.
import fs from "node:fs";
import { loadKernel } from "./fake-kernel.mjs";

const taskId = process.env.KANBAN_TASK;
const runId = Number(process.env.KANBAN_RUN_ID);
const profile = process.env.KANBAN_PROFILE;
const review = process.env.KANBAN_REVIEW === "1";
const { openBoard } = await loadKernel();
const board = openBoard({ path: process.env.KANBAN_DB, warn: () => {} });
const fence = { expected_run_id: runId, claim_lock: process.env.KANBAN_CLAIM_LOCK };
// This profile's runs of the task, this one included.
const attempt = (await board.listRuns(taskId)).filter((r) => r.profile === profile).length;
if (!review) {
  if (attempt >= 2) fs.writeFileSync("fixed.txt", "fixed\n");
  await board.completeTask(taskId, { ...fence, summary: `attempt ${attempt}` });
  console.log(`completed attempt ${attempt}`);
} else if (attempt === 1) {
  await board.requestChanges(taskId, { ...fence, reason: "handle the empty input", comment_author: profile });
  console.log("changes requested");
} else {
  await board.completeTask(taskId, { ...fence, summary: "approved" });
  console.log("approved");
}
board.close();
