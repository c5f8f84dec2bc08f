// The `kanban` command as the built runtime runs it (`kanban serve` under `npm start` and `kanban
// start`): the CLI's sources bundled with everything they import, run on plain Node.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { runCli } from "../../apps/cli/src/main.ts";

// `kanban dispatch` / `kanban dispatcher` run the built dispatcher of this runtime (beside us), not
// a workspace bin that would need tsx.
process.env.KANBAN_DISPATCHER_BIN ??= path.join(path.dirname(fileURLToPath(import.meta.url)), "dispatcher.js");

const code = await runCli(process.argv.slice(2));
// As bin/kanban.mjs: exit once stdout and stderr are flushed (an idle keep-alive socket must not
// hold a finished command open).
process.stdout.write("", () => process.stderr.write("", () => process.exit(code)));
