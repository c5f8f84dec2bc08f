#!/usr/bin/env node
// A stand-in for a worker with descendants: prints its pid, starts the next level (child, then
// grandchild…) with the same stdout, then idles forever.
// argv: <levels, default 3> <1 = every level ignores SIGTERM>
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const levels = Number(process.argv[2] ?? 3);
const ignoreTerm = process.argv[3] === "1";
if (ignoreTerm) process.on("SIGTERM", () => {});
process.stdout.write(`${process.pid}\n`);
if (levels > 1) {
  spawn(process.execPath, [fileURLToPath(import.meta.url), String(levels - 1), ignoreTerm ? "1" : "0"], {
    stdio: ["ignore", "inherit", "ignore"],
  });
}
setInterval(() => {}, 1000);
