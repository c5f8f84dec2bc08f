import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { isPidAlive } from "./process.ts";

/**
 * Real processes: a stand-in supervisor starts a child that runs exitWithSupervisor, then the
 * supervisor is SIGKILLed (nothing it could do on the way out), and the child must notice.
 */
const SUPERVISOR = fileURLToPath(new URL("../test/supervisor.mjs", import.meta.url));
const dirs: string[] = [];
const leftovers: number[] = [];

afterEach(() => {
  for (const pid of leftovers.splice(0)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone
    }
  }
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

async function waitFor<T>(check: () => T | null | undefined | false, label: string, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${label}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Starts supervisor → child (test/supervisor.mjs, test/watched-child.mjs). The child watches as
 * `mode` sets it up, handles SIGTERM by writing `<dir>/stopped` (its orderly shutdown), and reports
 * what it watches and whether its environment still holds the variable. Resolves once it watches.
 */
async function supervised(mode: "parent-pid" | "npm" | "none") {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kanban-parent-watch-"));
  dirs.push(dir);
  const sup = spawn(process.execPath, [SUPERVISOR, mode, dir], { stdio: "inherit", detached: true });
  leftovers.push(sup.pid as number);
  const ready = await waitFor(() => {
    try {
      return JSON.parse(fs.readFileSync(path.join(dir, "ready"), "utf8")) as {
        pid: number;
        what: string | null;
        inherited: string | null;
      };
    } catch {
      return null;
    }
  }, "the child to start watching");
  leftovers.push(ready.pid);
  return { supervisor: sup.pid as number, ready, stopped: () => fs.existsSync(path.join(dir, "stopped")) };
}

describe("exitWithSupervisor", () => {
  it("KANBAN_PARENT_PID: the child runs its own SIGTERM shutdown once its supervisor is SIGKILLed, and does not pass the variable on", async () => {
    const s = await supervised("parent-pid");
    expect(s.ready.what).toBe(`parent process ${s.supervisor}`);
    expect(s.ready.inherited).toBeNull();
    process.kill(s.supervisor, "SIGKILL");
    await waitFor(() => !isPidAlive(s.ready.pid), "the orphaned child to exit");
    expect(s.stopped()).toBe(true);
  });

  it("run by npm (npm_lifecycle_event) without a shell between: it watches its parent", async () => {
    const s = await supervised("npm");
    expect(s.ready.what).toBe(`npm (pid ${s.supervisor})`);
    process.kill(s.supervisor, "SIGKILL");
    await waitFor(() => !isPidAlive(s.ready.pid), "the orphaned child to exit");
    expect(s.stopped()).toBe(true);
  });

  it("started by hand (neither variable): nothing is watched, and the child outlives its parent", async () => {
    const s = await supervised("none");
    expect(s.ready.what).toBeNull();
    process.kill(s.supervisor, "SIGKILL");
    await waitFor(() => !isPidAlive(s.supervisor), "the supervisor to die");
    // A poll of 100 ms has had many chances by now; the child is still there.
    await new Promise((r) => setTimeout(r, 1500));
    expect(isPidAlive(s.ready.pid)).toBe(true);
    expect(s.stopped()).toBe(false);
  });
});
