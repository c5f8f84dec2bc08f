#!/usr/bin/env node
// The `kanban` command. In the checkout (src/ beside bin/) it runs the TypeScript sources through
// tsx, so nothing needs building and nothing stale runs; the installed package ships no src/ and runs
// the bundle built by build/bundle.mjs on plain Node, with no TypeScript loader to start.
import fs from "node:fs";

let runCli;
if (fs.existsSync(new URL("../src/main.ts", import.meta.url))) {
  const { register } = await import("tsx/esm/api");
  register();
  // Workspace packages resolve to their sources here, not to the dist/ a consumer gets (the
  // "@kanban/source" export condition; see scripts/build-conditions.mjs).
  const { register: registerHooks } = await import("node:module");
  registerHooks(
    "data:text/javascript,export const resolve = (s, c, next) => next(s, { ...c, conditions: [...c.conditions, '@kanban/source'] });",
  );
  ({ runCli } = await import("../src/main.ts"));
} else {
  ({ runCli } = await import("../dist/bundle/main.js"));
}
const code = await runCli(process.argv.slice(2));
// Exit explicitly (an idle HTTP keep-alive socket must not hold a finished command open), but only
// once stdout and stderr are flushed: a pipe takes 64 KiB at a time and the rest is written later.
process.stdout.write("", () => process.stderr.write("", () => process.exit(code)));
