#!/usr/bin/env node
// The `kanban` command. In the checkout (src/ beside bin/) it runs the TypeScript sources through
// tsx, so nothing needs building and nothing stale runs; the installed package ships no src/ and runs
// the bundle built by build/bundle.mjs on plain Node, with no TypeScript loader to start.
// KANBAN_RUNTIME_BIN names a directory of runtime bundles (dist/runtime/bin, built by `npm test`
// from this checkout just before its suites start): the command then runs that bundle of the same
// sources instead, which starts in a quarter of the CPU time of tsx (the suites start this command
// hundreds of times on a 2-core CI machine).
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const runtimeBin = process.env.KANBAN_RUNTIME_BIN;
const runtimeCli = runtimeBin ? path.join(runtimeBin, "kanban.js") : null;
if (runtimeCli && fs.existsSync(runtimeCli)) {
  // The bundle runs the command and exits by itself, as the one `npm start` runs.
  await import(pathToFileURL(runtimeCli).href);
} else {
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
    ({ runCli } = await import("../dist/bundle/main.mjs"));
  }
  const code = await runCli(process.argv.slice(2));
  // Exit explicitly (an idle HTTP keep-alive socket must not hold a finished command open), but only
  // once stdout and stderr are flushed: a pipe takes 64 KiB at a time and the rest is written later.
  process.stdout.write("", () => process.stderr.write("", () => process.exit(code)));
}
