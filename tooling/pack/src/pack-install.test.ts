import { type SpawnSyncOptions, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * What a user of the published packages gets: the libraries are built, packed with `npm pack`, and
 * installed into a plain Node project in the system's temp dir, outside the repository. From there
 * plain `node` (no tsx, no TypeScript loader) runs the kernel, and the repo's tsc checks a
 * TypeScript consumer against the installed declarations.
 */

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const FIXTURE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "consumer");
const TSC = path.join(REPO, "node_modules", "typescript", "bin", "tsc");

/** The importable libraries, in build order (each after the packages whose declarations it reads). */
const LIBRARIES = [
  "packages/contract",
  "packages/process",
  "packages/notify",
  "packages/db",
  "packages/kernel",
  "packages/workspace",
  "packages/api",
  "apps/cli",
];
/** Packed too: the CLI depends on it, and npm must not look for an `@kanban` package on the registry. */
const ALSO_PACKED = ["packages/dispatcher"];
/** Native modules: the consumer gets the binary the repo's install built (same package version, same Node). */
const NATIVE = ["better-sqlite3", "fs-ext"];

/** Children see no "@kanban/source" condition, whatever started the test: they are the consumer. */
function consumerEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  return env;
}

function run(cmd: string, args: string[], opts: SpawnSyncOptions): string {
  const r = spawnSync(cmd, args, { encoding: "utf8", env: consumerEnv(), maxBuffer: 64 * 1024 * 1024, ...opts });
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(" ")} exited ${r.status ?? r.signal}\n${r.stdout}\n${r.stderr}`);
  }
  return String(r.stdout);
}

function versionOf(dir: string): string {
  return (JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")) as { version: string }).version;
}

let work: string;
let consumer: string;

beforeAll(() => {
  // How long each step takes goes to the log: this runs in CI, whose time is budgeted.
  const steps: string[] = [];
  let last = performance.now();
  const step = (name: string) => {
    const now = performance.now();
    steps.push(`${name} ${((now - last) / 1000).toFixed(1)} s`);
    last = now;
  };
  work = fs.mkdtempSync(path.join(os.tmpdir(), "kanban-pack-"));
  const tarballs = path.join(work, "tarballs");
  consumer = path.join(work, "consumer");
  fs.mkdirSync(tarballs);
  fs.mkdirSync(consumer);

  // The packages' own build (`npm run build`), without its type check: the output is the same, and
  // `npm test` type-checks the sources in a step of its own.
  for (const lib of LIBRARIES) {
    run(process.execPath, [path.join(REPO, "scripts", "build-package.mjs"), "--noCheck"], {
      cwd: path.join(REPO, lib),
    });
  }
  // The CLI's own bundle, which its bin runs when installed (the rest of apps/cli's `npm run build`).
  run(process.execPath, [path.join(REPO, "apps", "cli", "build", "bundle.mjs")], {
    cwd: path.join(REPO, "apps", "cli"),
  });
  step("build");

  const workspaces = [...LIBRARIES, ...ALSO_PACKED].flatMap((dir) => ["-w", dir]);
  const packed = JSON.parse(
    run("npm", ["pack", "--json", "--pack-destination", tarballs, ...workspaces], { cwd: REPO }),
  ) as { name: string; filename: string }[];
  step("pack");

  const dependencies: Record<string, string> = {};
  for (const p of packed) dependencies[p.name] = `file:${path.join(tarballs, p.filename)}`;
  fs.writeFileSync(
    path.join(consumer, "package.json"),
    JSON.stringify({ name: "kanban-consumer", private: true, type: "module", dependencies }, null, 2),
  );
  // Third-party packages come from npm's cache (the repo's install filled it) or the registry. For
  // speed: install scripts are skipped (they would compile the native modules again, a minute or
  // more), and so are peer dependencies (tRPC's peer `typescript` would bring the newest compiler,
  // 30 MB, which this test does not use; the repo's tsc checks the consumer).
  const flags = ["--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts", "--legacy-peer-deps"];
  run("npm", ["install", ...flags, "--loglevel=error"], { cwd: consumer });
  step("install");
  for (const name of NATIVE) {
    const mine = path.join(REPO, "node_modules", name);
    const theirs = path.join(consumer, "node_modules", name);
    expect(versionOf(theirs), `${name}: the consumer's version is the repo's`).toBe(versionOf(mine));
    const release = path.join(mine, "build", "Release");
    fs.mkdirSync(path.join(theirs, "build", "Release"), { recursive: true });
    for (const file of fs.readdirSync(release).filter((f) => f.endsWith(".node"))) {
      fs.copyFileSync(path.join(release, file), path.join(theirs, "build", "Release", file));
    }
  }
  for (const file of fs.readdirSync(FIXTURE)) fs.copyFileSync(path.join(FIXTURE, file), path.join(consumer, file));
  // A TypeScript service's usual settings; Node's types are the repo's (the same @types/node a
  // consumer would install), everything else comes from the installed packages.
  const tsconfig = {
    compilerOptions: {
      target: "ES2022",
      module: "NodeNext",
      moduleResolution: "NodeNext",
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      typeRoots: [path.join(REPO, "node_modules", "@types")],
      types: ["node"],
    },
    files: ["check.ts"],
  };
  fs.writeFileSync(path.join(consumer, "tsconfig.json"), JSON.stringify(tsconfig, null, 2));
  step("native modules and consumer files");
  console.log(`pack-install: ${steps.join(", ")}`);
});

afterAll(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

describe("the packed packages, installed outside the repository", () => {
  it("ship built JavaScript and declarations, no TypeScript sources", () => {
    for (const name of ["contract", "db", "kernel", "workspace", "process", "notify", "api"]) {
      const dir = path.join(consumer, "node_modules", "@kanban", name);
      expect(fs.existsSync(path.join(dir, "dist", "index.js")), `${name}/dist/index.js`).toBe(true);
      expect(fs.existsSync(path.join(dir, "dist", "index.d.ts")), `${name}/dist/index.d.ts`).toBe(true);
      expect(fs.existsSync(path.join(dir, "src")), `${name} ships no src/`).toBe(false);
    }
    expect(fs.existsSync(path.join(consumer, "node_modules", "@kanban", "cli", "dist", "tools", "index.d.ts"))).toBe(
      true,
    );
    // The migrations the database is created with travel with @kanban/db.
    expect(fs.readdirSync(path.join(consumer, "node_modules", "@kanban", "db", "drizzle")).length).toBeGreaterThan(0);
  });

  it("plain node opens a board, creates, claims and completes a task", () => {
    const db = path.join(work, "board.db");
    const out = run(process.execPath, ["lifecycle.mjs", db], { cwd: consumer });
    const report = JSON.parse(out.trim()) as Record<string, unknown>;
    expect(report.kernel).toBe(
      `file://${path.join(fs.realpathSync(consumer), "node_modules", "@kanban", "kernel", "dist", "index.js")}`,
    );
    expect(report.claimedStatus).toBe("running");
    expect(report.status).toBe("done");
    expect(report.result).toBe("installed from a tarball");
    expect(report.tools).toContain("kanban_complete");
    expect(report.client).toBe("function");
    expect(fs.statSync(db).size).toBeGreaterThan(0);
  });

  it("the installed kanban command creates and shows a task with plain node (the bundle, not tsx), and dispatches", () => {
    const cli = path.join(consumer, "node_modules", "@kanban", "cli");
    // Without src/ the bin cannot take its from-source (tsx) branch.
    expect(fs.existsSync(path.join(cli, "src"))).toBe(false);
    expect(fs.existsSync(path.join(cli, "dist", "bundle", "main.mjs"))).toBe(true);
    const cache = path.join(work, "cache");
    const env: NodeJS.ProcessEnv = { ...consumerEnv(), KANBAN_HOME: path.join(work, "home"), XDG_CACHE_HOME: cache };
    for (const k of ["KANBAN_DB", "KANBAN_BOARD", "KANBAN_URL", "KANBAN_TOKEN", "KANBAN_NO_COMPILE_CACHE"])
      delete env[k];
    const bin = path.join(consumer, "node_modules", ".bin", "kanban");
    const created = run(bin, ["create", "Installed and bundled", "--json"], { cwd: consumer, env });
    const id = (JSON.parse(created) as { id: string }).id;
    // The first verb left V8's compiled code of the chunks it loaded (src/code-cache.ts); `show` then
    // runs from it, and rewrites none of it.
    const cacheDir = path.join(cache, "kanban", "v8");
    const written = new Map(fs.readdirSync(cacheDir).map((f) => [f, fs.statSync(path.join(cacheDir, f)).mtimeMs]));
    expect([...written.keys()].some((f) => f.startsWith("cli.js-"))).toBe(true);
    const shown = JSON.parse(run(bin, ["show", id, "--json"], { cwd: consumer, env })) as { task: { title: string } };
    expect(shown.task.title).toBe("Installed and bundled");
    for (const [f, mtime] of written) expect(fs.statSync(path.join(cacheDir, f)).mtimeMs).toBe(mtime);
    // `dispatch` runs the installed kanban-dispatcher (still TypeScript through tsx, over the
    // installed libraries' dist/): one dry tick reports what it would claim.
    const tick = JSON.parse(run(bin, ["dispatch", "--dry-run", "--json"], { cwd: consumer, env })) as Record<
      string,
      unknown
    >;
    expect(tick).toHaveProperty("reclaimed", 0);
  });

  it("a TypeScript consumer type-checks against the declarations (and a typo in it does not)", () => {
    run(process.execPath, [TSC, "-p", "tsconfig.json"], { cwd: consumer });
  });
});
