// The `kanban` command as the built runtime runs it (`kanban serve` under `npm start` and `kanban
// start`): the CLI's sources bundled with everything they import, run on plain Node.
import { runCli } from "../../apps/cli/src/main.ts";

const code = await runCli(process.argv.slice(2));
// As bin/kanban.mjs: exit once stdout and stderr are flushed (an idle keep-alive socket must not
// hold a finished command open).
process.stdout.write("", () => process.stderr.write("", () => process.exit(code)));
