import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";

// Each load runs in a process of its own, as the CLI does: within one process V8 also keeps compiled
// code in memory, which would hide whether the cache on disk was used.
const here = path.dirname(fileURLToPath(import.meta.url));
let work: string;
let loader: string;
let chunks: string;
let cacheHome: string;

interface Run {
  value: string;
  chunks: { file: string; cacheHit: boolean }[];
}

function load(env: NodeJS.ProcessEnv = {}): Run {
  const r = spawnSync(process.execPath, [loader, path.join(chunks, "entry.js")], {
    encoding: "utf8",
    env: { PATH: process.env.PATH, HOME: work, XDG_CACHE_HOME: cacheHome, ...env },
  });
  if (r.status !== 0) throw new Error(`loader exited ${r.status}: ${r.stderr}`);
  expect(r.stderr).toBe("");
  return JSON.parse(r.stdout) as Run;
}

const hits = (run: Run) => Object.fromEntries(run.chunks.map((c) => [path.basename(c.file), c.cacheHit]));
const cacheDir = () => path.join(cacheHome, "kanban", "v8");
const cacheFiles = () => (fs.existsSync(cacheDir()) ? fs.readdirSync(cacheDir()).sort() : []);
const cacheOf = (chunk: string) => path.join(cacheDir(), cacheFiles().find((f) => f.startsWith(`${chunk}-`)) ?? "none");

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), "kanban-code-cache-"));
  loader = path.join(work, "loader.mjs");
  await build({
    stdin: {
      contents: `import { loadWithCodeCache } from ${JSON.stringify(path.join(here, "code-cache.ts"))};
const b = loadWithCodeCache(process.argv[2]);
const value = await b.exports.value();
b.saveCache();
process.stdout.write(JSON.stringify({ value, chunks: b.chunks() }));`,
      resolveDir: here,
      loader: "ts",
    },
    outfile: loader,
    bundle: true,
    format: "esm",
    platform: "node",
    logLevel: "warning",
  });
});

afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

beforeEach(() => {
  // Chunks as build/cjs-chunks.mjs makes them: CommonJS requiring each other by relative path, one
  // of them only when called (a lazy import() turned into a require()), and two requiring each other.
  chunks = fs.mkdtempSync(path.join(work, "chunks-"));
  cacheHome = fs.mkdtempSync(path.join(work, "cache-"));
  const write = (name: string, text: string) => fs.writeFileSync(path.join(chunks, name), text);
  write(
    "entry.js",
    `const a = require("./chunk-a.js");
const path = require("node:path");
module.exports = { value: async () => [a.word(), (await Promise.resolve().then(() => require("./chunk-lazy.js"))).word(), path.basename(__filename), require("./chunk-b.js").sawA].join(" ") };`,
  );
  write("chunk-a.js", `exports.word = () => "alpha"; exports.early = true; require("./chunk-b.js");`);
  write("chunk-b.js", `const a = require("./chunk-a.js"); exports.sawA = String(a.early);`);
  write("chunk-lazy.js", `exports.word = () => "lazy-1";`);
});

