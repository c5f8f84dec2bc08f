#!/usr/bin/env node
// `npm start`: install dependencies when they are missing, build the runtime when its sources
// changed (scripts/build-runtime.mjs: esbuild bundles of the server processes, Next's standalone
// board; nothing is rebuilt on an unchanged checkout), then run the built product on the embedded
// SQLite default, or on PostgreSQL when KANBAN_DATABASE_URL (or config.json's "database") names one
// (see scripts/start-product.ts). No process runs TypeScript through tsx. Uses only Node built-ins
// until the install has happened. `--rebuild` rebuilds everything.
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
process.env.TURBO_TELEMETRY_DISABLED = "1";
process.env.NEXT_TELEMETRY_DISABLED = "1";

const installed =
  fs.existsSync(path.join(root, "node_modules", ".package-lock.json")) &&
  fs.existsSync(path.join(root, "node_modules", "better-sqlite3", "build", "Release", "better_sqlite3.node"));
if (!installed) {
  console.log("kanban: installing dependencies (first run; compiling better-sqlite3 takes about a minute)…");
  const r = spawnSync("npm", ["ci", "--no-audit", "--no-fund"], { cwd: root, stdio: "inherit" });
  if (r.status !== 0) {
    console.error("kanban: npm ci failed; see the output above");
    process.exit(1);
  }
}

const args = process.argv.slice(2);
const { ensureRuntime, RUNTIME } = await import("./build-runtime.mjs");
try {
  await ensureRuntime({ force: args.includes("--rebuild") });
} catch (err) {
  console.error(`kanban: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
const bin = path.join(RUNTIME, "bin");

const child = spawn(process.execPath, [path.join(bin, "start-product.js"), ...args.filter((a) => a !== "--rebuild")], {
  cwd: root,
  stdio: "inherit",
  // start-product watches for our death by this (packages/process/src/parent-watch.ts).
  env: { ...process.env, KANBAN_PARENT_PID: String(process.pid) },
});
// A supervisor, a terminal or the watch below signals us; start-product stops the parts (a hang-up
// means stop too).
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"])
  process.on(sig, () => child.kill(sig === "SIGHUP" ? "SIGTERM" : sig));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));

// Under `npm start` npm forwards a supervisor's SIGTERM only to the `sh -c` it runs us through,
// which dies of it without passing it on; a SIGKILLed npm leaves that shell waiting. Either way we
// are left running: watch npm and the shell, and stop as on SIGTERM once they are gone.
const { exitWithSupervisor } = await import(pathToFileURL(path.join(bin, "parent-watch.js")).href);
exitWithSupervisor({ log: (line) => process.stderr.write(`kanban: ${line}\n`) });
