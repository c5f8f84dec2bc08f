import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { GATE_LIMITS } from "@kanban/kernel";
import { isPidAlive } from "@kanban/process";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { waitFor } from "../../test/helpers.ts";
import { commandEnv, runCommand } from "./run-command.ts";

/** Acceptance commands run as real processes in a real directory. */
let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "kanban-gate-cmd-"));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const node = (code: string, timeout_seconds = 30) => ({
  name: "check",
  argv: [process.execPath, "-e", code],
  timeout_seconds,
});

describe("runCommand", { timeout: 30_000 }, () => {
  it("passes on exit 0, in the workspace, with the task in its environment", async () => {
    const r = await runCommand(node("console.log(process.cwd(), process.env.KANBAN_TASK_ID)"), {
      cwd: dir,
      taskId: "t_1",
    });
    expect(r).toMatchObject({ outcome: "passed", exit_code: 0, timed_out: false, signal: null, error: null });
    expect(r.output_tail.trim()).toBe(`${fs.realpathSync(dir)} t_1`);
    expect(r.duration_ms).toBeGreaterThanOrEqual(0);
  });

  it("fails on another exit code, keeping stdout and stderr together", async () => {
    const r = await runCommand(node("console.log('to stdout'); console.error('expected 3, got 2'); process.exit(3)"), {
      cwd: dir,
      taskId: "t_1",
    });
    expect(r).toMatchObject({ outcome: "failed", exit_code: 3, timed_out: false });
    expect(r.output_tail).toContain("to stdout");
    expect(r.output_tail).toContain("expected 3, got 2");
  });

  it("cuts credentials the command printed out of the output it keeps as evidence", async () => {
    const r = await runCommand(
      node(
        "console.log('loaded .env: STRIPE_SECRET_KEY=sk_live_0123456789abcdefABCD'); console.error('db postgres://app:hunter2hunter2@db/app refused'); process.exit(1)",
      ),
      { cwd: dir, taskId: "t_1" },
    );
    expect(r.outcome).toBe("failed");
    expect(r.output_tail).toContain("loaded .env: STRIPE_SECRET_KEY=[redacted]");
    expect(r.output_tail).toContain("db postgres://app:[redacted]@db/app refused");
    expect(r.output_tail).not.toContain("hunter2hunter2");
  });

  it("kills the whole process group at the timeout, the command's own children too", async () => {
    const pidFile = path.join(dir, "child.pid");
    // A grandchild that would sleep on forever, in the command's group.
    const code = `const c = require("child_process").spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], {stdio: "ignore"});
require("fs").writeFileSync(${JSON.stringify(pidFile)}, String(c.pid)); console.log("started"); setInterval(() => {}, 1000);`;
    const r = await runCommand(node(code, 1), { cwd: dir, taskId: "t_1" });
    expect(r).toMatchObject({ outcome: "failed", timed_out: true, signal: "SIGKILL", exit_code: null });
    expect(r.output_tail).toContain("started");
    expect(r.duration_ms).toBeGreaterThanOrEqual(900);
    const child = Number(fs.readFileSync(pidFile, "utf8"));
    await waitFor(() => !isPidAlive(child), "the command's child to be gone", 5000);
  });

  it("says a program that does not exist could not start, in one line", async () => {
    const r = await runCommand(
      { name: "missing", argv: ["no-such-program-kanban-gates", "--x"], timeout_seconds: 5 },
      { cwd: dir, taskId: "t_1" },
    );
    expect(r).toMatchObject({ outcome: "error", exit_code: null });
    expect(r.error).toMatch(/no-such-program-kanban-gates: program not found/);
    expect(r.error).not.toContain("\n");
  });

  it("says a working directory that does not exist could not be used", async () => {
    const r = await runCommand(node("0"), { cwd: path.join(dir, "gone"), taskId: "t_1" });
    expect(r.outcome).toBe("error");
    expect(r.error).toMatch(/working directory .*gone does not exist/);
  });

  it("keeps only the end of a huge output", async () => {
    // ~3 MB of numbered lines, then the verdict at the very end.
    const code = `for (let i = 0; i < 100000; i++) process.stdout.write("line " + i + " " + "x".repeat(20) + "\\n"); process.stdout.write("VERDICT: 1 failed\\n"); process.exitCode = 1;`;
    const r = await runCommand(node(code), { cwd: dir, taskId: "t_1" });
    expect(r.outcome).toBe("failed");
    expect(r.output_tail.length).toBe(GATE_LIMITS.output_tail_chars);
    expect(r.output_tail.endsWith("VERDICT: 1 failed\n")).toBe(true);
    expect(r.output_tail).not.toContain("line 0 ");
  });

  it("hands no token or secret to the command, even when the dispatcher holds them", async () => {
    const base = {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: "/home/someone",
      LANG: "C.UTF-8",
      KANBAN_TOKEN: "kbt_secret",
      KANBAN_RUN_TOKEN: "run-secret",
      KANBAN_DATABASE_URL: "postgres://u:pw@h/db",
      AWS_SECRET_ACCESS_KEY: "aws",
      GITHUB_TOKEN: "gh",
      DB_PASSWORD: "pw",
    };
    const r = await runCommand(node("console.log(JSON.stringify(process.env))"), {
      cwd: dir,
      taskId: "t_9",
      baseEnv: base,
    });
    const seen = JSON.parse(r.output_tail) as Record<string, string>;
    expect(Object.keys(seen).sort()).toEqual(["HOME", "KANBAN_TASK_ID", "KANBAN_WORKSPACE", "LANG", "PATH"]);
    expect(seen).toMatchObject({ KANBAN_TASK_ID: "t_9", KANBAN_WORKSPACE: dir, HOME: "/home/someone" });
    expect(r.output_tail).not.toMatch(/secret|kbt_|pw@|aws|"gh"/);
    expect(Object.keys(commandEnv(base, "t", dir)).filter((k) => /TOKEN|SECRET|KEY|PASSWORD/i.test(k))).toEqual([]);
  });
});
