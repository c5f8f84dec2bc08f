#!/usr/bin/env node
// `npm test`: lint, type-check and run every package's tests, then print one
// closing line "N passed, N failed" summed from the vitest JSON reports (CI reads that line).
import { spawn, spawnSync } from "node:child_process";
import { performance } from "node:perf_hooks";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { webBuildIsStale } from "./web-build.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
process.env.TURBO_TELEMETRY_DISABLED = "1";
process.env.NEXT_TELEMETRY_DISABLED = "1";
process.env.DO_NOT_TRACK = "1";

// The suites write thousands of temporary boards, PostgreSQL data directories, git repositories and
// workspaces, and every SQLite commit on a board is an fsync (synchronous FULL, as Hermes). On a VM's
// virtual disk each fsync waits on the host, so suites sat idle on I/O. When /dev/shm is a writable
// tmpfs, the suites' TMPDIR is a fresh directory there: the same real files and processes, kept in
// memory, removed at the end. KANBAN_TEST_TMPDIR names another directory, or `os` keeps the default.
const testTmp = makeTestTmp();
if (testTmp !== null) process.env.TMPDIR = testTmp;

function makeTestTmp() {
  const choice = process.env.KANBAN_TEST_TMPDIR?.trim();
  if (choice === "os") return null;
  try {
    const base = choice || "/dev/shm";
    if (!fs.statSync(base).isDirectory()) return null;
    const dir = fs.mkdtempSync(path.join(base, "kanban-test-"));
    // Like /tmp: the embedded PostgreSQL runs initdb as the `postgres` user when we are root.
    fs.chmodSync(dir, 0o1777);
    return dir;
  } catch {
    return null;
  }
}

