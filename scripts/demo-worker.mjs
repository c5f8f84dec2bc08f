#!/usr/bin/env node
// The demo board's fake worker: acts on the task the dispatcher gave it (KANBAN_DB, KANBAN_TASK,
// KANBAN_RUN_ID) through the kernel, fenced by its run id. It takes its time (15-30 s, so a person
// opening the board sees cards in progress), heartbeats and comments on the way, and completes;
// the screencast step blocks with a question for a person instead.
import { register as registerHooks } from "node:module";
import { register } from "tsx/esm/api";

register();
// The kernel from its sources (the "@kanban/source" export condition), whatever NODE_OPTIONS says:
// `npm start` runs built JavaScript and clears NODE_OPTIONS for its parts, and a checkout has no dist/.
registerHooks(
  "data:text/javascript,export const resolve = (s, c, next) => next(s, { ...c, conditions: [...c.conditions, '@kanban/source'] });",
);
const { openBoard } = await import("@kanban/kernel");
const taskId = process.env.KANBAN_TASK;
const runId = Number(process.env.KANBAN_RUN_ID);
const board = openBoard({ path: process.env.KANBAN_DB });
const fence = { expected_run_id: runId };
const pause = (ms) => new Promise((r) => setTimeout(r, ms));
const step = () => 5000 + Math.floor(Math.random() * 5000);
try {
  const task = await board.requireTask(taskId);
  await board.heartbeatWorker(taskId, { ...fence, note: "reading the task" });
  await pause(step());
  await board.addComment(taskId, "demo-worker", "Halfway there: drafted the change.", fence);
  await board.heartbeatWorker(taskId, { ...fence, note: "writing it up" });
  await pause(step());
  await board.heartbeatWorker(taskId, { ...fence, note: "checking the result" });
  await pause(step());
  if (/screencast/i.test(task.title)) {
    await board.blockTask(taskId, {
      ...fence,
      reason: "Which voice should the screencast use? Answer in a comment, then unblock.",
    });
  } else {
    await board.completeTask(taskId, { ...fence, summary: "Done by the demo worker.", metadata: { demo: true } });
  }
} finally {
  board.close();
}
