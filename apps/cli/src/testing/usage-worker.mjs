#!/usr/bin/env node
// A fake worker that reports usage the way a real agent wrapper would, through the real `kanban`
// binary and nothing else (usage.test.ts). Spawned by the dispatcher with its task's environment
// (KANBAN_TASK, KANBAN_RUN_ID, ...), so every call is fenced to its own run. Argument: the path of
// the kanban binary. Reports, in order:
//   heartbeat  sonnet  1,234,567 in, 89,012 out            (priced by config.json)
//   report     cost $0.0125 given by the worker             (no tokens)
//   complete   sonnet  10,000 in, 2,000 out, 300,000 cache reads, 40,000 cache writes (priced)
import { execFileSync } from "node:child_process";

const [bin] = process.argv.slice(2);
const task = process.env.KANBAN_TASK;
if (!bin || !task) {
  process.stderr.write("usage-worker: needs the kanban binary and KANBAN_TASK\n");
  process.exit(2);
}
const kanban = (...args) => execFileSync(process.execPath, [bin, ...args], { stdio: ["ignore", "pipe", "inherit"] });

kanban("heartbeat", task, "--note", "working", "--model", "sonnet", "--tokens-in", "1234567", "--tokens-out", "89012");
kanban("usage", "report", task, "--cost-usd", "0.0125");
kanban(
  "complete",
  task,
  "--summary",
  "done, usage reported",
  "--model",
  "sonnet",
  "--tokens-in",
  "10000",
  "--tokens-out",
  "2000",
  "--cache-read",
  "300000",
  "--cache-write",
  "40000",
);