function run(cmd, args) {
  console.log(`\n$ ${cmd} ${args.join(" ")}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: "inherit", env: process.env });
  return r.status === 0;
}

const workspaceDirs = ["packages", "apps", "tooling"].flatMap((d) => {
  const full = path.join(root, d);
  return fs.existsSync(full) ? fs.readdirSync(full).map((n) => path.join(full, n)) : [];
});
// Each suite, or each part of one, writes its own report: .vitest-report.json, .vitest-report.<part>.json.
const isReport = (name) => /^\.vitest-report(\.[\w-]+)?\.json$/.test(name);
for (const dir of workspaceDirs)
  for (const name of fs.existsSync(dir) ? fs.readdirSync(dir) : [])
    if (isReport(name)) fs.rmSync(path.join(dir, name), { force: true });

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

// The suites are CPU-bound on a 2-core machine (real processes, PostgreSQL, a browser), so the
// wall time is the CPU they need divided by two, plus whatever time a core sits idle. To keep both
// cores busy from start to end: the type check runs beside the first suites instead of before
// them; the two longest packages run as several vitest invocations (kernel: its 20k claim race on
// PostgreSQL, the rest of its PostgreSQL project, its SQLite project; reliability: the 20k
// scale-out race and the rest), so their parts fill lanes side by side; and three suites run at a
// time, longest first, because most suites wait on processes, a browser or the database part of the
// time. KANBAN_TEST_LANES changes the number.
const LANES = Math.max(1, Number(process.env.KANBAN_TEST_LANES) || 3);
const started = performance.now();
const timings = [];
/** Test jobs that exited non-zero (see the closing tally). */
const failedJobs = [];
// The suites start `kanban` and `kanban-dispatcher` hundreds of times. Through tsx each start costs
// ~0.7 CPU-s (a `kanban list` 2.4), the esbuild bundle of the same sources a quarter of that; so the
// runtime's server half (scripts/build-runtime.mjs --node-only: seconds) is built first, from this
// checkout, and KANBAN_RUNTIME_BIN points the two bins at it (apps/cli/bin/kanban.mjs). Should the
// build fail, the bins fall back to tsx and the failure is counted below.
const runtimeScript = path.join(root, "scripts", "build-runtime.mjs");
const runtimeBinOk =
  !fs.existsSync(runtimeScript) ||
  (await runPrefixed("build dist/runtime/bin", process.execPath, [runtimeScript, "--node-only"], root));
if (runtimeBinOk && fs.existsSync(runtimeScript))
  process.env.KANBAN_RUNTIME_BIN = path.join(root, "dist", "runtime", "bin");
const typecheck = runPrefixed("typecheck", process.execPath, [path.join(root, "scripts", "typecheck.mjs")], root);
// The production builds some suites serve, made once before those suites start (see prebuild).
const build = typecheck
  .then((checked) => prebuild(checked))
  .catch((err) => {
    console.log(`build: ${err instanceof Error ? err.message : String(err)}`);
    return false;
  });
const testOk = await runTests(LANES);
const checkOk = await typecheck;
const buildOk = await build;
console.log(`\nsuite times (${LANES} at a time): ${timings.join(", ")}; all done after ${seconds(started)} s`);

function seconds(since) {
  return Math.round((performance.now() - since) / 1000);
}

/** Runs `cmd` in `cwd`, each output line prefixed with `label:`; resolves to whether it exited 0. */
function runPrefixed(label, cmd, args, cwd, env = process.env) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    console.log(`${label}: $ ${cmd} ${args.join(" ")}`);
    const child = spawn(cmd, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    const cpu = cpuAccount(label, child.pid);
    for (const stream of [child.stdout, child.stderr]) {
      let rest = "";
      stream.setEncoding("utf8");
      stream.on("data", (chunk) => {
        const lines = (rest + chunk).split("\n");
        rest = lines.pop() ?? "";
        for (const line of lines) process.stdout.write(`${label}: ${line}\n`);
      });
      stream.on("end", () => {
        if (rest) process.stdout.write(`${label}: ${rest}\n`);
      });
    }
    child.on("error", (err) => {
      console.log(`${label}: ${err.message}`);
      resolve(false);
    });
    child.on("close", (code, signal) => {
      const cpuSeconds = cpu?.close();
      timings.push(`${label} ${seconds(t0)} s${cpuSeconds === undefined ? "" : ` (${cpuSeconds} CPU-s)`}`);
      if (code !== 0) console.log(`${label}: exited ${signal ?? code}`);
      resolve(code === 0);
    });
  });
}

/**
 * CPU seconds a job and every process it starts use, from a cgroup v1 `cpuacct` group of its own
 * (root on a machine that mounts one). The suites are CPU-bound, so this, not the wall time, says
 * which suite to make cheaper; the wall time of each depends on what ran beside it. The group counts
 * processes a job leaves behind or daemonises too (PostgreSQL servers, browsers), which a parent's
 * rusage would miss. Anywhere else the figure is left out. The job's first fork comes after npm has
 * loaded, well after its pid is written into the group.
 */
function cpuAccount(label, pid) {
  const base = "/sys/fs/cgroup/cpuacct";
  if (pid === undefined || process.getuid?.() !== 0 || !fs.existsSync(path.join(base, "cpuacct.usage"))) return null;
  const dir = path.join(base, `kanban-test-${process.pid}-${label.replace(/[^\w.-]+/g, "_")}`);
  try {
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, "cgroup.procs"), String(pid));
  } catch {
    return null;
  }
  return {
    close() {
      try {
        const ns = Number(fs.readFileSync(path.join(dir, "cpuacct.usage"), "utf8"));
        return Math.round(ns / 1e9);
      } catch {
        return undefined;
      } finally {
        // A process the job left running keeps the group; the kernel removes nothing by itself.
        try {
          fs.rmdirSync(dir);
        } catch {}
      }
    },
  };
}

/**
 * The board's production builds, made here once, after the type check (the web type check's
 * `next typegen` writes into .next) and before the suites that use them start: apps/web/.next,
 * which the web e2e suite and reliability's hostile-data test serve with `next start` (each builds
 * it itself when it is missing or stale, so two of them side by side would build into .next at
 * once), and dist/runtime (scripts/build-runtime.mjs), which `npm start` and `kanban start` run
 * (reliability's npm-start and supervisor-stop tests and pack's kanban-start test build it inside a
 * test, whose timeout a build on a busy machine would eat). Resolves to whether both builds succeeded.
 */
async function prebuild(typesChecked) {
  const web = path.join(root, "apps", "web");
  const env = { ...process.env, NEXT_TELEMETRY_DISABLED: "1" };
  // The type check just passed on these sources: the board's build skips its second one (next.config.ts).
  if (typesChecked) env.KANBAN_WEB_TYPES_CHECKED = "1";
  let ok = true;
  // The same staleness rule as apps/web/e2e/global-setup.ts (scripts/web-build.mjs).
  if (fs.existsSync(web) && webBuildIsStale(root)) {
    const next = path.join(root, "node_modules", "next", "dist", "bin", "next");
    ok = (await runPrefixed("build apps/web/.next", process.execPath, [next, "build"], web, env)) && ok;
  }
  // Its server half is built already (above); its web half takes the standalone server of the build
  // just made (--reuse-app-build) instead of a second `next build`.
  if (fs.existsSync(runtimeScript))
    ok =
      (await runPrefixed("build dist/runtime", process.execPath, [runtimeScript, "--reuse-app-build"], root, env)) &&
      ok;
  return ok;
}

/**
 * What each lane runs: a package's `npm test`, or one part of it (extra vitest arguments and a
 * report of its own), with the seconds it took in a clean-clone CI run under load (to start the
 * longest first) and whether it needs the production builds.
 */
function testJobs() {
  const splits = {
    // The 20k claim race on PostgreSQL alone is half of the PostgreSQL project's time. The other
    // kernel files share one worker process (--no-isolate): they keep no state in modules from one
    // file to the next, and loading the kernel afresh for each of ~70 files cost a third of their
    // CPU (the SQLite project: 174 CPU-s isolated, 116 shared, every test passing both ways).
    // `npx vitest run` in packages/kernel still isolates each file.
    kernel: [
      { part: "postgres-race", args: ["--project", "postgres", "src/concurrency.test.ts"], weight: 250, heavy: true },
      {
        part: "postgres",
        args: ["--project", "postgres", "--exclude", "src/concurrency.test.ts", "--no-isolate"],
        weight: 220,
      },
      { part: "sqlite", args: ["--project", "sqlite", "--no-isolate"], weight: 110 },
    ],
    reliability: [
      { part: "scale-out", args: ["src/scale-out-pg.test.ts"], weight: 330, heavy: true },
      // The remote-host scenarios (issue 15) mostly wait out injected network cuts: a lane of their
      // own, their files three at a time (each starts its own server and hosts on free ports).
      { part: "remote", args: ["src/remote/", "--fileParallelism", "--maxWorkers=3"], weight: 300 },
      {
        part: "rest",
        args: ["--exclude", "src/scale-out-pg.test.ts", "--exclude", "src/remote/**"],
        weight: 300,
        needsBuild: true,
      },
    ],
  };
  const weights = { dispatcher: 206, cli: 178, web: 175, api: 154, pack: 75, bench: 67, db: 37, process: 12 };
  const needsBuild = new Set(["web", "pack"]);
  // These suites' files share their worker processes too (--no-isolate), as the kernel's do: each
  // isolated file loaded the kernel, the api and their dependencies again. Measured on this 2-core
  // VM, isolated against shared: api 227 -> 121 CPU-s, db 50 -> 33, web 355 -> 283 (each alone),
  // dispatcher 359 -> 306 and cli 335 -> 273 (the two side by side), every test passing both ways. A
  // test that changes process.env puts it back when it ends. Reliability, pack and bench have a few
  // long files each.
  const shared = new Set(["api", "cli", "db", "dispatcher", "web"]);
  const jobs = [];
  for (const dir of workspaceDirs) {
    const manifest = path.join(dir, "package.json");
    if (!fs.existsSync(manifest)) continue;
    const pkg = JSON.parse(fs.readFileSync(manifest, "utf8"));
    if (!pkg.scripts?.test) continue;
    const base = path.basename(dir);
    const parts = splits[base];
    if (parts) {
      for (const p of parts)
        jobs.push({
          dir,
          label: `${pkg.name}[${p.part}]:test`,
          args: [...p.args, `--outputFile.json=.vitest-report.${p.part}.json`],
          report: path.join(dir, `.vitest-report.${p.part}.json`),
          weight: p.weight,
          needsBuild: p.needsBuild === true,
          heavy: p.heavy === true,
        });
    } else {
      jobs.push({
        dir,
        label: `${pkg.name}:test`,
        args: shared.has(base) ? ["--no-isolate"] : [],
        report: path.join(dir, ".vitest-report.json"),
        weight: weights[base] ?? 0,
        needsBuild: needsBuild.has(base),
      });
    }
  }
  return jobs.sort((a, b) => b.weight - a.weight || a.label.localeCompare(b.label));
}

/**
 * Runs every job, `lanes` at a time, longest first; a job that needs the builds is passed over
 * (for the next one) until they are done.
 */
async function runTests(lanes) {
  console.log(`\n$ npm test in every workspace, ${lanes} at a time, longest first`);
  const queue = testJobs();
  let built = false;
  void build.then(() => {
    built = true;
  });
  let ok = true;
  // The two 20k-task races on PostgreSQL each keep both cores busy; run side by side (with a third
  // suite) they starved each other past their hang guard. At most one heavy job runs at a time.
  let heavyRunning = false;
  let wake = () => {};
  let changed = new Promise((r) => {
    wake = r;
  });
  const signal = () => {
    const w = wake;
    changed = new Promise((r) => {
      wake = r;
    });
    w();
  };
  void build.then(signal);
  const lane = async () => {
    for (;;) {
      const i = queue.findIndex((j) => (built || !j.needsBuild) && !(j.heavy && heavyRunning));
      if (i === -1) {
        if (queue.length === 0) return;
        await changed;
        continue;
      }
      const [job] = queue.splice(i, 1);
      if (job.heavy) heavyRunning = true;
      const args = job.args.length > 0 ? ["test", "--", ...job.args] : ["test"];
      if (!(await runPrefixed(job.label, "npm", args, job.dir))) {
        ok = false;
        failedJobs.push(job);
      }
      if (job.heavy) heavyRunning = false;
      signal();
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  return ok;
}

let passed = 0;
let failed = 0;
/** Reports that hold at least one failure of their own. */
const reportsWithFailures = new Set();
let skipped = 0;
const reports = workspaceDirs.flatMap((dir) =>
  fs.existsSync(dir)
    ? fs
        .readdirSync(dir)
        .filter(isReport)
        .map((name) => path.join(dir, name))
    : [],
);
// What failed, one line each, just above the closing line: CI keeps only the tail of a long log.
const failures = [];
const firstLine = (text) =>
  String(text ?? "")
    .replace(/\x1b\[[0-9;]*m/g, "")
    .split("\n")
    .find((l) => l.trim() !== "")
    ?.trim()
    .slice(0, 200) ?? "";
for (const report of reports) {
  const json = JSON.parse(fs.readFileSync(report, "utf8"));
  passed += json.numPassedTests ?? 0;
  failed += json.numFailedTests ?? 0;
  if ((json.numFailedTests ?? 0) > 0 || (json.testResults ?? []).some((f) => f.status === "failed"))
    reportsWithFailures.add(path.resolve(report));
  skipped += (json.numPendingTests ?? 0) + (json.numTodoTests ?? 0);
  for (const file of json.testResults ?? []) {
    const where = path.relative(root, file.name ?? "");
    const failedTests = (file.assertionResults ?? []).filter((a) => a.status === "failed");
    for (const a of failedTests)
      failures.push(`${where} > ${a.fullName ?? a.title}: ${firstLine(a.failureMessages?.[0])}`);
    // A test file that failed to load has no failed assertions of its own: count it once.
    if (file.status === "failed" && failedTests.length === 0) {
      failed += 1;
      // A hook that failed leaves no message in the report, only the tests it kept from running.
      const notRun = (file.assertionResults ?? []).filter((a) => a.status !== "passed").map((a) => a.title);
      const why = firstLine(file.message) || `a hook failed (see its output above); not run: ${notRun.join("; ")}`;
      failures.push(`${where}: ${why.slice(0, 300)}`);
    }
  }
}
// A suite that exited non-zero without a failed test in its report failed outside its tests (a
// global setup that threw, a module that would not resolve): count it, or a whole suite could be
// missing from the total while the closing line names only the others.
for (const job of failedJobs) {
  if (reportsWithFailures.has(path.resolve(job.report))) continue;
  failed += 1;
  failures.push(`${job.label}: exited non-zero with no failed test in its report (see its "${job.label}:" lines)`);
}
if (failures.length > 0) console.log(`\nfailed:\n${failures.map((f) => `  ${f}`).join("\n")}`);
// Steps that fail outside vitest (lint, typecheck, a crashed runner) count as one failure each
// when no test failure already accounts for them.
const stepFailures = [lintOk, runtimeBinOk, checkOk, buildOk, testOk].filter((ok) => !ok).length;
const totalFailed = failed > 0 ? failed : stepFailures;
if (testTmp !== null) fs.rmSync(testTmp, { recursive: true, force: true });
console.log(`\n${passed} passed, ${totalFailed} failed${skipped ? `, ${skipped} skipped` : ""}`);
process.exit(totalFailed === 0 && passed > 0 ? 0 : 1);
