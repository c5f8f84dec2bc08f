#!/usr/bin/env node
// The demo board's fake worker: acts on the task the dispatcher gave it (KANBAN_DB, KANBAN_TASK,
// KANBAN_RUN_ID) through the kernel, fenced by its run id — heartbeat, comment, complete.
import { register } from "tsx/esm/api";

register();
const { openBoard } = await import("@kanban/kernel");
const taskId = process.env.KANBAN_TASK;
const runId = Number(process.env.KANBAN_RUN_ID);
const board = openBoard({ path: process.env.KANBAN_DB });
const fence = { expected_run_id: runId };
const pause = (ms) => new Promise((r) => setTimeout(r, ms));
try {
  board.heartbeatWorker(taskId, { ...fence, note: "reading the task" });
  await pause(3000);
  board.addComment(taskId, "demo-worker", "Halfway there: drafted the change.", fence);
  board.heartbeatWorker(taskId, { ...fence, note: "writing it up" });
  await pause(3000);
  board.completeTask(taskId, { ...fence, summary: "Done by the demo worker.", metadata: { demo: true } });
} finally {
  board.close();
}
