// Test fixture for parent-watch.test.ts: runs exitWithSupervisor, records what it watches, and
// handles SIGTERM (its orderly shutdown) by writing <dir>/stopped before exiting.
import fs from "node:fs";
import path from "node:path";
import { tsImport } from "tsx/esm/api";

const dir = process.argv[2];
const { exitWithSupervisor, PARENT_PID_ENV } = await tsImport("../src/parent-watch.ts", import.meta.url);
process.on("SIGTERM", () => {
  fs.writeFileSync(path.join(dir, "stopped"), "1");
  process.exit(0);
});
const what = exitWithSupervisor({ pollMs: 100 });
const ready = { pid: process.pid, what, inherited: process.env[PARENT_PID_ENV] ?? null };
fs.writeFileSync(path.join(dir, "ready"), JSON.stringify(ready));
setInterval(() => {}, 1000);
