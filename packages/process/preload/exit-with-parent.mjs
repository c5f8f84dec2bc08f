// `node --import <this file> <program>`: makes any Node program a supervisor starts (Next, the CLI's
// server) stop by itself when its supervisor dies (exitWithSupervisor in src/parent-watch.ts).
// Loaded with tsx's scoped import, so the program's own module loading is left alone.
import { tsImport } from "tsx/esm/api";

const { exitWithSupervisor } = await tsImport("../src/parent-watch.ts", import.meta.url);
exitWithSupervisor({ log: (line) => process.stderr.write(`kanban: ${line}\n`) });
