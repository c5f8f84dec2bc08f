#!/usr/bin/env node
// Builds what `npm start` runs (and what the packed `kanban` ships for `kanban start`) into
// dist/runtime/, so no running process loads TypeScript through tsx:
//   bin/*.js        esbuild bundles of start-product, the CLI's entry, the dispatcher and the
//                   parent-watch preload, with the workspace packages' sources inlined
//   cli/            the CLI (`kanban serve` and every verb) as CommonJS chunks, which bin/kanban.js
//                   loads through V8's code cache (apps/cli/build/cjs-chunks.mjs)
//   drizzle*/       the migrations (@kanban/db looks for them at `<module dir>/../drizzle`)
//   web/            the board: Next's standalone output (server.js, its traced node_modules, static)
//   stamp.json      a fingerprint of the sources each half was built from
// Each half is rebuilt only when its sources changed since its stamp (paths, sizes and mtimes of
// every source file), so an edit is never served stale and an unchanged checkout starts at once.
// `node scripts/build-runtime.mjs [--force] [--node-only] [--reuse-app-build]`; also imported by
// scripts/start.mjs. --reuse-app-build takes the web half from apps/web/.next when that build is
// fresh (npm test, which has just built it for the browser tests).
import { spawnSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const RUNTIME = path.join(ROOT, "dist", "runtime");
const STAMP = path.join(RUNTIME, "stamp.json");
const SKIP_DIRS = new Set(["node_modules", ".next", "dist", ".turbo", "e2e", "test", "coverage"]);

/** Every file under `dir` that can change what is built (tests and build output left out). */
function listSources(dir, out) {
  let entries;
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (!SKIP_DIRS.has(e.name)) listSources(full, out);
    } else if (!/\.test\.tsx?$/.test(e.name)) out.push(full);
  }
}

/** Every source file under `inputs` (paths relative to the checkout; missing ones are skipped). */
function sourceFiles(inputs) {
  const files = [];
  for (const input of inputs) {
    const full = path.join(ROOT, input);
    if (!fs.existsSync(full)) continue;
    if (fs.statSync(full).isDirectory()) listSources(full, files);
    else files.push(full);
  }
  return files;
}

function fingerprint(inputs) {
  const files = sourceFiles(inputs);
  const hash = crypto.createHash("sha256");
  for (const f of files.sort()) {
    const st = fs.statSync(f);
    hash.update(`${path.relative(ROOT, f)}\0${st.size}\0${st.mtimeMs}\n`);
  }
  return hash.digest("hex");
}

const packageDirs = () =>
  fs.readdirSync(path.join(ROOT, "packages")).flatMap((d) => [`packages/${d}/src`, `packages/${d}/package.json`]);

const WEB_INPUTS = [
  "apps/web/src",
  "apps/web/public",
  "apps/web/package.json",
  "apps/web/next.config.ts",
  "apps/web/postcss.config.mjs",
  "apps/web/tsconfig.json",
  "scripts/build-runtime.mjs",
];

const sharedInputs = () => [...packageDirs(), "packages/db/drizzle", "packages/db/drizzle-pg", "package-lock.json"];

/** What each half is built from. */
function inputs() {
  const shared = sharedInputs();
  return {
    node: fingerprint([
      ...shared,
      "apps/cli/src",
      "apps/cli/build/cjs-chunks.mjs",
      "apps/cli/package.json",
      "scripts/start-product.ts",
      "scripts/demo.ts",
      "scripts/runtime",
      "scripts/build-runtime.mjs",
    ]),
    web: fingerprint([...shared, ...WEB_INPUTS]),
  };
}

function readStamp() {
  try {
    return JSON.parse(fs.readFileSync(STAMP, "utf8"));
  } catch {
    return {};
  }
}

function writeStamp(stamp) {
  fs.mkdirSync(RUNTIME, { recursive: true });
  fs.writeFileSync(STAMP, `${JSON.stringify(stamp, null, 2)}\n`);
}

