#!/usr/bin/env node
// A fake agent worker for the remote-host tests, started by a remote `kanban-dispatcher` with the
// environment a host gives its workers: KANBAN_URL (the server, as the host reaches it),
// KANBAN_TOKEN (this run's token), KANBAN_TASK, KANBAN_RUN_ID, KANBAN_OUTBOX. Plain JavaScript, so
// starting one is cheap.
//
// It heartbeats its task over HTTP every 300 ms for a random FAKE_MIN_MS..FAKE_MAX_MS (a refused or
// failed heartbeat is noted and ignored: the network may be cut), then completes through the real
// CLI (`kanban complete`), which writes the completion to the outbox before sending it. With
// FAKE_HANG=1 it starts a child and a grandchild and then waits forever (a hung agent, for cancel).
//
// Every step is one JSON line appended to FAKE_RECORD (the test's window into the host, nothing the
// host or the server reads): start, hang (with the tree's pids), cli (the CLI is starting), complete
// (the CLI's exit code and output), exit (the worker ended without its CLI having returned).
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";

const env = process.env;
const task = env.KANBAN_TASK;
const run = Number(env.KANBAN_RUN_ID);
const min = Number(env.FAKE_MIN_MS ?? 200);
const max = Number(env.FAKE_MAX_MS ?? 1500);

function record(event, extra = {}) {
  if (!env.FAKE_RECORD) return;
  const line = { event, pid: process.pid, host: env.FAKE_HOST ?? null, task, run, at: Date.now(), ...extra };
  fs.appendFileSync(env.FAKE_RECORD, `${JSON.stringify(line)}\n`);
}

async function heartbeat() {
  // Not AbortSignal.timeout: its timer does not hold the process open. When the link is cut at the
  // wrong moment, undici's fetch can be left waiting on nothing that does either, the event loop
  // empties and Node ends this module's top-level await with exit code 13, before the worker completes.
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(new Error("heartbeat timed out")), 2000);
  try {
    const res = await fetch(`${env.KANBAN_URL}/trpc/tasks.heartbeat`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${env.KANBAN_TOKEN}` },
      body: JSON.stringify({ id: task, expected_run_id: run, note: "fake remote worker" }),
      signal: abort.signal,
    });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return "network";
  } finally {
    clearTimeout(timer);
  }
}

record("start", { url: env.KANBAN_URL ?? null, outbox: env.KANBAN_OUTBOX ?? null });
// A worker that ends before its CLI returned (other than by a signal) says how, for the test's failure output.
let completed = false;
process.on("exit", (code) => {
  if (!completed && env.FAKE_HANG !== "1") record("exit", { exit: code });
});

if (env.FAKE_HANG === "1") {
  // A child that starts a grandchild, both sleeping: the tree a cancel must take down.
  const child = spawn(
    process.execPath,
    [
      "-e",
      "const c=require('node:child_process').spawn(process.execPath,['-e','setInterval(()=>{},1e9)'],{stdio:'ignore'});" +
        "process.stdout.write(String(c.pid)+'\\n');setInterval(()=>{},1e9)",
    ],
    { stdio: ["ignore", "pipe", "ignore"] },
  );
  const grandchild = await new Promise((resolve) => {
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
      if (out.includes("\n")) resolve(Number(out.trim()));
    });
  });
  record("hang", { tree: [process.pid, child.pid, grandchild] });
  for (;;) {
    await heartbeat();
    await new Promise((r) => setTimeout(r, 1000));
  }
}

const until = Date.now() + min + Math.random() * (max - min);
const beats = {};
while (Date.now() < until) {
  const status = await heartbeat();
  beats[status] = (beats[status] ?? 0) + 1;
  await new Promise((r) => setTimeout(r, Math.min(300, Math.max(0, until - Date.now()))));
}

// The real CLI, with exactly the environment the host gave this worker. Its timeout is shorter than
// the tests' waits (120 s), so a CLI that hangs shows up as a record saying so, not as a missing one.
record("cli");
const cli = spawnSync(
  process.execPath,
  [env.FAKE_KANBAN_BIN, "complete", task, "--summary", `fake worker ${process.pid} finished run ${run}`],
  { env, encoding: "utf8", timeout: 90_000 },
);
completed = true;
record("complete", {
  exit: cli.status,
  signal: cli.signal,
  stdout: (cli.stdout ?? "").slice(-400),
  stderr: (cli.stderr ?? "").slice(-400),
  beats,
});
process.exit(cli.status === 0 ? 0 : 1);
