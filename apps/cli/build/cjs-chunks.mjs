// The CLI as CommonJS chunks, for loading through V8's code cache (src/code-cache.ts). Node 20 keeps
// no compiled code for ES modules, but a CommonJS function compiled through vm.Script can reuse
// V8's cache. esbuild splits only ES modules, so the entry is bundled and split as ES modules (a
// verb loads only the chunks it needs: `kanban show` against a server never loads the kernel) and
// each chunk is then turned into CommonJS on its own. Used by build/bundle.mjs (the @kanban/cli
// package) and scripts/build-runtime.mjs (`npm start`, the packed `kanban`).
import fs from "node:fs";
import path from "node:path";
import { build, transform } from "esbuild";

// zod re-exports its ~60 message locales (`z.locales`) and so every one is bundled; the CLI only
// ever uses English, zod's default. Binding `locales` to English alone takes a third of zod's code
// out of what a verb loads.
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

/**
 * What every Node bundle of the product shares (scripts/build-runtime.mjs uses it too): ES modules
 * split into chunks, the workspace packages from their sources (see scripts/build-conditions.mjs).
 */
export const NODE_BUNDLE = {
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  conditions: ["@kanban/source"],
};
/** Native modules load their compiled binary from their own package at run time: never bundled. */
export const NATIVE_MODULES = ["better-sqlite3", "fs-ext", "pg-native"];

/**
 * Builds `entries` ({ name: source file }) into `outdir` as `<name>.js` and `chunk-*.js`, all
 * CommonJS (outdir gets a package.json saying so); `external` are left to require() at run time.
 */
export async function buildCjsChunks({ entries, outdir, external = [] }) {
  const result = await build({
    entryPoints: entries,
    outdir,
    write: false,
    ...NODE_BUNDLE,
    external: [...NATIVE_MODULES, ...external],
    plugins: [zodEnglishOnly],
    legalComments: "none",
    logLevel: "warning",
  });
  fs.rmSync(outdir, { recursive: true, force: true });
  fs.mkdirSync(outdir, { recursive: true });
  fs.writeFileSync(path.join(outdir, "package.json"), '{ "type": "commonjs" }\n');
  for (const file of result.outputFiles) {
    const { code } = await transform(file.text, {
      format: "cjs",
      platform: "node",
      target: "node20",
      // Sources (and ES-module dependencies) locate files next to themselves through
      // import.meta.url, which CommonJS does not have: it becomes the chunk's own URL, as before.
      define: { "import.meta.url": "__kanbanModuleUrl" },
      // A chunk's import() of another chunk becomes a require() that code-cache.ts serves: V8 runs a
      // cached function without the dynamic-import hook its compile was given.
      supported: { "dynamic-import": false },
      banner: 'var __kanbanModuleUrl = require("node:url").pathToFileURL(__filename).href;',
      minifyWhitespace: true,
      minifySyntax: true,
      legalComments: "none",
      logLevel: "warning",
    });
    // V8 keeps a source with any non-ASCII character as two bytes a character, and Node 20 decodes
    // such a file several times slower (about 20 ms for 2 MB): every character must stay escaped.
    const at = code.search(/[^\x00-\x7f]/);
    if (at !== -1)
      throw new Error(
        `${path.basename(file.path)} has a non-ASCII character (…${code.slice(Math.max(0, at - 40), at + 10)}…); escape it in the source`,
      );
    fs.writeFileSync(file.path, code);
  }
}
