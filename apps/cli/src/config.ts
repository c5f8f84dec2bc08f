import type { ToolIdentity } from "./tools/client.ts";

/**
 * The CLI's whole configuration, read once from the environment (the only file that reads
 * `process.env`). Flags that override it (`--board`) are applied by the caller as `overrides`.
 * The worker identity (task, run id, claim lock, profile, tenant, session) is {@link ToolIdentity}:
 * the dispatcher sets it in a worker's environment.
 */
export interface CliConfig extends ToolIdentity {
  /** `KANBAN_URL`: the API of a `kanban serve` (or the web app); unset = the local database in-process. */
  url: string | null;
  token: string | null;
  /** The board every call names: `--board`, else `KANBAN_BOARD`; null = the server's/home's current board. */
  board: string | null;
  /** The environment passed to the in-process API (KANBAN_HOME, KANBAN_DB, KANBAN_WORKSPACES_ROOT…). */
  env: Readonly<Record<string, string | undefined>>;
  debug: boolean;
  /** `KANBAN_DISPATCHER_BIN`: the dispatcher executable `dispatch`/`dispatcher` run (default: found in the workspace). */
  dispatcherBin: string | null;
}

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

type Env = Record<string, string | undefined>;

/** A set variable, trimmed; unset and blank both mean "not set". */
function read(env: Env, name: string): string | null {
  const v = env[name];
  return v === undefined || v.trim() === "" ? null : v.trim();
}

/**
 * `http://host:4100` and `http://host:4100/` mean the server root: its tRPC endpoint is `/trpc`.
 * Any other path (the web app's `/api/trpc`) is used as given.
 */
export function normaliseApiUrl(url: string): string {
  const u = new URL(url);
  if (u.pathname === "" || u.pathname === "/") u.pathname = "/trpc";
  return u.toString().replace(/\/$/, "");
}

/**
 * Reads the configuration; every problem is reported at once, as one line. (Checked by hand, not
 * with zod: a worker runs this on every call, and loading zod would cost more than the checks.)
 */
export function loadConfig(env: Env = process.env, overrides: { board?: string | null } = {}): CliConfig {
  const problems: string[] = [];
  let url = read(env, "KANBAN_URL");
  if (url !== null) {
    try {
      if (!/^https?:$/.test(new URL(url).protocol)) throw new Error("not http");
      url = normaliseApiUrl(url);
    } catch {
      problems.push("KANBAN_URL: must be an http(s) URL");
    }
  }
  const runIdText = read(env, "KANBAN_RUN_ID");
  if (runIdText !== null && !/^\d+$/.test(runIdText)) problems.push("KANBAN_RUN_ID: must be a positive integer");
  if (problems.length > 0) throw new ConfigError(`invalid environment: ${problems.join("; ")}`);
  const debug = read(env, "KANBAN_DEBUG");
  return Object.freeze({
    url,
    token: read(env, "KANBAN_TOKEN"),
    board: overrides.board ?? read(env, "KANBAN_BOARD"),
    env: Object.freeze({ ...env }),
    task: read(env, "KANBAN_TASK"),
    runId: runIdText === null ? null : Number(runIdText),
    claimLock: read(env, "KANBAN_CLAIM_LOCK"),
    profile: read(env, "KANBAN_PROFILE"),
    tenant: read(env, "KANBAN_TENANT"),
    sessionId: read(env, "KANBAN_SESSION_ID"),
    debug: debug !== null && debug !== "0",
    dispatcherBin: read(env, "KANBAN_DISPATCHER_BIN"),
  });
}
