#!/usr/bin/env node
// Runs the dispatcher from source (no build step): registers tsx, then loads the TypeScript entry.
import fs from "node:fs";
import { register as registerHooks } from "node:module";
import { register } from "tsx/esm/api";

register();
// In the checkout the workspace packages resolve to their sources, not to the dist/ a consumer gets
// (the "@kanban/source" export condition; see scripts/build-conditions.mjs). Installed beside packed
// packages, which ship dist/ only, they resolve as for any consumer.
if (fs.existsSync(new URL("../../kernel/src/index.ts", import.meta.url))) {
  registerHooks(
    "data:text/javascript,export const resolve = (s, c, next) => next(s, { ...c, conditions: [...c.conditions, '@kanban/source'] });",
  );
}
await import("../src/main.ts");
