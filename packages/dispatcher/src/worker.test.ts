import fs from "node:fs";
import path from "node:path";
import { makeTempDir } from "@kanban/db/testing";
import { afterEach, describe, expect, it } from "vitest";
import { TestClock } from "@kanban/kernel/testing";
import { killAll, track, waitFor } from "../test/helpers.ts";
import {
  buildWorkerArgv,
  buildWorkerEnv,
  isSpawnable,
  resolveProgram,
  rotateLog,
  WorkerPool,
  type WorkerRuntime,
} from "./worker.ts";

const temps: { cleanup: () => void }[] = [];
afterEach(async () => {
  await killAll();
  for (const t of temps.splice(0)) t.cleanup();
});
function tmp(): string {
  const t = makeTempDir("kanban-worker-");
  temps.push(t);
  return t.dir;
}

const task = {
  id: "t_0123abcd",
  skills: ["review", "kanban-worker"],
  model_override: null,
  tenant: null,
  max_runtime_seconds: null,
};

describe("buildWorkerArgv", () => {
  it("substitutes placeholders anywhere in an element and expands {skills} into --skills pairs", () => {
    const runtime: WorkerRuntime = {
      kind: "profiles",
      profiles: {
        alice: {
          command: [
            "/usr/bin/agent",
            "--task={task_id}",
            "{skills}",
            "-p",
            "{profile}",
            "--cwd",
            "{workspace}",
            "{prompt}",
          ],
          env: {},
          skills: ["lint"],
        },
      },
    };
    expect(buildWorkerArgv(runtime, { task, profile: "alice", workspace: "/w/x" })).toEqual([
      "/usr/bin/agent",
      "--task=t_0123abcd",
      "--skills",
      "kanban-worker",
      "--skills",
      "lint",
      "--skills",
      "review",
      "-p",
      "alice",
      "--cwd",
      "/w/x",
      "work kanban task t_0123abcd",
    ]);
  });

  it("builds Hermes' own command line when no profiles are configured", () => {
    const runtime: WorkerRuntime = { kind: "hermes", bin: "hermes", hermesHome: "/nowhere" };
    expect(
      buildWorkerArgv(runtime, { task: { ...task, model_override: "gpt-x" }, profile: "bob", workspace: "/w" }),
    ).toEqual([
      "hermes",
      "-p",
      "bob",
      "--accept-hooks",
      "--skills",
      "kanban-worker",
      "--skills",
      "review",
      "-m",
      "gpt-x",
      "chat",
      "-q",
      "work kanban task t_0123abcd",
    ]);
  });

  it("never goes through a shell: metacharacters stay inside one argument", () => {
    const runtime: WorkerRuntime = {
      kind: "profiles",
      profiles: { a: { command: ["/bin/echo", "{workspace}"], env: {}, skills: [] } },
    };
    expect(buildWorkerArgv(runtime, { task, profile: "a", workspace: "/tmp/a b; rm -rf ~" })).toEqual([
      "/bin/echo",
      "/tmp/a b; rm -rf ~",
    ]);
  });
});

describe("buildWorkerEnv", () => {
  const base = {
    baseEnv: { PATH: "/bin", KANBAN_TASK: "t_stale", HERMES_TUI: "1", TERMINAL_TIMEOUT: "60" },
    task: { ...task, tenant: "acme", max_runtime_seconds: 600 },
    profile: "alice",
    runId: 7,
    claimLock: "host:1",
    workspace: "/w",
    branch: "wt/t_0123abcd",
    dbPath: "/h/kanban.db",
    board: "default",
    home: "/h",
    workspacesRoot: "/h/kanban/workspaces",
    apiUrl: null,
  };

  it("gives profile workers the KANBAN_* coordinates of their attempt plus the profile's env", () => {
    const runtime: WorkerRuntime = {
      kind: "profiles",
      profiles: { alice: { command: ["/x"], env: { OPENAI_KEY: "k" }, skills: [], model: "m1" } },
    };
    const env = buildWorkerEnv({ ...base, runtime });
    expect(env).toMatchObject({
      PATH: "/bin",
      KANBAN_TASK: "t_0123abcd",
      KANBAN_RUN_ID: "7",
      KANBAN_CLAIM_LOCK: "host:1",
      KANBAN_WORKSPACE: "/w",
      KANBAN_TENANT: "acme",
      KANBAN_DB: "/h/kanban.db",
      KANBAN_BOARD: "default",
      KANBAN_HOME: "/h",
      KANBAN_PROFILE: "alice",
      KANBAN_BRANCH: "wt/t_0123abcd",
      KANBAN_MODEL: "m1",
      OPENAI_KEY: "k",
    });
    expect(env.HERMES_KANBAN_TASK).toBeUndefined();
  });

  it("adds the HERMES_* names for Hermes workers and raises the terminal timeout to the task's runtime", () => {
    const env = buildWorkerEnv({ ...base, runtime: { kind: "hermes", bin: "hermes", hermesHome: "/hh" } });
    expect(env).toMatchObject({
      HERMES_KANBAN_TASK: "t_0123abcd",
      HERMES_KANBAN_WORKSPACE: "/w",
      HERMES_KANBAN_BRANCH: "wt/t_0123abcd",
      HERMES_KANBAN_RUN_ID: "7",
      HERMES_KANBAN_CLAIM_LOCK: "host:1",
      HERMES_KANBAN_DB: "/h/kanban.db",
      HERMES_KANBAN_WORKSPACES_ROOT: "/h/kanban/workspaces",
      HERMES_KANBAN_BOARD: "default",
      HERMES_TENANT: "acme",
      HERMES_PROFILE: "alice",
      TERMINAL_TIMEOUT: "570",
      TERMINAL_MAX_FOREGROUND_TIMEOUT: "570",
      KANBAN_TASK: "t_0123abcd",
    });
    expect(env.HERMES_TUI).toBeUndefined();
  });
});

