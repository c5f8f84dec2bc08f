// Test fixture for parent-watch.test.ts: a stand-in supervisor that starts watched-child.mjs with
// the environment of `mode` ("parent-pid": names itself in KANBAN_PARENT_PID; "npm": as npm's
// child; "none": neither), then idles until it is killed.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const [mode, dir] = process.argv.slice(2);
const env = { ...process.env };
delete env.KANBAN_PARENT_PID;
delete env.npm_lifecycle_event;
if (mode === "parent-pid") env.KANBAN_PARENT_PID = String(process.pid);
if (mode === "npm") env.npm_lifecycle_event = "start";
spawn(process.execPath, [fileURLToPath(new URL("./watched-child.mjs", import.meta.url)), dir], {
  env,
  stdio: "inherit",
});
setInterval(() => {}, 1000);
