#!/usr/bin/env node
// A fake worker that spends one dollar per heartbeat through the real `kanban` binary until the
// board refuses its heartbeat (a budget paused its card, so its run is over), then exits
// (budget.test.ts). Spawned by the dispatcher with its task's environment (KANBAN_TASK,
// KANBAN_RUN_ID, ...), so every heartbeat is fenced to its own run. Argument: the kanban binary.
import { execFileSync } from "node:child_process";

const [bin] = process.argv.slice(2);
const task = process.env.KANBAN_TASK;
if (!bin || !task) {
  process.stderr.write("budget-worker: needs the kanban binary and KANBAN_TASK\n");
  process.exit(2);
}
for (let i = 0; i < 40; i++) {
  try {
    execFileSync(process.execPath, [bin, "heartbeat", task, "--cost-usd", "1"], { stdio: ["ignore", "pipe", "pipe"] });
  } catch {
    // Refused: the run is no longer ours (paused by its budget). Stop spending.
    process.exit(0);
  }
  await new Promise((r) => setTimeout(r, 20));
}
process.exit(1);