describe("isSpawnable", () => {
  it("accepts exactly the configured profiles", () => {
    const runtime: WorkerRuntime = { kind: "profiles", profiles: { alice: { command: ["/x"], env: {}, skills: [] } } };
    expect(isSpawnable(runtime, "alice")).toBe(true);
    expect(isSpawnable(runtime, "bob")).toBe(false);
    expect(isSpawnable(runtime, "constructor")).toBe(false);
    expect(isSpawnable(runtime, null)).toBe(false);
  });

  it("accepts Hermes profiles that exist on disk, and default", () => {
    const home = tmp();
    fs.mkdirSync(path.join(home, "profiles", "alice"), { recursive: true });
    fs.writeFileSync(path.join(home, "profiles", "alice", "config.yaml"), "model: x\n");
    fs.mkdirSync(path.join(home, "profiles", "empty"), { recursive: true });
    const runtime: WorkerRuntime = { kind: "hermes", bin: "hermes", hermesHome: home };
    expect(isSpawnable(runtime, "alice")).toBe(true);
    expect(isSpawnable(runtime, "default")).toBe(true);
    expect(isSpawnable(runtime, "empty")).toBe(false);
    expect(isSpawnable(runtime, "../alice")).toBe(false);
  });
});

describe("resolveProgram", () => {
  it("finds executables on PATH (never in the cwd) and checks absolute paths", () => {
    const dir = tmp();
    const exe = path.join(dir, "my-agent");
    fs.writeFileSync(exe, "#!/bin/sh\n");
    fs.chmodSync(exe, 0o755);
    fs.writeFileSync(path.join(dir, "not-exec"), "x");
    expect(resolveProgram("my-agent", `/nonexistent:${dir}`)).toBe(exe);
    expect(resolveProgram("not-exec", dir)).toBeNull();
    expect(resolveProgram("my-agent", ".")).toBeNull();
    expect(resolveProgram(exe, "")).toBe(exe);
    expect(resolveProgram("/nonexistent/agent", dir)).toBeNull();
  });
});

describe("rotateLog", () => {
  it("shifts .log → .log.1 … .log.N once the log is larger than the limit", () => {
    const dir = tmp();
    const log = path.join(dir, "t.log");
    fs.writeFileSync(log, "x".repeat(10));
    rotateLog(log, 100, 2);
    expect(fs.existsSync(`${log}.1`)).toBe(false);
    fs.writeFileSync(log, "first".repeat(30));
    rotateLog(log, 100, 2);
    expect(fs.readFileSync(`${log}.1`, "utf8")).toBe("first".repeat(30));
    fs.writeFileSync(log, "second".repeat(30));
    rotateLog(log, 100, 2);
    fs.writeFileSync(log, "third".repeat(30));
    rotateLog(log, 100, 2);
    expect(fs.existsSync(log)).toBe(false);
    expect(fs.readFileSync(`${log}.1`, "utf8")).toBe("third".repeat(30));
    expect(fs.readFileSync(`${log}.2`, "utf8")).toBe("second".repeat(30));
    expect(fs.existsSync(`${log}.3`)).toBe(false);
  });

  it("deletes an oversized log when no backups are kept", () => {
    const log = path.join(tmp(), "t.log");
    fs.writeFileSync(log, "y".repeat(200));
    rotateLog(log, 100, 0);
    expect(fs.existsSync(log)).toBe(false);
  });
});

describe("WorkerPool", () => {
  it("dates a worker's start, its log header and the age of its exit record by the injected clock", async () => {
    const dir = tmp();
    const clock = new TestClock(1_000_000_000); // 2001-09-09T01:46:40Z, far from the real time
    const pool = new WorkerPool(() => {}, clock);
    const logPath = path.join(dir, "t.log");
    const pid = await pool.spawn({
      argv: [process.execPath, "-e", "setTimeout(() => process.exit(3), 100)"],
      env: {},
      cwd: dir,
      logPath,
      logRotateBytes: 1_000_000,
      logBackupCount: 0,
      meta: { task_id: "t_1", board: "default", run_id: 1 },
    });
    track(pid);
    expect(pool.running().map((w) => [w.pid, w.started_at])).toEqual([[pid, 1_000_000_000]]);
    expect(fs.readFileSync(logPath, "utf8")).toContain("--- 2001-09-09T01:46:40.000Z kanban-dispatcher: run 1 of t_1");
    expect(await waitFor(() => pool.exitStatus(pid), "the worker to exit")).toEqual({ code: 3, signal: null });
    clock.advance(599);
    expect(pool.exitStatus(pid)).toEqual({ code: 3, signal: null });
    clock.advance(2); // older than the ten minutes an exit record is kept
    expect(pool.exitStatus(pid)).toBeUndefined();
  });
});
