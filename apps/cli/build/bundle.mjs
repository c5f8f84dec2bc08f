#!/usr/bin/env node
// Bundles the CLI for the installed package (`npm run build` in apps/cli, after tsc's dist/tools):
// the workspace packages' sources inlined, so `kanban <verb>` starts on plain Node with no
// TypeScript loader and few files to resolve.
// bin/kanban.mjs runs dist/bundle/main.mjs when the package has no src/ (installed); in the
// checkout it keeps running the sources through tsx, so tests never run a stale bundle.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { buildCjsChunks, NODE_BUNDLE } from "./cjs-chunks.mjs";

const cli = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const repo = path.resolve(cli, "..", "..");
// `--out <dir>` builds into <dir> instead of dist/: the bench builds a copy of its own there, so it
// never writes the package's dist/ while another build (the pack test's) empties and refills it.
const outFlag = process.argv.indexOf("--out");
const outDir = outFlag === -1 ? null : process.argv[outFlag + 1];
if (outDir === undefined || outDir === "") {
  console.error("bundle.mjs: --out needs a directory");
  process.exit(2);
}
const dist = outDir === null ? path.join(cli, "dist") : path.resolve(outDir);
const out = path.join(dist, "bundle");

// The CLI itself, as CommonJS chunks (dist/bundle/cli.js and chunk-*.js) that dist/bundle/main.mjs (a
// small ES module, the entry bin/kanban.mjs imports) runs through V8's code cache.
await buildCjsChunks({ entries: { cli: path.join(cli, "src", "main.ts") }, outdir: out });
await build({
  entryPoints: [path.join(cli, "src", "bundle-main.ts")],
  outfile: path.join(out, "main.mjs"),
  ...NODE_BUNDLE,
  splitting: false,
  legalComments: "none",
  logLevel: "warning",
});

// @kanban/db finds its migrations next to the module that reads them (`<module dir>/../drizzle`):
// here dist/bundle/../drizzle.
for (const dir of ["drizzle", "drizzle-pg"]) {
  fs.rmSync(path.join(dist, dir), { recursive: true, force: true });
  fs.cpSync(path.join(repo, "packages", "db", dir), path.join(dist, dir), { recursive: true });
}
