#!/usr/bin/env node
// A remote host's worker for the tests of packages/dispatcher/src/remote: it settles its task the
// way a real agent on a remote machine does, by running the real `kanban` CLI (KANBAN_URL, the run
// token, the outbox), and records what it saw.
//
// Mode (first argument):
//   complete        `kanban complete $KANBAN_TASK --summary …`, then exit with the CLI's exit code
//   wait-complete   waits until the file $REMOTE_WORKER_GO exists, then as `complete`
//   block           `kanban block $KANBAN_TASK needs a human`
// It appends {pid, env (KANBAN_*), cli: {code, stdout, stderr}} as one JSON line to $REMOTE_WORKER_RECORD.
import { spawnSync } from "node:child_process";
import fs from "node:fs";

const CLI = new URL("../../../apps/cli/bin/kanban.mjs", import.meta.url).pathname;
const mode = process.argv[2] ?? "complete";
const task = process.env.KANBAN_TASK;
console.log(`remote worker ${process.pid}: mode=${mode} task=${task} run=${process.env.KANBAN_RUN_ID}`);

if (mode === "wait-complete") {
  while (!fs.existsSync(process.env.REMOTE_WORKER_GO ?? "/nonexistent")) await new Promise((r) => setTimeout(r, 50));
}
const args =
  mode === "block" ? ["block", task, "needs", "a", "human"] : ["complete", task, "--summary", `done by ${process.pid}`];
const r = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", env: process.env });
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith("KANBAN_")));
if (process.env.REMOTE_WORKER_RECORD) {
  fs.appendFileSync(
    process.env.REMOTE_WORKER_RECORD,
    `${JSON.stringify({ pid: process.pid, env, cli: { code: r.status, stdout: r.stdout, stderr: r.stderr } })}\n`,
  );
}
process.stdout.write(r.stdout ?? "");
process.stderr.write(r.stderr ?? "");
process.exit(r.status ?? 1);