async function buildNode() {
  const { build } = await import("esbuild");
  const { buildCjsChunks, NATIVE_MODULES, NODE_BUNDLE } = await import("../apps/cli/build/cjs-chunks.mjs");
  const bin = path.join(RUNTIME, "bin");
  fs.rmSync(bin, { recursive: true, force: true });
  await build({
    entryPoints: {
      "start-product": path.join(ROOT, "scripts", "start-product.ts"),
      kanban: path.join(ROOT, "scripts", "runtime", "cli.ts"),
      dispatcher: path.join(ROOT, "packages", "dispatcher", "src", "main.ts"),
      "exit-with-parent": path.join(ROOT, "scripts", "runtime", "exit-with-parent.ts"),
      "parent-watch": path.join(ROOT, "scripts", "runtime", "parent-watch.ts"),
    },
    outdir: bin,
    ...NODE_BUNDLE,
    // Next stays in the web half.
    external: [...NATIVE_MODULES, "next"],
    banner: {
      js: 'import { createRequire as __kanbanRequire } from "node:module"; const require = __kanbanRequire(import.meta.url);',
    },
    legalComments: "none",
    minifyWhitespace: true,
    minifySyntax: true,
    logLevel: "warning",
  });
  // The CLI that bin/kanban.js runs through V8's code cache: CommonJS chunks in cli/ (beside bin/, so
  // that @kanban/db finds the migrations at cli/../drizzle).
  await buildCjsChunks({
    entries: { cli: path.join(ROOT, "apps", "cli", "src", "main.ts") },
    outdir: path.join(RUNTIME, "cli"),
  });
  for (const dir of ["drizzle", "drizzle-pg"]) {
    fs.rmSync(path.join(RUNTIME, dir), { recursive: true, force: true });
    fs.cpSync(path.join(ROOT, "packages", "db", dir), path.join(RUNTIME, dir), { recursive: true });
  }
}

/** Newest modification time of the files under `inputs` (paths relative to the checkout). */
function newestInput(inputs) {
  return Math.max(0, ...sourceFiles(inputs).map((f) => fs.statSync(f).mtimeMs));
}

/**
 * The board's own production build (apps/web/.next, which `next build` in apps/web makes with the
 * same config, standalone output included), when it was made after its last input changed. `npm
 * test` has just made it for the browser tests: taking its standalone half saves a second `next
 * build` of the same sources (minutes of CPU on CI).
 */
function freshAppBuild() {
  const distDir = ".next";
  const app = path.join(ROOT, "apps", "web");
  const buildId = path.join(app, distDir, "BUILD_ID");
  if (!fs.existsSync(buildId) || !fs.existsSync(path.join(app, distDir, "standalone", "apps", "web", "server.js")))
    return null;
  // This script is an input of the runtime's web half, not of the app's build.
  const appInputs = [...sharedInputs(), ...WEB_INPUTS.filter((p) => !p.startsWith("scripts/"))];
  return fs.statSync(buildId).mtimeMs > newestInput(appInputs) ? distDir : null;
}

function buildWeb({ reuseAppBuild = false } = {}) {
  const app = path.join(ROOT, "apps", "web");
  let distDir = reuseAppBuild ? freshAppBuild() : null;
  if (distDir === null) {
    const next = path.join(ROOT, "node_modules", "next", "dist", "bin", "next");
    distDir = path.join("dist", "next");
    const env = { ...process.env, NEXT_TELEMETRY_DISABLED: "1", NODE_ENV: "production", KANBAN_NEXT_DIST_DIR: distDir };
    delete env.NODE_OPTIONS;
    // next build rewrites next-env.d.ts (tracked) to point at its distDir: keep the checkout's.
    const nextEnv = path.join(app, "next-env.d.ts");
    const nextEnvText = fs.existsSync(nextEnv) ? fs.readFileSync(nextEnv, "utf8") : null;
    const r = spawnSync(process.execPath, [next, "build"], { cwd: app, stdio: "inherit", env });
    if (nextEnvText !== null && fs.readFileSync(nextEnv, "utf8") !== nextEnvText)
      fs.writeFileSync(nextEnv, nextEnvText);
    if (r.status !== 0) throw new Error("the web build failed; see the output above");
  }
  const standalone = path.join(app, distDir, "standalone");
  const web = path.join(RUNTIME, "web");
  fs.rmSync(web, { recursive: true, force: true });
  fs.mkdirSync(RUNTIME, { recursive: true });
  fs.renameSync(standalone, web);
  // Next traces the app's whole directory (packages/process reads /proc paths it cannot resolve
  // statically), sources and tests included: keep only what the server runs.
  const served = path.join(web, "apps", "web");
  const keep = new Set([
    distDir.split(path.sep)[0],
    "server.js",
    "server.cjs",
    "package.json",
    "node_modules",
    "public",
  ]);
  for (const entry of fs.readdirSync(served))
    if (!keep.has(entry)) fs.rmSync(path.join(served, entry), { recursive: true, force: true });
  // Next traces its image optimizer's library into every standalone server; the board turns the
  // optimizer off (images.unoptimized in next.config.ts), so sharp and its libvips (~19 MB, a third
  // of the runtime) are never loaded and not shipped.
  for (const unused of ["sharp", "@img"])
    fs.rmSync(path.join(web, "node_modules", unused), { recursive: true, force: true });
  // The supervisor starts server.cjs. Next writes server.js as CommonJS when it finds no package.json
  // beside its distDir's parent (the runtime's own dist/next build): that file becomes server.cjs,
  // since the app's package.json says "type": "module". From apps/web/.next it finds that
  // package.json and writes an ES module instead: it stays server.js, and server.cjs loads it.
  const server = path.join(served, "server.js");
  if (fs.readFileSync(server, "utf8").includes("import.meta.url"))
    fs.writeFileSync(
      path.join(served, "server.cjs"),
      '// Loads Next\'s standalone server, an ES module here (see scripts/build-runtime.mjs).\nimport("./server.js").catch((err) => {\n  console.error(err);\n  process.exit(1);\n});\n',
    );
  else fs.renameSync(server, path.join(served, "server.cjs"));
  // Next leaves the browser assets and public/ out of the standalone tree (a CDN may serve them).
  fs.cpSync(path.join(app, distDir, "static"), path.join(served, distDir, "static"), { recursive: true });
  if (fs.existsSync(path.join(app, "public")))
    fs.cpSync(path.join(app, "public"), path.join(served, "public"), { recursive: true });
  // The API route opens boards with the migrations it finds at <cwd>/../../packages/db (apps/web/src/env.ts).
  for (const dir of ["drizzle", "drizzle-pg"])
    fs.cpSync(path.join(ROOT, "packages", "db", dir), path.join(web, "packages", "db", dir), { recursive: true });
}

