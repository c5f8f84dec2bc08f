#!/usr/bin/env node
// Bundles the CLI for the installed package (`npm run build` in apps/cli, after tsc's dist/tools):
// one ES module graph with the workspace packages' sources inlined, so `kanban <verb>` starts on
// plain Node with no TypeScript loader and few files to resolve. Verbs that load the local API,
// `serve` or `mcp` keep their dynamic imports, which become chunks loaded only by those verbs.
// bin/kanban.mjs runs dist/bundle/main.js when the package has no src/ (installed); in the
// checkout it keeps running the sources through tsx, so tests never run a stale bundle.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const cli = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const repo = path.resolve(cli, "..", "..");
const out = path.join(cli, "dist", "bundle");
fs.rmSync(out, { recursive: true, force: true });

// better-sqlite3 is CommonJS: imported from an ES module, Node first scans its source for named
// exports (cjs-module-lexer, ~10 ms of a local `kanban show`). Loading it with require() skips that.
const requireNative = {
  name: "require-better-sqlite3",
  setup(b) {
    b.onResolve({ filter: /^better-sqlite3$/ }, (args) =>
      args.namespace === "require-native"
        ? { path: args.path, external: true }
        : { path: args.path, namespace: "require-native" },
    );
    b.onLoad({ filter: /.*/, namespace: "require-native" }, () => ({
      contents: 'module.exports = require("better-sqlite3");',
      loader: "js",
    }));
  },
};

// zod re-exports its ~60 message locales (`z.locales`) and so every one is bundled; the CLI only
// ever uses English, zod's default. Binding `locales` to English alone takes a third of zod's code
// out of what a local verb parses at start-up.
const zodEnglishOnly = {
  name: "zod-english-only",
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]node_modules[\\/]zod[\\/]/.test(args.importer)
        ? { path: path.join(path.dirname(args.importer), "..", "locales", "en.js"), namespace: "zod-locales" }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: "zod-locales" }, (args) => ({
      contents: `export { default as en } from ${JSON.stringify(args.path)};`,
      resolveDir: path.dirname(args.path),
      loader: "js",
    }));
  },
};

await build({
  entryPoints: [path.join(cli, "src", "main.ts")],
  outdir: out,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  // Workspace packages from their sources, as in development (see scripts/build-conditions.mjs).
  conditions: ["@kanban/source"],
  // Native modules load their compiled binary from their own package at run time.
  external: ["better-sqlite3", "fs-ext", "pg-native"],
  plugins: [requireNative, zodEnglishOnly],
  // Bundled CommonJS dependencies call require() for Node's built-ins.
  banner: {
    js: 'import { createRequire as __kanbanRequire } from "node:module"; const require = __kanbanRequire(import.meta.url);',
  },
  legalComments: "none",
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: "warning",
});

// @kanban/db finds its migrations next to the module that reads them (`<module dir>/../drizzle`):
// here dist/bundle/../drizzle.
for (const dir of ["drizzle", "drizzle-pg"]) {
  fs.rmSync(path.join(cli, "dist", dir), { recursive: true, force: true });
  fs.cpSync(path.join(repo, "packages", "db", dir), path.join(cli, "dist", dir), { recursive: true });
}
