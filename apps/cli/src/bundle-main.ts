// The installed CLI's entry (built to dist/bundle/main.mjs; bin/kanban.mjs runs it when there is no
// src/): the CLI itself is the CommonJS chunks beside it, loaded through V8's code cache.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { loadWithCodeCache } from "./code-cache.ts";
import type { runCli as RunCli } from "./main.ts";

const bundle = loadWithCodeCache<{ runCli: typeof RunCli }>(
  path.join(path.dirname(fileURLToPath(import.meta.url)), "cli.js"),
);

export async function runCli(...args: Parameters<typeof RunCli>): Promise<number> {
  const code = await bundle.exports.runCli(...args);
  bundle.saveCache();
  return code;
}
