import os from "node:os";
import path from "node:path";
import {
  type BoardLocation,
  boardLocationFromEnv,
  type DatabaseTarget,
  type HomeConfig,
  homeConfigPath,
  KanbanDbError,
  loadHomeConfig,
  type ProfileConfig,
  readHomeConfigSnapshot,
  resolveDatabaseTarget,
} from "@kanban/db";
import type { WorkerRuntime } from "./worker.ts";

/**
 * Everything the dispatcher is configured by. This is the only module of the package that reads
 * `process.env`: the rest receives a {@link DispatcherConfig}.
 *
 * Sources: `KANBAN_*` environment variables (board location, API address, test overrides), read once
 * at start-up, and `<KANBAN_HOME>/config.json` (`"kanban"` settings and `"profiles"`), checked at
 * start-up and re-applied by the running loop whenever the file changes ({@link withHomeConfig}).
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
  /** `kanban.review_dispatch` (default true): the review lane spawns the assignee (reviewer) of each `review` task. */
  reviewDispatch: boolean;
  /** `kanban.gate_concurrency` (default 2): rounds of acceptance commands run at once per board (gates/gate-runner.ts). */
  gateConcurrency: number;
  /** 0 disables stale-running detection. */
  staleTimeoutSeconds: number;
  claimTtlSeconds: number;
  crashGraceSeconds: number;
  logRotateBytes: number;
  logBackupCount: number;
  terminateGraceSeconds: number;
  /** `kanban.workspace_roots`: where a tenant's `dir:`/worktree workspace may be (resolved, absolute). */
  workspaceRoots: string[];
  /** Admission (`kanban.memory_floor_mb`): no spawn while MemAvailable is under this many MiB (0: off). */
  memoryFloorMb: number;
  /** Admission (`kanban.max_workers_host`): live workers on this host, every board and dispatcher sharing {@link hostStateDir}. */
  maxWorkersHost: number | null;
  /** `kanban.host_state_dir`: where this host's dispatchers count their workers. */
  hostStateDir: string;
  /** `kanban.containment`: how a worker's tree is contained. */
  containment: "auto" | "cgroup" | "process-tree";
  /** `kanban.cgroup_root`: the cgroup v2 directory for workers' cgroups; null = `<cgroup2 mount>/kanban`. */
  cgroupRoot: string | null;
  /**
   * The labels this local dispatcher offers (`--labels`, else `kanban.labels`; sorted, deduplicated):
   * it claims a task that requires labels only when it offers all of them. Unused by a remote host,
   * whose labels are {@link RemoteSettings.labels}.
   */
  labels: string[];
  /** `kanban.rate_limit_exit_code` (default 75, EX_TEMPFAIL): a worker exiting with it is rate limited, never counted. */
  rateLimitExitCode: number;
  /** `kanban.transient_exit_code` (default 69, EX_UNAVAILABLE): a worker exiting with it failed transiently, never counted. */
  transientExitCode: number;
  /** `kanban.default_max_runtime_seconds` (default 4 h): the runtime limit of a task and profile that set none; 0 = none. */
  defaultMaxRuntimeSeconds: number;
  /** Each profile's own `max_runtime_seconds`, used when its task sets none (over the default). */
  profileMaxRuntimeSeconds: Record<string, number>;
  /** `kanban.auto_revive_cooldowns_seconds` and `kanban.auto_revive_max` (0 turns auto-revive off). */
  autoRevive: { cooldowns: number[]; max: number };
  /** `kanban.incident_*`: when failures of one profile or host fold into an incident, and its probe backoff. */
  incidents: { threshold: number; windowSeconds: number; probeSeconds: number; probeMaxSeconds: number };
}

export interface DispatcherConfig {
  home: string;
  location: BoardLocation;
  /** KANBAN_DB pins one database file: the loop ticks that file alone. */
  pinnedDb: string | null;
  /**
   * Where the boards are: the embedded SQLite files of the home, or a PostgreSQL database
   * (`KANBAN_DATABASE_URL`, else config.json's `"database"`; the one rule of `@kanban/db`). Chosen
   * once at start-up: an edit of `"database"` applies at the next start. The URL is a secret.
   */
  database: DatabaseTarget;
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
  /** What a reload of config.json needs besides the file: the start-up inputs that win over it. */
  sources: ConfigSources;
  /** The config.json content this configuration was built from (`HomeConfigSnapshot.version`). */
  configVersion: string;
  /**
   * Set when this dispatcher is a remote host (`--server`, else config.json's `remote.server`): it
   * then claims and reports through that server's API only and never opens a board.
   */
  remote?: RemoteSettings | null;
}

