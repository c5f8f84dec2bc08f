#!/usr/bin/env node
// A stand-in for a real agent worker, used by the dispatcher's tests. It acts on the task named by
// KANBAN_DB (or KANBAN_DATABASE_URL + KANBAN_BOARD) / KANBAN_TASK through @kanban/kernel, fenced on KANBAN_RUN_ID like a real worker.
//
// Mode: the first argument when it is a known mode, else $FAKE_WORKER_MODE, else "complete".
//   complete                 heartbeat, comment, complete (result = the working directory)
//   heartbeat-then-complete  heartbeat and extend the claim a few times, then complete
//   crash                    exit 3 without touching the board
//   exit0                    exit 0 without settling the task (a protocol violation)
//   hang                     run forever, with a grandchild in the same process group
//   ignore-sigterm           like hang, but the worker and its grandchild ignore SIGTERM
//   relay                    asks the test process at $FAKE_WORKER_RELAY (127.0.0.1:port) to complete
//                            the task, fenced by its run, and exits 0 once it has: a worker that
//                            talks to a server instead of loading the kernel (cheap, for many tasks)
// $FAKE_WORKER_ECHO: a comma-separated list of variable names: print `NAME=value` for each first
//                    (an agent that dumps its environment into its output).
// $FAKE_WORKER_RECORD: append one JSON line {pid, argv, cwd, env (KANBAN_*/HERMES_*)} to that file.
// Hanging modes write {worker, grandchild} pids to ./pids.json in the workspace.
import { spawn } from "node:child_process";
import fs from "node:fs";
import { loadKernel } from "./fake-kernel.mjs";

const MODES = ["complete", "heartbeat-then-complete", "crash", "exit0", "hang", "ignore-sigterm", "relay"];
const mode = MODES.includes(process.argv[2]) ? process.argv[2] : (process.env.FAKE_WORKER_MODE ?? "complete");
const taskId = process.env.KANBAN_TASK;
const runId = Number(process.env.KANBAN_RUN_ID);
console.log(`fake worker ${process.pid}: mode=${mode} task=${taskId} run=${runId}`);
for (const name of (process.env.FAKE_WORKER_ECHO ?? "").split(",").filter(Boolean)) {
  console.log(`${name}=${process.env[name] ?? ""}`);
  console.log(`(the value of ${name} alone: ${process.env[name] ?? ""})`);
}

if (process.env.FAKE_WORKER_RECORD) {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => k.startsWith("KANBAN_") || k.startsWith("HERMES_") || k.startsWith("FAKE_"),
    ),
  );
  fs.appendFileSync(
    process.env.FAKE_WORKER_RECORD,
    `${JSON.stringify({ pid: process.pid, argv: process.argv.slice(2), cwd: process.cwd(), env })}\n`,
  );
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function board() {
  const { openBoard, openPgBoard } = await loadKernel();
  // A board on PostgreSQL reaches a local-mode worker as KANBAN_DATABASE_URL + KANBAN_BOARD (no KANBAN_DB).
  if (process.env.KANBAN_DATABASE_URL && !process.env.KANBAN_DB) {
    return await openPgBoard({
      url: process.env.KANBAN_DATABASE_URL,
      board: process.env.KANBAN_BOARD,
      poolSize: 2,
      warn: () => {},
    });
  }
  return openBoard({ path: process.env.KANBAN_DB, warn: () => {} });
}

async function complete(heartbeats) {
  const b = await board();
  const fence = { expected_run_id: runId, claim_lock: process.env.KANBAN_CLAIM_LOCK };
  for (let i = 0; i < heartbeats; i++) {
    await b.heartbeatWorker(taskId, { ...fence, note: `beat ${i + 1}` });
    await b.heartbeatClaim(taskId, fence);
    await sleep(150);
  }
  await b.addComment(taskId, "fake-worker", `working in ${process.cwd()}`, fence);
  await b.completeTask(taskId, {
    ...fence,
    result: process.cwd(),
    summary: `fake worker ${process.pid} done`,
    metadata: { pid: process.pid, mode },
  });
  b.close();
  console.log("completed");
}

function hang(ignoreTerm) {
  if (ignoreTerm) process.on("SIGTERM", () => console.log("ignoring SIGTERM"));
  const code = `${ignoreTerm ? "process.on('SIGTERM', () => {});" : ""} setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ["-e", code], { stdio: "ignore" });
  fs.writeFileSync("pids.json", JSON.stringify({ worker: process.pid, grandchild: child.pid }));
  setInterval(() => {}, 1000);
}

/** One request to the test's relay: the task and its fence; the answer is one line, `ok` or an error. */
async function relay() {
  const net = await import("node:net");
  const [host, port] = (process.env.FAKE_WORKER_RELAY ?? "").split(":");
  const answer = await new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), host, () => {
      socket.write(
        `${JSON.stringify({ task: taskId, run: runId, lock: process.env.KANBAN_CLAIM_LOCK, pid: process.pid })}\n`,
      );
    });
    let got = "";
    socket.on("data", (d) => {
      got += d;
      if (got.includes("\n")) {
        resolve(got.trim());
        socket.end();
      }
    });
    socket.on("error", reject);
  });
  if (answer !== "ok") {
    console.error(`relay refused: ${answer}`);
    process.exit(2);
  }
  console.log("completed through the relay");
}

switch (mode) {
  case "relay":
    await relay();
    break;
  case "complete":
    await complete(1);
    break;
  case "heartbeat-then-complete":
    await complete(3);
    break;
  case "crash":
    process.exit(3);
    break;
  case "exit0":
    process.exit(0);
    break;
  case "hang":
    hang(false);
    break;
  case "ignore-sigterm":
    hang(true);
    break;
  default:
    console.error(`unknown mode ${mode}`);
    process.exit(64);
}
