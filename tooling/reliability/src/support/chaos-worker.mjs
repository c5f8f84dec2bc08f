#!/usr/bin/env node
// A fake agent worker for the chaos tests. Plain JavaScript over HTTP (no TypeScript loader, no
// database driver), so that starting one costs ~50 ms and a test can run hundreds of them.
//
// It works the task the dispatcher gave it (KANBAN_TASK, fenced on KANBAN_RUN_ID/KANBAN_CLAIM_LOCK)
// through the API at KANBAN_URL: heartbeats every CHAOS_BEAT_MS (150) for a random CHAOS_MIN_MS..CHAOS_MAX_MS,
// then completes. When a heartbeat is refused (its claim was reclaimed) it still tries to complete,
// as a stale worker would, so the fence is exercised. Every outcome is one JSON line appended to
// CHAOS_RECORD: start, completed, stale (a STALE_RUN/WRONG_STATE refusal), error.
import fs from "node:fs";

const url = process.env.KANBAN_URL;
const task = process.env.KANBAN_TASK;
const runId = Number(process.env.KANBAN_RUN_ID);
const lock = process.env.KANBAN_CLAIM_LOCK;
const board = process.env.KANBAN_BOARD;
const min = Number(process.env.CHAOS_MIN_MS ?? 200);
const max = Number(process.env.CHAOS_MAX_MS ?? 1500);
const beatMs = Number(process.env.CHAOS_BEAT_MS ?? 150);

function record(event, extra = {}) {
  if (process.env.CHAOS_RECORD) {
    fs.appendFileSync(
      process.env.CHAOS_RECORD,
      `${JSON.stringify({ event, pid: process.pid, task, run: runId, at: Date.now(), ...extra })}\n`,
    );
  }
}

async function call(procedure, input) {
  const res = await fetch(`${url}/trpc/${procedure}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ ...(board ? { board } : {}), ...input }),
  });
  const body = await res.json().catch(() => null);
  return { status: res.status, body };
}

const fence = { expected_run_id: runId, claim_lock: lock };
record("start");
const until = Date.now() + min + Math.random() * (max - min);
let refused = false;
for (;;) {
  const beat = await call("tasks.heartbeat", { id: task, ...fence, note: "chaos worker" });
  if (beat.status !== 200) {
    refused = true;
    record("heartbeat_refused", { status: beat.status, code: beat.body?.error?.data?.kanbanCode ?? null });
    break;
  }
  if (Date.now() >= until) break;
  await new Promise((r) => setTimeout(r, Math.min(beatMs, Math.max(0, until - Date.now()))));
}
const done = await call("tasks.complete", {
  id: task,
  ...fence,
  summary: `chaos worker ${process.pid}`,
  result: `run ${runId}`,
});
if (done.status === 200) {
  record("completed", { completed_run: done.body?.result?.data?.run_id ?? null, after_refusal: refused });
  process.exit(0);
}
const code = done.body?.error?.data?.kanbanCode ?? null;
record(code === "STALE_RUN" || code === "WRONG_STATE" ? "stale" : "error", {
  status: done.status,
  code,
  message: done.body?.error?.message ?? null,
});
process.exit(1);