/** A remote host's connection (issue 15). The token is a secret: never logged, never given to a worker. */
export interface RemoteSettings {
  /** The server as given (`http://host:4100`), for log lines. */
  server: string;
  /** Its tRPC endpoint (`http://host:4100/trpc`; a path other than `/` is kept as given). */
  trpcUrl: string;
  token: string;
  /** Sorted, lower-cased, deduplicated. */
  labels: string[];
  /** Workers this host runs at once (`--max-workers`, `remote.capacity`, `kanban.max_workers_host`, else 4). */
  capacity: number;
}

/** The parts of the configuration that come from the environment and the command line. */
export interface ConfigSources {
  overrides: ConfigOverrides;
  /** `KANBAN_DISPATCH_INTERVAL`, which wins over `kanban.dispatch_interval_seconds`. */
  envIntervalSeconds: number | null;
  hermesBin: string;
  hermesHome: string;
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
  /** `--server`, `--token`, `--max-workers`: a remote host. `--labels`: a remote host's, or a local dispatcher's. */
  server?: string;
  token?: string;
  labels?: string[];
  maxWorkers?: number;
}

const LABEL = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** `--labels a,b` / `remote.labels` / `kanban.labels`: checked like the server checks them; throws naming the source. */
export function parseLabels(raw: readonly string[], source: string): string[] {
  const out = new Set<string>();
  for (const item of raw) {
    const label = item.trim().toLowerCase();
    if (label === "") continue;
    if (!LABEL.test(label))
      throw new DispatcherConfigError(
        `invalid ${source}: '${label.slice(0, 70)}': a label is 1-64 of a-z, 0-9, '.', '_' and '-', starting with a letter or digit`,
        source,
      );
    out.add(label);
  }
  if (out.size > 32) throw new DispatcherConfigError(`invalid ${source}: at most 32 labels`, source);
  return [...out].sort();
}

/** The server's tRPC endpoint: the root means `/trpc` (as the CLI reads KANBAN_URL). */
function trpcEndpoint(server: string, source: string): string {
  let u: URL;
  try {
    u = new URL(server);
  } catch {
    throw new DispatcherConfigError(`invalid ${source}: must be an http(s) URL`, source);
  }
  if (!/^https?:$/.test(u.protocol))
    throw new DispatcherConfigError(`invalid ${source}: must be an http(s) URL`, source);
  // Credentials in the URL would be logged with it; the token has its own flag.
  if (u.username !== "" || u.password !== "")
    throw new DispatcherConfigError(
      `invalid ${source}: no credentials in the URL (pass the token with --token)`,
      source,
    );
  if (u.pathname === "" || u.pathname === "/") u.pathname = "/trpc";
  return u.toString().replace(/\/$/, "");
}

/** The remote host settings, or null for a local dispatcher. Throws {@link DispatcherConfigError}. */
function remoteSettings(
  home: HomeConfig,
  env: Record<string, string | undefined>,
  overrides: ConfigOverrides,
): RemoteSettings | null {
  const fromFile = home.remote ?? {};
  const server = nonEmpty(overrides.server) ?? nonEmpty(fromFile.server);
  if (server === null) {
    // --labels is not among them: a local dispatcher offers labels too (DispatcherSettings.labels).
    if (overrides.token !== undefined || overrides.maxWorkers !== undefined)
      throw new DispatcherConfigError(
        "--token and --max-workers are for a remote host: pass --server <url> too",
        "server",
      );
    return null;
  }
  const source = nonEmpty(overrides.server) !== null ? "--server" : "remote.server";
  const trpcUrl = trpcEndpoint(server, source);
  const token = nonEmpty(overrides.token) ?? nonEmpty(env.KANBAN_HOST_TOKEN) ?? nonEmpty(fromFile.token);
  if (token === null)
    throw new DispatcherConfigError(
      "a remote host needs its host token: --token, KANBAN_HOST_TOKEN or config.json remote.token",
      "token",
    );
  const labels =
    overrides.labels !== undefined
      ? parseLabels(overrides.labels, "--labels")
      : parseLabels(fromFile.labels ?? [], "remote.labels");
  const capacity = overrides.maxWorkers ?? fromFile.capacity ?? home.kanban.max_workers_host ?? 4;
  return { server: server.replace(/\/+$/, ""), trpcUrl, token, labels, capacity };
}