/**
 * Brings dist/runtime up to date with the sources; returns what was rebuilt. `log` gets one line
 * per half it builds.
 */
export async function ensureRuntime({
  force = false,
  nodeOnly = false,
  reuseAppBuild = false,
  log = console.log,
} = {}) {
  const release = await lock(log);
  try {
    return await buildWhatChanged({ force, nodeOnly, reuseAppBuild, log });
  } finally {
    release();
  }
}

/**
 * One build at a time per checkout (two `npm start`s, or tests started in parallel, must not
 * write dist/runtime together): a lock directory holding the builder's pid; a dead holder's lock
 * is taken over. The second comes after the first and finds the build up to date.
 */
async function lock(log) {
  const dir = path.join(ROOT, "dist", "runtime.lock");
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  let said = false;
  for (;;) {
    try {
      fs.mkdirSync(dir);
      fs.writeFileSync(path.join(dir, "pid"), String(process.pid));
      return () => fs.rmSync(dir, { recursive: true, force: true });
    } catch (err) {
      if (err.code !== "EEXIST") throw err;
    }
    let holder = Number.NaN;
    try {
      holder = Number(fs.readFileSync(path.join(dir, "pid"), "utf8"));
    } catch {}
    let alive = false;
    try {
      if (Number.isInteger(holder) && holder > 0) alive = process.kill(holder, 0);
    } catch (err) {
      alive = err.code === "EPERM";
    }
    // No pid yet means the holder is between mkdir and write: wait for it.
    if (Number.isInteger(holder) && holder > 0 && !alive) fs.rmSync(dir, { recursive: true, force: true });
    else {
      if (!said) log(`kanban: waiting for another build of the runtime (pid ${holder})…`);
      said = true;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

async function buildWhatChanged({ force, nodeOnly, reuseAppBuild, log }) {
  const want = inputs();
  const stamp = readStamp();
  const built = [];
  if (force || stamp.node !== want.node || !fs.existsSync(path.join(RUNTIME, "bin", "start-product.js"))) {
    log("kanban: building the server processes (esbuild; again only when their sources change)…");
    await buildNode();
    stamp.node = want.node;
    writeStamp(stamp);
    built.push("node");
  }
  const webServer = path.join(RUNTIME, "web", "apps", "web", "server.cjs");
  if (!nodeOnly && (force || stamp.web !== want.web || !fs.existsSync(webServer))) {
    log("kanban: building the web board (next build; again only when its sources change)…");
    delete stamp.web;
    writeStamp(stamp);
    buildWeb({ reuseAppBuild });
    stamp.web = want.web;
    writeStamp(stamp);
    built.push("web");
  }
  return built;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const args = process.argv.slice(2);
  try {
    const built = await ensureRuntime({
      force: args.includes("--force"),
      nodeOnly: args.includes("--node-only"),
      reuseAppBuild: args.includes("--reuse-app-build"),
    });
    console.log(built.length ? `kanban: built ${built.join(" and ")} into ${RUNTIME}` : "kanban: runtime up to date");
  } catch (err) {
    console.error(`kanban: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
}
