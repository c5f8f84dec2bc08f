import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { makeTempDir } from "@kanban/db/testing";
import { afterEach, describe, expect, it } from "vitest";
import { DispatcherConfigError, loadConfig } from "./config.ts";

const temps: { cleanup: () => void }[] = [];
afterEach(() => {
  for (const t of temps.splice(0)) t.cleanup();
});
function home(config?: unknown): string {
  const t = makeTempDir("kanban-config-");
  temps.push(t);
  if (config !== undefined) fs.writeFileSync(path.join(t.dir, "config.json"), JSON.stringify(config));
  return t.dir;
}

function configError(fn: () => unknown): DispatcherConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof DispatcherConfigError) return err;
    throw err;
  }
  throw new Error("expected a DispatcherConfigError");
}

describe("loadConfig", () => {
  it("uses the spec defaults and the built-in hermes runtime when nothing is configured", () => {
    const h = home();
    const c = loadConfig({ KANBAN_HOME: h, HERMES_HOME: "/opt/hermes" });
    expect(c.home).toBe(h);
    expect(c.settings).toEqual({
      intervalSeconds: 60,
      failureLimit: 2,
      maxSpawn: null,
      maxInProgress: null,
      maxInProgressPerProfile: null,
      defaultAssignee: null,
      reviewDispatch: true,
      gateConcurrency: 2,
      staleTimeoutSeconds: 14400,
      claimTtlSeconds: 900,
      crashGraceSeconds: 30,
      logRotateBytes: 2 * 1024 * 1024,
      logBackupCount: 1,
      terminateGraceSeconds: 5,
      workspaceRoots: [],
      memoryFloorMb: 128,
      maxWorkersHost: null,
      hostStateDir: path.join(os.tmpdir(), `kanban-host-${process.getuid?.() ?? "user"}`),
      containment: "auto",
      cgroupRoot: null,
      labels: [],
      rateLimitExitCode: 75,
      transientExitCode: 69,
      defaultMaxRuntimeSeconds: 14400,
      profileMaxRuntimeSeconds: {},
      autoRevive: { cooldowns: [600, 1800, 7200], max: 3 },
      incidents: { threshold: 3, windowSeconds: 300, probeSeconds: 30, probeMaxSeconds: 600 },
    });
    expect(c.runtime).toEqual({ kind: "hermes", bin: "hermes", hermesHome: "/opt/hermes" });
    expect(c.pinnedDb).toBeNull();
  });

  it("reads kanban settings and profiles, with command-line overrides and the test interval", () => {
    const h = home({
      kanban: {
        dispatch_interval_seconds: 5,
        failure_limit: 3,
        max_spawn: 4,
        default_assignee: " Alice ",
        max_in_progress_per_profile: 2,
        gate_concurrency: 4,
      },
      profiles: { alice: { command: ["/usr/bin/agent", "{task_id}", "{skills}"], skills: ["x"] } },
    });
    const c = loadConfig(
      { KANBAN_HOME: h, KANBAN_DISPATCH_INTERVAL: "0.5", KANBAN_HERMES_BIN: "/ignored" },
      { maxSpawn: 9, failureLimit: 1 },
    );
    expect(c.settings).toMatchObject({
      intervalSeconds: 0.5,
      failureLimit: 1,
      maxSpawn: 9,
      defaultAssignee: "alice",
      maxInProgressPerProfile: 2,
      gateConcurrency: 4,
    });
    expect(c.runtime.kind).toBe("profiles");
    expect(loadConfig({ KANBAN_HOME: h }).settings.intervalSeconds).toBe(5);
  });

  it("refuses invalid settings at start-up, naming the key", () => {
    const err = configError(() => loadConfig({ KANBAN_HOME: home({ kanban: { max_spawn: 0 } }) }));
    expect(err.message).toContain("kanban.max_spawn");
    expect(configError(() => loadConfig({ KANBAN_HOME: home({ kanban: { gate_concurrency: 0 } }) })).message).toContain(
      "kanban.gate_concurrency",
    );
    expect(
      configError(() => loadConfig({ KANBAN_HOME: home({ kanban: { dispatch_interval_seconds: 0.2 } }) })).message,
    ).toContain("kanban.dispatch_interval_seconds");
    expect(
      configError(() => loadConfig({ KANBAN_HOME: home({ profiles: { alice: { command: "agent --go" } } }) })).message,
    ).toContain("profiles.alice.command");
  });

  it("reads the admission and containment keys, and a profile's limits (sizes with suffixes, CPUs)", () => {
    const h = home({
      kanban: {
        memory_floor_mb: 512,
        max_workers_host: 3,
        host_state_dir: "/srv/kanban-host",
        containment: "process-tree",
        cgroup_root: "/sys/fs/cgroup/kanban",
      },
      profiles: {
        big: { command: ["/usr/bin/agent"], memory_max: "1.5G", cpu_max: 0.5, memory_floor_mb: 2048 },
        small: { command: ["/usr/bin/agent"], memory_max: 64 * 1024 * 1024 },
      },
    });
    const c = loadConfig({ KANBAN_HOME: h });
    expect(c.settings).toMatchObject({
      memoryFloorMb: 512,
      maxWorkersHost: 3,
      hostStateDir: "/srv/kanban-host",
      containment: "process-tree",
      cgroupRoot: "/sys/fs/cgroup/kanban",
    });
    if (c.runtime.kind !== "profiles") throw new Error("expected profiles");
    expect(c.runtime.profiles.big).toMatchObject({ memory_max: 1.5 * 1024 ** 3, cpu_max: 0.5, memory_floor_mb: 2048 });
    expect(c.runtime.profiles.small?.memory_max).toBe(64 * 1024 * 1024);
  });

  it("refuses bad admission and containment values, naming the key", () => {
    const cases: [unknown, string][] = [
      [{ kanban: { max_workers_host: 0 } }, "kanban.max_workers_host"],
      [{ kanban: { memory_floor_mb: -1 } }, "kanban.memory_floor_mb"],
      [{ kanban: { containment: "jail" } }, "kanban.containment"],
      [{ kanban: { cgroup_root: "relative/dir" } }, "kanban.cgroup_root"],
      [{ profiles: { p: { command: ["/a"], memory_max: "lots" } } }, "profiles.p.memory_max"],
      [{ profiles: { p: { command: ["/a"], memory_max: "12K" } } }, "profiles.p.memory_max"],
      [{ profiles: { p: { command: ["/a"], cpu_max: 0 } } }, "profiles.p.cpu_max"],
    ];
    for (const [config, key] of cases)
      expect(configError(() => loadConfig({ KANBAN_HOME: home(config) })).message).toContain(key);
  });

  it("refuses profile commands that cannot be executed as written", () => {
    const cases: [unknown, string][] = [
      [["bin/agent"], "must be an absolute path or a bare command name"],
      [["/a", "--skills={skills}"], "must be a whole argv element"],
      [["/a", "{taskid}"], "unknown placeholder {taskid}"],
      [["{workspace}/run"], "cannot be a placeholder"],
    ];
    for (const [command, message] of cases) {
      const err = configError(() => loadConfig({ KANBAN_HOME: home({ profiles: { p: { command } } }) }));
      expect(err.message).toContain(message);
      expect(err.key).toBe("profiles.p.command");
    }
  });

  it("refuses a malformed JSON file, a bad interval override and a relative hermes binary", () => {
    const h = home();
    fs.writeFileSync(path.join(h, "config.json"), "{ nope");
    expect(configError(() => loadConfig({ KANBAN_HOME: h })).message).toContain("not JSON");
    expect(configError(() => loadConfig({ KANBAN_HOME: home(), KANBAN_DISPATCH_INTERVAL: "soon" })).key).toBe(
      "KANBAN_DISPATCH_INTERVAL",
    );
    expect(configError(() => loadConfig({ KANBAN_HOME: home(), KANBAN_HERMES_BIN: "venv/bin/hermes" })).key).toBe(
      "KANBAN_HERMES_BIN",
    );
  });

  it("copies the environment for workers and pins KANBAN_DB", () => {
    const h = home();
    const c = loadConfig({
      KANBAN_HOME: h,
      KANBAN_DB: path.join(h, "x.db"),
      KANBAN_URL: "http://x",
      KANBAN_TOKEN: "tok",
      PATH: "/bin",
    });
    expect(c.pinnedDb).toBe(path.join(h, "x.db"));
    expect(c.baseEnv.PATH).toBe("/bin");
    expect(c.apiUrl).toBe("http://x");
    expect(c.apiToken).toBe("tok");
  });
});