describe("loadWithCodeCache", () => {
  it("runs chunks that require each other, then runs them from the cache it wrote", () => {
    const first = load();
    expect(first.value).toBe("alpha lazy-1 entry.js true");
    expect(Object.values(hits(first))).toEqual([false, false, false, false]);
    // Only the user may read or write the cache: a directory of 0700 and files of 0600.
    expect(fs.statSync(cacheDir()).mode & 0o777).toBe(0o700);
    expect(cacheFiles()).toHaveLength(4);
    for (const f of cacheFiles()) expect(fs.statSync(path.join(cacheDir(), f)).mode & 0o777).toBe(0o600);

    const second = load();
    expect(second.value).toBe(first.value);
    expect(hits(second)).toEqual({ "entry.js": true, "chunk-a.js": true, "chunk-b.js": true, "chunk-lazy.js": true });
  });

  it("never runs a cache made for other code, even of the same length", () => {
    load();
    // V8 checks only a source's length: an edit that keeps it must still be compiled afresh.
    const lazy = path.join(chunks, "chunk-lazy.js");
    const before = fs.readFileSync(lazy, "utf8");
    fs.writeFileSync(lazy, before.replace("lazy-1", "lazy-2"));
    expect(fs.statSync(lazy).size).toBe(before.length);
    const later = new Date(Date.now() + 5000);
    fs.utimesSync(lazy, later, later);
    const edited = load();
    expect(edited.value).toBe("alpha lazy-2 entry.js true");
    expect(hits(edited)).toEqual({ "entry.js": true, "chunk-a.js": true, "chunk-b.js": true, "chunk-lazy.js": false });
    expect(hits(load())["chunk-lazy.js"]).toBe(true);
  });

  it("compiles afresh over a damaged cache, and replaces it", () => {
    load();
    const file = cacheOf("chunk-a.js");
    const data = fs.readFileSync(file);
    // The stamp stays whole; V8's own data behind it is garbage.
    data.fill(0x5a, data.length - 200);
    fs.writeFileSync(file, data);
    const damaged = load();
    expect(damaged.value).toBe("alpha lazy-1 entry.js true");
    expect(hits(damaged)["chunk-a.js"]).toBe(false);
    expect(hits(load())["chunk-a.js"]).toBe(true);
  });

  it("neither reads nor writes a cache that someone else could have written", () => {
    load();
    fs.chmodSync(cacheDir(), 0o777);
    const open = load();
    expect(Object.values(hits(open))).toEqual([false, false, false, false]);
    fs.chmodSync(cacheDir(), 0o700);
    expect(hits(load())["entry.js"]).toBe(true);
    // A file another user owns is refused too (this suite runs as root in CI, which can hand it over).
    if (process.getuid?.() === 0) {
      fs.chownSync(cacheOf("entry.js"), 65534, 65534);
      expect(hits(load())["entry.js"]).toBe(false);
    }
  });

  it(`does nothing with a cache under ${"KANBAN_NO_COMPILE_CACHE"}=1`, () => {
    const run = load({ KANBAN_NO_COMPILE_CACHE: "1" });
    expect(run.value).toBe("alpha lazy-1 entry.js true");
    expect(cacheFiles()).toEqual([]);
  });

  it("removes the caches of chunks that are gone, and a writer's leftovers, when it writes", () => {
    load();
    expect(cacheFiles()).toHaveLength(4);
    // A rebuild names its chunks anew: the old chunk's file goes, and its cache with the next write.
    fs.renameSync(path.join(chunks, "chunk-lazy.js"), path.join(chunks, "chunk-lazy2.js"));
    fs.writeFileSync(
      path.join(chunks, "entry.js"),
      fs.readFileSync(path.join(chunks, "entry.js"), "utf8").replace("chunk-lazy.js", "chunk-lazy2.js"),
    );
    const stale = path.join(cacheDir(), "chunk-x.js-0.cache.123.tmp");
    fs.writeFileSync(stale, "half a file");
    const old = new Date(Date.now() - 120_000);
    fs.utimesSync(stale, old, old);
    expect(load().value).toBe("alpha lazy-1 entry.js true");
    expect(cacheFiles().map((f) => f.replace(/-[0-9a-f]{24}\.cache$/, ""))).toEqual([
      "chunk-a.js",
      "chunk-b.js",
      "chunk-lazy2.js",
      "entry.js",
    ]);
  });

  it("runs when the cache cannot be written", () => {
    fs.writeFileSync(path.join(cacheHome, "kanban"), "a file where the directory should be");
    expect(load().value).toBe("alpha lazy-1 entry.js true");
    expect(load().value).toBe("alpha lazy-1 entry.js true");
  });
});
