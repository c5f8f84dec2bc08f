import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Deps } from "../deps.ts";
import { CliFailure } from "../errors.ts";
import type { Register } from "./register.ts";

/**
 * What `kanban start` runs, as [script, ...args]: in the installed `kanban` package (and the
 * checkout's dist/runtime) the built supervisor in bin/ beside the CLI's cli/ directory
 * (scripts/build-runtime.mjs); in the checkout, scripts/start.mjs, which
 * builds that runtime first when its sources changed.
 */
export function locateStart(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  // The runtime keeps the CLI's chunks in cli/ and the other bundles in bin/, side by side.
  const beside = path.join(here, "..", "bin", "start-product.js");
  if (fs.existsSync(beside)) return beside;
  for (let dir = here; path.dirname(dir) !== dir; dir = path.dirname(dir)) {
    const script = path.join(dir, "scripts", "start.mjs");
    if (fs.existsSync(script) && fs.existsSync(path.join(dir, "scripts", "build-runtime.mjs"))) return script;
  }
  throw new CliFailure(
    "kanban start needs the board and the dispatcher beside the CLI: install the `kanban` package (scripts/pack-kanban.mjs) or run npm start in the repository",
  );
}

/**
 * Runs board, API and dispatcher as `npm start` does, in the foreground. Ctrl-C or SIGTERM to this
 * process stops everything; should this process be killed outright, the supervisor notices (it is
 * told our pid) and stops everything too.
 */
export async function runStart(deps: Deps): Promise<number> {
  const script = locateStart();
  // Asked to stop before anything started: starting now would run the product with nobody left to stop
  // it (an aborted signal never fires "abort" again).
  if (deps.stopSignal().aborted) return 0;
  const env: NodeJS.ProcessEnv = { ...deps.config.env, KANBAN_PARENT_PID: String(process.pid) };
  const child = spawn(process.execPath, [script], { env, stdio: "inherit" });
  const signal = deps.stopSignal();
  const forward = () => child.kill("SIGTERM");
  signal.addEventListener("abort", forward, { once: true });
  const code = await new Promise<number>((resolve, reject) => {
    child.once("error", (err) => reject(new CliFailure(`cannot run ${script}: ${err.message}`)));
    child.once("exit", (c, sig) => resolve(c ?? (sig === "SIGTERM" || sig === "SIGINT" ? 0 : 1)));
  });
  signal.removeEventListener("abort", forward);
  return code;
}

export const registerStart: Register = (program, act) => {
  program
    .command("start")
    .summary("run the board (web), the API and the dispatcher on this machine until Ctrl-C or SIGTERM")
    .description(
      "Runs the web board (KANBAN_WEB_PORT, default 3000), the API for remote CLIs (KANBAN_API_PORT, default 4100) " +
        "and the dispatcher on the boards under KANBAN_HOME, restarting a part that dies. SIGTERM or Ctrl-C stops them all.",
    )
    .action(act((deps) => runStart(deps)));
};