const PLACEHOLDERS = ["{task_id}", "{profile}", "{workspace}", "{prompt}", "{skills}", "{resume}"];

function checkProfile(name: string, profile: ProfileConfig, file: string): void {
  const cmd = profile.command[0] ?? "";
  const key = `profiles.${name}.command`;
  if (cmd.includes("{")) {
    throw new DispatcherConfigError(`invalid ${file}: ${key}[0]: the program itself cannot be a placeholder`, key);
  }
  if (cmd.includes("/") && !path.isAbsolute(cmd)) {
    throw new DispatcherConfigError(
      `invalid ${file}: ${key}[0]: '${cmd}' must be an absolute path or a bare command name looked up on PATH`,
      key,
    );
  }
  profile.command.forEach((arg, i) => {
    if (arg !== "{skills}" && arg.includes("{skills}")) {
      throw new DispatcherConfigError(
        `invalid ${file}: ${key}[${i}]: {skills} expands to several arguments and must be a whole argv element`,
        key,
      );
    }
    for (const m of arg.matchAll(/\{[a-z_]+\}/g)) {
      if (!PLACEHOLDERS.includes(m[0])) {
        throw new DispatcherConfigError(
          `invalid ${file}: ${key}[${i}]: unknown placeholder ${m[0]} (known: ${PLACEHOLDERS.join(" ")})`,
          key,
        );
      }
    }
  });
}

function envNumber(env: Record<string, string | undefined>, name: string, min: number): number | null {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === "") return null;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min)
    throw new DispatcherConfigError(`invalid ${name}='${raw}': expected a number >= ${min}`, name);
  return n;
}

function nonEmpty(value: string | undefined): string | null {
  return value !== undefined && value.trim() !== "" ? value.trim() : null;
}

/**
 * Shared by every dispatcher of this user on this host (whatever its home), so `max_workers_host`
 * counts all of them; per user because another user's directory is not ours to write.
 */
function defaultHostStateDir(): string {
  const uid = typeof process.getuid === "function" ? process.getuid() : "user";
  return path.join(os.tmpdir(), `kanban-host-${uid}`);
}

/** Settings and runtime from a validated config.json; throws {@link DispatcherConfigError} for a bad profile command. */
function fromHomeConfig(
  home: HomeConfig,
  sources: ConfigSources,
  file: string,
): Pick<DispatcherConfig, "settings" | "runtime"> {
  for (const [name, profile] of Object.entries(home.profiles)) checkProfile(name, profile, file);
  const k = home.kanban;
  const defaultAssignee = k.default_assignee.trim().toLowerCase();
  const { overrides } = sources;
  if (k.rate_limit_exit_code === k.transient_exit_code) {
    throw new DispatcherConfigError(
      `invalid ${file}: kanban.transient_exit_code: ${k.transient_exit_code} is already kanban.rate_limit_exit_code; the two classes need different codes`,
      "kanban.transient_exit_code",
    );
  }
  const profileMaxRuntimeSeconds: Record<string, number> = {};
  for (const [name, profile] of Object.entries(home.profiles))
    if (profile.max_runtime_seconds !== undefined) profileMaxRuntimeSeconds[name] = profile.max_runtime_seconds;
  const settings: DispatcherSettings = {
    intervalSeconds: sources.envIntervalSeconds ?? Math.max(1, k.dispatch_interval_seconds),
    failureLimit: overrides.failureLimit ?? k.failure_limit,
    maxSpawn: overrides.maxSpawn !== undefined ? overrides.maxSpawn : k.max_spawn,
    maxInProgress: k.max_in_progress,
    maxInProgressPerProfile: k.max_in_progress_per_profile,
    defaultAssignee: defaultAssignee === "" ? null : defaultAssignee,
    reviewDispatch: k.review_dispatch,
    gateConcurrency: k.gate_concurrency,
    staleTimeoutSeconds: k.dispatch_stale_timeout_seconds,
    claimTtlSeconds: k.claim_ttl_seconds,
    crashGraceSeconds: k.crash_grace_seconds,
    logRotateBytes: k.worker_log_rotate_bytes,
    logBackupCount: k.worker_log_backup_count,
    terminateGraceSeconds: k.terminate_grace_seconds,
    workspaceRoots: [...k.workspace_roots],
    memoryFloorMb: k.memory_floor_mb,
    maxWorkersHost: k.max_workers_host,
    hostStateDir: k.host_state_dir ?? defaultHostStateDir(),
    containment: k.containment,
    cgroupRoot: k.cgroup_root,
    labels:
      overrides.labels !== undefined
        ? parseLabels(overrides.labels, "--labels")
        : parseLabels(k.labels, "kanban.labels"),
    rateLimitExitCode: k.rate_limit_exit_code,
    transientExitCode: k.transient_exit_code,
    defaultMaxRuntimeSeconds: k.default_max_runtime_seconds,
    profileMaxRuntimeSeconds,
    autoRevive: { cooldowns: [...k.auto_revive_cooldowns_seconds], max: k.auto_revive_max },
    incidents: {
      threshold: k.incident_threshold,
      windowSeconds: k.incident_window_seconds,
      probeSeconds: k.incident_probe_seconds,
      probeMaxSeconds: k.incident_probe_max_seconds,
    },
  };
  const runtime: WorkerRuntime =
    Object.keys(home.profiles).length > 0
      ? { kind: "profiles", profiles: home.profiles }
      : { kind: "hermes", bin: sources.hermesBin, hermesHome: sources.hermesHome };
  return { settings, runtime };
}

