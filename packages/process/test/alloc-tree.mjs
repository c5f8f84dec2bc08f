#!/usr/bin/env node
// A worker with a footprint: allocates and touches <mb> MiB, starts one child that leaves the
// process group (setsid, as a daemonising tool does) and holds <child-mb> MiB, then idles. With
// "ignore-term" both ignore SIGTERM. Writes {worker, child} pids as one JSON line to stdout, or to
// the file named by $ALLOC_TREE_PIDS (when started by a dispatcher, whose stdout is the task log).
// argv: <mb> <child-mb> [ignore-term]
import { spawn } from "node:child_process";
import fs from "node:fs";

const [mb, childMb, flag] = [Number(process.argv[2] ?? 64), Number(process.argv[3] ?? 0), process.argv[4]];
if (flag === "ignore-term") process.on("SIGTERM", () => {});
const MB = 1024 * 1024;
if (process.argv[2] === "--child") {
  // the child: argv = --child <mb> [ignore-term]
  if (process.argv[4] === "ignore-term" || process.argv[3] === "ignore-term") process.on("SIGTERM", () => {});
  globalThis.held = Buffer.alloc(Number(process.argv[3]) * MB, 1);
  setInterval(() => {}, 1000);
} else {
  globalThis.held = Buffer.alloc(mb * MB, 1);
  const child = spawn(
    process.execPath,
    [new URL(import.meta.url).pathname, "--child", String(childMb), ...(flag ? [flag] : [])],
    { stdio: "ignore", detached: true },
  );
  // Wait until the child has allocated before reporting (its RSS counts from then on).
  setTimeout(() => {
    const line = `${JSON.stringify({ worker: process.pid, child: child.pid })}\n`;
    if (process.env.ALLOC_TREE_PIDS) fs.writeFileSync(process.env.ALLOC_TREE_PIDS, line);
    else process.stdout.write(line);
  }, 300);
  setInterval(() => {}, 1000);
}
