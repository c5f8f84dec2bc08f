import fs from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runCli } from "./main.ts";
import { type TempHome, tempHome } from "./testing/harness.ts";

let h: TempHome;
beforeEach(() => {
  h = tempHome();
});
afterEach(() => h.cleanup());

/** Processes whose parent is this test process, with their command lines. */
function ownChildren(): { pid: number; cmd: string }[] {
  const found: { pid: number; cmd: string }[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The parent pid is the 2nd field after the parenthesised command name.
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid !== process.pid) continue;
      found.push({ pid: Number(entry), cmd: fs.readFileSync(`/proc/${entry}/cmdline`, "utf8").replaceAll("\0", " ") });
    } catch {
      // The process ended while we looked.
    }
  }
  return found;
}

describe("kanban start", () => {
  it("starts nothing when it is asked to stop before it begins (exit 0)", async () => {
    const err: string[] = [];
    const code = await runCli(["start"], {
      env: h.env,
      io: { out: () => {}, err: (l) => err.push(l) },
      stopSignal: AbortSignal.abort(),
    });
    const started = ownChildren().filter((c) => c.cmd.includes("start"));
    for (const c of started) process.kill(c.pid, "SIGKILL");
    expect(started).toEqual([]);
    expect(code, err.join("\n")).toBe(0);
  });
});
