// `node --import <built exit-with-parent.js> <program>`: the built twin of
// packages/process/preload/exit-with-parent.mjs (which needs tsx), so the board's Next server stops
// by itself when the process that started it dies.
import { exitWithSupervisor } from "@kanban/process";

exitWithSupervisor({ log: (line) => process.stderr.write(`kanban: ${line}\n`) });
