#!/usr/bin/env node
// Runs the dispatcher from source (no build step): registers tsx, then loads the TypeScript entry.
import { register as registerHooks } from "node:module";
import { register } from "tsx/esm/api";

register();
// Workspace packages resolve to their sources here, not to the dist/ a consumer gets (the
// "@kanban/source" export condition; see scripts/build-conditions.mjs).
registerHooks(
  "data:text/javascript,export const resolve = (s, c, next) => next(s, { ...c, conditions: [...c.conditions, '@kanban/source'] });",
);
await import("../src/main.ts");