/**
 * The configuration with a newer config.json applied (the environment and command-line overrides
 * still win). Throws {@link DispatcherConfigError} when a profile is unusable; the caller keeps the
 * configuration it has.
 */
export function withHomeConfig(current: DispatcherConfig, home: HomeConfig, version: string): DispatcherConfig {
  return { ...current, ...fromHomeConfig(home, current.sources, homeConfigPath(current.home)), configVersion: version };
}

/**
 * Builds the dispatcher's configuration from an environment (default: this process's) and the
 * home's config.json. Throws {@link DispatcherConfigError} naming the offending key.
 */
export function loadConfig(
  env: Record<string, string | undefined> = process.env,
  overrides: ConfigOverrides = {},
): DispatcherConfig {
  const location = boardLocationFromEnv(env);
  const file = homeConfigPath(location.home);
  // Read before the strict load: should the file change in between, the loop's first reload catches up.
  const version = readHomeConfigSnapshot(location.home).version;
  let home: HomeConfig;
  try {
    home = loadHomeConfig(location.home);
  } catch (err) {
    if (err instanceof KanbanDbError)
      throw new DispatcherConfigError(err.message, typeof err.details.key === "string" ? err.details.key : null);
    throw err;
  }
  let database: DatabaseTarget;
  try {
    database = resolveDatabaseTarget(env, location.home);
  } catch (err) {
    if (err instanceof KanbanDbError)
      throw new DispatcherConfigError(err.message, typeof err.details.key === "string" ? err.details.key : null);
    throw err;
  }
  const hermesHome = nonEmpty(env.HERMES_HOME) ?? path.join(os.homedir(), ".hermes");
  const sources: ConfigSources = {
    overrides,
    envIntervalSeconds: envNumber(env, "KANBAN_DISPATCH_INTERVAL", 0.05),
    hermesBin: nonEmpty(env.KANBAN_HERMES_BIN) ?? "hermes",
    hermesHome: path.resolve(hermesHome),
  };
  if (sources.hermesBin.includes("/") && !path.isAbsolute(sources.hermesBin)) {
    throw new DispatcherConfigError(
      `invalid KANBAN_HERMES_BIN='${sources.hermesBin}': use an absolute path or a bare command name`,
      "KANBAN_HERMES_BIN",
    );
  }
  const { settings, runtime } = fromHomeConfig(home, sources, file);
  const baseEnv: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (value !== undefined) baseEnv[key] = value;
  // A host token claims work for a whole machine: no worker ever holds one.
  delete baseEnv.KANBAN_HOST_TOKEN;
  const remote = remoteSettings(home, env, overrides);
  return {
    home: location.home,
    location,
    pinnedDb: location.dbOverride ?? null,
    database,
    settings,
    runtime,
    baseEnv,
    apiUrl: nonEmpty(env.KANBAN_URL),
    apiToken: nonEmpty(env.KANBAN_TOKEN),
    hostname: os.hostname() || "unknown",
    pid: process.pid,
    testClaimDelayMs: envNumber(env, "KANBAN_DISPATCHER_TEST_CLAIM_DELAY_MS", 0) ?? 0,
    sources,
    configVersion: version,
    remote,
  };
}
