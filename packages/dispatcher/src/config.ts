import os from "node:os";
import path from "node:path";
import { type BoardLocation, boardLocationFromEnv, homeConfigPath, KanbanDbError, loadHomeConfig, type ProfileConfig } from "@kanban/db";
import type { WorkerRuntime } from "./worker.ts";

/**
 * Everything the dispatcher is configured by, read once at start-up. This is the only module of the
 * package that reads `process.env`: the rest receives a {@link DispatcherConfig}.
 *
 * Sources: `KANBAN_*` environment variables (board location, API address, test overrides) and
 * `<KANBAN_HOME>/config.json` (`"kanban"` settings and `"profiles"`).
 */
export interface DispatcherSettings {
  /** Seconds between ticks (config floor 1; `KANBAN_DISPATCH_INTERVAL` may go lower, for tests). */
  intervalSeconds: number;
  failureLimit: number;
  /** Live concurrency cap per board (running + spawned this tick). */
  maxSpawn: number | null;
  /** Running tasks across every board of the home. */
  maxInProgress: number | null;
  /** Running tasks per assignee on one board. */
  maxInProgressPerProfile: number | null;
  /** Fallback assignee for unassigned ready tasks (canonical, lowercase); null when unset. */
  defaultAssignee: string | null;
  /** 0 disables stale-running detection. */
  staleTimeoutSeconds: number;
  claimTtlSeconds: number;
  crashGraceSeconds: number;
  logRotateBytes: number;
  logBackupCount: number;
  terminateGraceSeconds: number;
}

export interface DispatcherConfig {
  home: string;
  location: BoardLocation;
  /** KANBAN_DB pins one database file: the loop ticks that file alone. */
  pinnedDb: string | null;
  settings: DispatcherSettings;
  runtime: WorkerRuntime;
  /** The environment workers inherit (a copy of the dispatcher's). */
  baseEnv: Record<string, string>;
  apiUrl: string | null;
  apiToken: string | null;
  hostname: string;
  pid: number;
  /**
   * Test-only (`KANBAN_DISPATCHER_TEST_CLAIM_DELAY_MS`): pause between claiming a task and spawning
   * its worker, so a test can kill the dispatcher at the worst moment of a tick.
   */
  testClaimDelayMs: number;
}

/** A start-up configuration problem; the message names the offending key. */
export class DispatcherConfigError extends Error {
  override readonly name = "DispatcherConfigError";
  constructor(
    message: string,
    readonly key: string | null = null,
  ) {
    super(message);
  }
}

export interface ConfigOverrides {
  maxSpawn?: number | null;
  failureLimit?: number;
}

const PLACEHOLDERS = ["{task_id}", "{profile}", "{workspace}", "{prompt}", "{skills}"];

function checkProfile(name: string, profile: ProfileConfig, file: string): void {
  const cmd = profile.command[0] ?? "";
  const key = `profiles.${name}.command`;
  if (cmd.includes("{")) {
    throw new DispatcherConfigError(`invalid ${file}: ${key}[0]: the program itself cannot be a placeholder`, key);
  }
  if (cmd.includes("/") && !path.isAbsolute(cmd)) {
    throw new DispatcherConfigError(`invalid ${file}: ${key}[0]: '${cmd}' must be an absolute path or a bare command name looked up on PATH`, key);
  }
  profile.command.forEach((arg, i) => {
    if (arg !== "{skills}" && arg.includes("{skills}")) {
      throw new DispatcherConfigError(`invalid ${file}: ${key}[${i}]: {skills} expands to several arguments and must be a whole argv element`, key);
    }
    for (const m of arg.matchAll(/\{[a-z_]+\}/g)) {
      if (!PLACEHOLDERS.includes(m[0])) {
        throw new DispatcherConfigError(`invalid ${file}: ${key}[${i}]: unknown placeholder ${m[0]} (known: ${PLACEHOLDERS.join(" ")})`, key);
      }
    }
  });
}

function envNumber(env: Record<string, string | undefined>, name: string, min: number): number | null {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === "") return null;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min) throw new DispatcherConfigError(`invalid ${name}='${raw}': expected a number >= ${min}`, name);
  return n;
}

function nonEmpty(value: string | undefined): string | null {
  return value !== undefined && value.trim() !== "" ? value.trim() : null;
}

/**
 * Builds the dispatcher's configuration from an environment (default: this process's) and the
 * home's config.json. Throws {@link DispatcherConfigError} naming the offending key.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env, overrides: ConfigOverrides = {}): DispatcherConfig {
  const location = boardLocationFromEnv(env);
  const file = homeConfigPath(location.home);
  let home: ReturnType<typeof loadHomeConfig>;
  try {
    home = loadHomeConfig(location.home);
  } catch (err) {
    if (err instanceof KanbanDbError) throw new DispatcherConfigError(err.message, typeof err.details.key === "string" ? err.details.key : null);
    throw err;
  }
  for (const [name, profile] of Object.entries(home.profiles)) checkProfile(name, profile, file);
  const k = home.kanban;
  const defaultAssignee = k.default_assignee.trim().toLowerCase();
  const envInterval = envNumber(env, "KANBAN_DISPATCH_INTERVAL", 0.05);
  const settings: DispatcherSettings = {
    intervalSeconds: envInterval ?? Math.max(1, k.dispatch_interval_seconds),
    failureLimit: overrides.failureLimit ?? k.failure_limit,
    maxSpawn: overrides.maxSpawn !== undefined ? overrides.maxSpawn : k.max_spawn,
    maxInProgress: k.max_in_progress,
    maxInProgressPerProfile: k.max_in_progress_per_profile,
    defaultAssignee: defaultAssignee === "" ? null : defaultAssignee,
    staleTimeoutSeconds: k.dispatch_stale_timeout_seconds,
    claimTtlSeconds: k.claim_ttl_seconds,
    crashGraceSeconds: k.crash_grace_seconds,
    logRotateBytes: k.worker_log_rotate_bytes,
    logBackupCount: k.worker_log_backup_count,
    terminateGraceSeconds: k.terminate_grace_seconds,
  };
  const baseEnv: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (value !== undefined) baseEnv[key] = value;
  const hermesHome = nonEmpty(env.HERMES_HOME) ?? path.join(os.homedir(), ".hermes");
  const runtime: WorkerRuntime =
    Object.keys(home.profiles).length > 0
      ? { kind: "profiles", profiles: home.profiles }
      : { kind: "hermes", bin: nonEmpty(env.KANBAN_HERMES_BIN) ?? "hermes", hermesHome: path.resolve(hermesHome) };
  if (runtime.kind === "hermes" && runtime.bin.includes("/") && !path.isAbsolute(runtime.bin)) {
    throw new DispatcherConfigError(`invalid KANBAN_HERMES_BIN='${runtime.bin}': use an absolute path or a bare command name`, "KANBAN_HERMES_BIN");
  }
  return {
    home: location.home,
    location,
    pinnedDb: location.dbOverride ?? null,
    settings,
    runtime,
    baseEnv,
    apiUrl: nonEmpty(env.KANBAN_URL),
    apiToken: nonEmpty(env.KANBAN_TOKEN),
    hostname: os.hostname() || "unknown",
    pid: process.pid,
    testClaimDelayMs: envNumber(env, "KANBAN_DISPATCHER_TEST_CLAIM_DELAY_MS", 0) ?? 0,
  };
}
