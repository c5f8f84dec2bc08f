// `npm start`: runs the product on the embedded SQLite default — the web board (port 3000, with the
// API mounted at /api/trpc), the standalone API for the CLI (port 4100) and the dispatcher — as
// child processes of this one. Ctrl-C stops them all. `--demo` seeds a demo board whose tasks are
// worked by a fake worker profile, so a newcomer sees cards move without any agent installed.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { boardLocationFromEnv, createBoard, homeConfigPath } from "@kanban/db";
import { seedDemo } from "./demo.ts";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const demo = args.includes("--demo");
const webPort = Number(process.env.KANBAN_WEB_PORT ?? 3000);
const apiPort = Number(process.env.KANBAN_API_PORT ?? 4100);
const loc = boardLocationFromEnv(process.env);
const env = { ...process.env, KANBAN_HOME: loc.home, NEXT_TELEMETRY_DISABLED: "1" };

fs.mkdirSync(loc.home, { recursive: true });
createBoard(loc, "default");
if (demo) {
  const { board, tasks } = seedDemo(loc, root);
  env.KANBAN_BOARD = board;
  console.log(`Demo board '${board}' seeded with ${tasks} tasks; profile 'demo-worker' in ${homeConfigPath(loc.home)}`);
}

const web = path.join(root, "apps", "web");
const built = fs.existsSync(path.join(web, ".next", "BUILD_ID"));
if (!built || args.includes("--rebuild")) {
  console.log("kanban: building the web board (once)…");
  const r = spawnSync("npx", ["next", "build"], { cwd: web, stdio: "inherit", env });
  if (r.status !== 0) {
    console.error("kanban: the web build failed; see the output above");
    process.exit(1);
  }
}

const children: { name: string; proc: ChildProcess }[] = [];
let stopping = false;
function start(name: string, cmd: string, argv: string[], cwd: string) {
  const proc = spawn(cmd, argv, { cwd, env, stdio: ["ignore", "inherit", "inherit"] });
  children.push({ name, proc });
  proc.on("exit", (code, signal) => {
    if (stopping) return;
    // The board is the product: without it, stop. A dispatcher or API that exits (for instance
    // because another dispatcher already serves this home) leaves the board usable.
    if (name === "web") {
      console.error(`kanban: the web board stopped (${signal ?? `exit ${code}`}); stopping the others`);
      stop(1);
    } else {
      console.error(`kanban: ${name} stopped (${signal ?? `exit ${code}`}); the board keeps running`);
    }
  });
}

function stop(code: number) {
  if (stopping) return;
  stopping = true;
  for (const { proc } of children) if (proc.exitCode === null) proc.kill("SIGTERM");
  const deadline = setTimeout(() => {
    for (const { proc } of children) if (proc.exitCode === null) proc.kill("SIGKILL");
  }, 10_000);
  Promise.all(children.map(({ proc }) => (proc.exitCode !== null ? Promise.resolve() : new Promise((r) => proc.once("exit", r))))).then(() => {
    clearTimeout(deadline);
    process.exit(code);
  });
}

const tsx = ["--import", "tsx"];
start("dispatcher", process.execPath, [path.join(root, "packages", "dispatcher", "bin", "kanban-dispatcher.mjs")], root);
start("api", process.execPath, [...tsx, path.join(root, "apps", "cli", "bin", "kanban.mjs"), "serve", "--port", String(apiPort)], root);
start("web", process.execPath, [path.join(root, "node_modules", "next", "dist", "bin", "next"), "start", "-p", String(webPort), "-H", "127.0.0.1"], web);

console.log(`\nKanban is running:\n  board       http://127.0.0.1:${webPort}\n  API (CLI)   http://127.0.0.1:${apiPort}/trpc  (KANBAN_URL for a remote CLI)\n  home        ${loc.home}\nCtrl-C stops everything.\n`);
for (const sig of ["SIGINT", "SIGTERM"] as const) process.on(sig, () => stop(0));
