#!/usr/bin/env node
// Runs the dispatcher from source (no build step): registers tsx, then loads the TypeScript entry.
// With KANBAN_RUNTIME_BIN set (see apps/cli/bin/kanban.mjs) it runs that runtime's bundle of the
// same sources instead, without tsx.
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const runtimeBin = process.env.KANBAN_RUNTIME_BIN;
const bundled = runtimeBin ? path.join(runtimeBin, "dispatcher.js") : null;
if (bundled && fs.existsSync(bundled)) {
  await import(pathToFileURL(bundled).href);
} else {
  const { register: registerHooks } = await import("node:module");
  const { register } = await import("tsx/esm/api");
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
}
