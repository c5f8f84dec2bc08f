#!/usr/bin/env node
// `npm start`: install dependencies when they are missing, then run the product on the embedded
// SQLite default. Uses only Node built-ins until the install has happened.
import { spawnSync, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

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

const child = spawn(
  process.execPath,
  ["--import", "tsx", path.join(root, "scripts", "start-product.ts"), ...process.argv.slice(2)],
  {
    cwd: root,
    stdio: "inherit",
    env: process.env,
  },
);
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => child.kill(sig));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
