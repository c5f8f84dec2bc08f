// The `kanban` command as the built runtime runs it (`kanban serve` under `npm start` and `kanban
// start`, every verb of the packed `kanban`): the CLI's sources, bundled as CommonJS chunks in
// ../cli/ with everything they import, run on plain Node through V8's code cache.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { loadWithCodeCache } from "../../apps/cli/src/code-cache.ts";
import type { runCli as RunCli } from "../../apps/cli/src/main.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
// `kanban dispatch` / `kanban dispatcher` run the built dispatcher of this runtime (beside us), not
// a workspace bin that would need tsx.
process.env.KANBAN_DISPATCHER_BIN ??= path.join(here, "dispatcher.js");

const cli = loadWithCodeCache<{ runCli: typeof RunCli }>(path.join(here, "..", "cli", "cli.js"));
const code = await cli.exports.runCli(process.argv.slice(2));
cli.saveCache();
// As bin/kanban.mjs: exit once stdout and stderr are flushed (an idle keep-alive socket must not
// hold a finished command open).
process.stdout.write("", () => process.stderr.write("", () => process.exit(code)));
