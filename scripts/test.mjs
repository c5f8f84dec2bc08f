#!/usr/bin/env node
// `npm test`: lint, type-check and run every package's tests through turbo, then print one
// closing line "N passed, N failed" summed from the vitest JSON reports (CI reads that line).
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
process.env.TURBO_TELEMETRY_DISABLED = "1";
process.env.NEXT_TELEMETRY_DISABLED = "1";
process.env.DO_NOT_TRACK = "1";

function run(cmd, args) {
  console.log(`\n$ ${cmd} ${args.join(" ")}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: "inherit", env: process.env });
  return r.status === 0;
}

const workspaceDirs = ["packages", "apps", "tooling"].flatMap((d) => {
  const full = path.join(root, d);
  return fs.existsSync(full) ? fs.readdirSync(full).map((n) => path.join(full, n)) : [];
});
for (const dir of workspaceDirs) fs.rmSync(path.join(dir, ".vitest-report.json"), { force: true });

// The web board's browser tests drive Debian's chromium; never download a browser.
const chromium = process.env.CHROMIUM ?? "/usr/bin/chromium";
if (!fs.existsSync(chromium)) {
  if (process.getuid?.() === 0) {
    console.log("chromium is missing: installing Debian's package (apt-get install -y chromium)…");
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
    const update = spawnSync("apt-get", ["update", "-q"], { stdio: "inherit", env });
    const install =
      update.status === 0
        ? spawnSync("apt-get", ["install", "-y", "-q", "chromium"], { stdio: "inherit", env })
        : update;
    if (install.status !== 0 || !fs.existsSync(chromium)) {
      console.error("kanban: could not install chromium; run `sudo apt-get install -y chromium` and try again");
      console.log("\n0 passed, 1 failed");
      process.exit(1);
    }
  } else {
    console.error(
      "kanban: the browser tests need Debian's chromium: run `sudo apt-get install -y chromium` (or set CHROMIUM=/path/to/chromium)",
    );
    console.log("\n0 passed, 1 failed");
    process.exit(1);
  }
}

// Lint and formatting (width 120): a file biome would reformat fails the run, as a lint error does.
const lintOk = run("npx", ["biome", "check", "."]);
const checkOk = run("npx", ["turbo", "run", "typecheck", "--concurrency=2", "--output-logs=errors-only"]);
// Two packages at a time: most suites spend their time waiting on processes, a browser or fsync
// (the reliability suite, the board's browser tests), so a second one fills the idle core. Longest
// first (the order below, from measured suite times): started last, the kernel's ~9 minutes
// used to run alone at the end while the other slot sat idle.
const testOk = await runTests(2);

/** Each workspace with a test script, longest suite first. */
function testPackages() {
  const known = ["reliability", "kernel", "dispatcher", "web", "cli", "api", "bench", "pack", "db", "process"];
  const found = workspaceDirs
    .filter((dir) => {
      const pkg = path.join(dir, "package.json");
      return fs.existsSync(pkg) && JSON.parse(fs.readFileSync(pkg, "utf8")).scripts?.test;
    })
    .map((dir) => ({ dir, name: JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")).name }));
  const rank = (dir) => {
    const i = known.indexOf(path.basename(dir));
    return i === -1 ? known.length : i;
  };
  return found.sort((a, b) => rank(a.dir) - rank(b.dir) || a.name.localeCompare(b.name));
}

/** Runs every package's `npm test`, `slots` at a time, each line prefixed with its package (as turbo did). */
async function runTests(slots) {
  console.log(`\n$ npm test in every workspace, ${slots} at a time, longest first`);
  const queue = testPackages();
  let ok = true;
  const runOne = ({ dir, name }) =>
    new Promise((resolve) => {
      const child = spawn("npm", ["test"], { cwd: dir, env: process.env, stdio: ["ignore", "pipe", "pipe"] });
      for (const stream of [child.stdout, child.stderr]) {
        let rest = "";
        stream.setEncoding("utf8");
        stream.on("data", (chunk) => {
          const lines = (rest + chunk).split("\n");
          rest = lines.pop() ?? "";
          for (const line of lines) process.stdout.write(`${name}:test: ${line}\n`);
        });
        stream.on("end", () => {
          if (rest) process.stdout.write(`${name}:test: ${rest}\n`);
        });
      }
      child.on("close", (code, signal) => {
        if (code !== 0) {
          ok = false;
          console.log(`${name}:test: exited ${signal ?? code}`);
        }
        resolve();
      });
    });
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) await runOne(next);
  };
  await Promise.all(Array.from({ length: slots }, worker));
  return ok;
}

let passed = 0;
let failed = 0;
let skipped = 0;
for (const dir of workspaceDirs) {
  const report = path.join(dir, ".vitest-report.json");
  if (!fs.existsSync(report)) continue;
  const json = JSON.parse(fs.readFileSync(report, "utf8"));
  passed += json.numPassedTests ?? 0;
  failed += json.numFailedTests ?? 0;
  skipped += (json.numPendingTests ?? 0) + (json.numTodoTests ?? 0);
  // A test file that failed to load has no failed assertions of its own: count it once.
  for (const file of json.testResults ?? []) {
    const anyFailed = (file.assertionResults ?? []).some((a) => a.status === "failed");
    if (file.status === "failed" && !anyFailed) failed += 1;
  }
}
// Steps that fail outside vitest (lint, typecheck, a crashed runner) count as one failure each
// when no test failure already accounts for them.
const stepFailures = [lintOk, checkOk, testOk].filter((ok) => !ok).length;
const totalFailed = failed > 0 ? failed : stepFailures;
console.log(`\n${passed} passed, ${totalFailed} failed${skipped ? `, ${skipped} skipped` : ""}`);
process.exit(totalFailed === 0 && passed > 0 ? 0 : 1);
