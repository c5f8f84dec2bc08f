#!/usr/bin/env node
// Runs the CLI from source (no build step): registers tsx, then loads the TypeScript entry.
import { register as registerHooks } from "node:module";
import { register } from "tsx/esm/api";

register();
// Workspace packages resolve to their sources here, not to the dist/ a consumer gets (the
// "@kanban/source" export condition; see scripts/build-conditions.mjs).
registerHooks(
  "data:text/javascript,export const resolve = (s, c, next) => next(s, { ...c, conditions: [...c.conditions, '@kanban/source'] });",
);
const { runCli } = await import("../src/main.ts");
const code = await runCli(process.argv.slice(2));
// Exit explicitly (an idle HTTP keep-alive socket must not hold a finished command open), but only
// once stdout and stderr are flushed: a pipe takes 64 KiB at a time and the rest is written later.
process.stdout.write("", () => process.stderr.write("", () => process.exit(code)));
