#!/usr/bin/env node
// `npm run build` in a library workspace: compiles src/ to dist/ (JavaScript and declarations) with
// the package's tsconfig.build.json. dist/ is emptied first so a renamed or deleted source never
// leaves a stale module in the packed tarball. Sibling packages resolve through their own dist/
// declarations here (tsconfig.build.json drops the "@kanban/source" condition), which is why turbo
// builds dependencies first ("dependsOn": ["^build"]).
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

const dir = process.cwd();
const dist = path.join(dir, "dist");
fs.rmSync(dist, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
// Extra arguments go to tsc (the pack test passes --noCheck: npm test type-checks in its own step).
const args = [tsc, "-p", path.join(dir, "tsconfig.build.json"), ...process.argv.slice(2)];
const r = spawnSync(process.execPath, args, { cwd: dir, stdio: "inherit" });
if (r.status !== 0) process.exit(r.status ?? 1);

// rewriteRelativeImportExtensions turns `./x.ts` into `./x.js` in the JavaScript only; declarations
// keep `./x.ts` (TypeScript issue 61037). tsc reads that, but older compilers and editors' tooling
// look for a file that is not shipped, so relative specifiers in .d.ts files point at `.js` too.
const relativeTs = /((?:from\s+|import\s*\(\s*)["']\.{1,2}\/[^"']*?)\.ts(["'])/g;
for (const file of fs.readdirSync(dist, { recursive: true, encoding: "utf8" })) {
  if (!file.endsWith(".d.ts")) continue;
  const full = path.join(dist, file);
  const text = fs.readFileSync(full, "utf8");
  const rewritten = text.replace(relativeTs, "$1.js$2");
  if (rewritten !== text) fs.writeFileSync(full, rewritten);
}
