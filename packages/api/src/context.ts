import {
  type BoardLocation,
  boardLocationFromEnv,
  type HomeConfig,
  hermesHomeFromEnv,
  type KnownProfiles,
  knownProfiles,
  type HomeConfigReader,
  type HomeConfigSnapshot,
  liveDispatcherPid,
} from "@kanban/db";
import type { Board, Clock, PidProbe, Termination } from "@kanban/kernel";
import os from "node:os";
import { isPidAlive, leaderIdentity, terminateWorkerTree } from "@kanban/process";
import { processConfigReader as configReader } from "./config-reader.ts";
import { LiveHub } from "./live/hub.ts";
import { type Logger, stderrLogger } from "./logger.ts";
import { BoardRegistry } from "./registry.ts";
import type { DispatcherDirectory } from "./routers/dispatcher-directory.ts";

export interface ContextInnerOptions {
  /** Where boards live. Defaults to KANBAN_HOME-style resolution from `env`. */
  location?: BoardLocation;
  /** Used only when `location` is absent (processes pass `process.env`). */
  env?: Record<string, string | undefined>;
  /** Set when the caller authenticated with a tenant-scoped token: every read and write is confined to it. */
  tenant?: string | null;
  clock?: Clock;
  isPidAlive?: PidProbe;
  /** The process's open boards; shared by every request of a server. */
  boards?: BoardRegistry;
  /** When no `boards` are passed: the integrity-check policy of the process-wide registry (see BoardRegistryOptions). */
  integrityCheck?: boolean | "unless-recent";
  /** The process's live-event watchers; shared by every request of a server. */
  live?: LiveHub;
  logger?: Logger;
  /**
   * Stops a worker whose claim a request released. Default: nothing while a live dispatcher serves
   * the board on this host (its containment sweep stops the run's whole tree within about a second,
   * and records what it stopped); without one, the same tree stop here (`terminateWorkerTree`, with
   * `kanban.terminate_grace_seconds`). A returned promise is tracked like the default's.
   */
  terminate?: (t: Termination) => unknown;
  /** Where Hermes profiles live, for the built-in runtime (default: `HERMES_HOME` of `env`/the process, else ~/.hermes). */
  hermesHome?: string;
  /** The process's config.json reader (servers share the one their auth reads tokens from). */
  configReader?: HomeConfigReader;
  /** Where boards' dispatchers are listed and nudged when not through the home's files (PostgreSQL). */
  dispatchers?: DispatcherDirectory;
}

/** What every procedure receives. */
export interface KanbanContext {
  readonly location: BoardLocation;
  readonly tenant: string | null;
  readonly boards: BoardRegistry;
  readonly live: LiveHub;
  readonly logger: Logger;
  /** The open board a request names (`board` input), else the current board. */
  board(slug?: string | null): Board;
  /** The slug a request names, validated, else the current board's. */
  slug(slug?: string | null): string;
  /**
   * `<home>/config.json` as it is now (people edit it while the server runs); while the file is
   * invalid, the last valid settings this process saw, else the defaults. Never throws.
   */
  config(): HomeConfig;
  /** The whole snapshot behind {@link config}: also the file's error and warnings, for the board. */
  configSnapshot(): HomeConfigSnapshot;
  /**
   * Stops the worker of a released claim, after the kernel committed the release. Never blocks the
   * request: the SIGTERM → grace → SIGKILL escalation runs in the background.
   */
  terminate(t: Termination | null | undefined): void;
  /** Resolves once every termination this process started has finished (see {@link drainTerminations}). */
  drainTerminations(): Promise<void>;
  /**
   * The profiles the dispatcher can spawn on this host (config.json's, else the Hermes profiles on
   * disk), as the dispatcher decides it; null while config.json is invalid (then nobody can tell).
   */
  knownProfiles(): KnownProfiles | null;
  /** PostgreSQL boards' dispatchers (rows and NOTIFY); null: the SQLite home's files. */
  readonly dispatchers: DispatcherDirectory | null;
}

/** Per-location registries and one hub for callers that do not bring their own (tests, one-off callers). */
const sharedRegistries = new Map<string, BoardRegistry>();
let sharedHub: LiveHub | null = null;

function locationKey(loc: BoardLocation): string {
  return JSON.stringify([loc.home, loc.dbOverride ?? null, loc.workspacesRootOverride ?? null, loc.envBoard ?? null]);
}

/**
 * Terminations still escalating, process-wide: a server keeps running anyway, but a one-shot process
 * (the CLI in local mode builds a context per call) must not exit before the worker's group is gone.
 */
const pendingTerminations = new Set<Promise<unknown>>();

function track(p: Promise<unknown>): void {
  const settled = p.then(
    () => {},
    () => {},
  );
  pendingTerminations.add(settled);
  void settled.then(() => pendingTerminations.delete(settled));
}

/** Waits until every worker termination started in this process has finished (at most the grace plus a moment). */
export async function drainTerminations(): Promise<void> {
  while (pendingTerminations.size > 0) await Promise.all([...pendingTerminations]);
}

const DEFAULT_TERMINATE_GRACE_SECONDS = 5;

function graceSeconds(home: string): number {
  try {
    return configReader(home).get().config.kanban.terminate_grace_seconds;
  } catch {
    // An unreadable config.json must not keep a released worker alive: the documented default applies.
    return DEFAULT_TERMINATE_GRACE_SECONDS;
  }
}

/**
 * Whether a live dispatcher on this host owns the worker's termination. The dispatcher is the
 * process that owns workers: its containment sweep notices a run that is over within about a second
 * and stops its whole tree (SIGKILL included), and records it on the task. Stopping it here too
 * would race that sweep and leave no record. SQLite: the home's dispatcher (it serves every board of
 * the home) holds its lock. PostgreSQL (several dispatchers, on several hosts): the dispatcher named
 * by the claim (`<host>:<pid>` of this host) is alive. Only a worker that carries a run's marker
 * (`KANBAN_RUN_ID` + `KANBAN_BOARD_KEY`, set by our dispatcher) can be found by that sweep: any other
 * (a pid recorded by a person's claim, another program's worker) is stopped here as before.
 */
function dispatcherOwns(t: Termination, home: string, engine: () => "sqlite" | "postgres"): boolean {
  if (leaderIdentity(t.pid) === null) return false;
  if (engine() !== "postgres") return liveDispatcherPid(home) !== null;
  const m = /^(.+):(\d+)$/.exec(t.lock ?? "");
  if (m === null || m[1] !== (os.hostname() || "unknown")) return false;
  const pid = Number(m[2]);
  return pid !== process.pid && isPidAlive(pid);
}

/**
 * The fallback termination, for a board no live dispatcher serves (a CLI or server on a host whose
 * dispatcher is stopped or was SIGKILLed): the run's whole tree, stopped here, so a released worker
 * never keeps running beside its replacement.
 */
function defaultTerminate(
  logger: Logger,
  home: string,
  engine: () => "sqlite" | "postgres",
): (t: Termination) => Promise<unknown> {
  return async (t) => {
    let owned = false;
    try {
      owned = dispatcherOwns(t, home, engine);
    } catch {
      // Cannot tell (an engine the rule refuses): stopping it here is the safe side.
    }
    if (owned) {
      logger.info("worker left to the dispatcher's containment", { pid: t.pid });
      return;
    }
    const grace = graceSeconds(home);
    const r = await terminateWorkerTree(t, { graceMs: grace * 1000 });
    if (r.outcome === "killed")
      logger.warn("worker survived SIGTERM and was killed", {
        pid: t.pid,
        grace_seconds: grace,
        processes: r.pids.length,
        killed: r.killed.length,
      });
    else if (r.outcome === "terminated") logger.info("worker terminated", { pid: t.pid, processes: r.pids.length });
    // "gone" is the common case: the worker noticed its claim was released and exited.
  };
}

/**
 * Builds a request context. The server and the Next route handler pass their long-lived registry
 * and hub; tests pass their own too. Without them, a process-wide registry per location is used.
 */
export function createContextInner(opts: ContextInnerOptions): KanbanContext {
  const location = opts.location ?? boardLocationFromEnv(opts.env ?? {});
  const logger = opts.logger ?? stderrLogger;
  let boards = opts.boards;
  if (!boards) {
    const key = locationKey(location);
    boards = sharedRegistries.get(key);
    if (!boards) {
      boards = new BoardRegistry({
        location,
        clock: opts.clock,
        isPidAlive: opts.isPidAlive,
        hermesHome: opts.hermesHome ?? hermesHomeFromEnv(opts.env ?? process.env),
        integrityCheck: opts.integrityCheck,
      });
      sharedRegistries.set(key, boards);
    }
  }
  if (!opts.live && sharedHub === null) sharedHub = new LiveHub({ logger });
  const live = opts.live ?? (sharedHub as LiveHub);
  const registry = boards;
  const config = opts.configReader ?? configReader(registry.location.home);
  const terminate = opts.terminate ?? defaultTerminate(logger, registry.location.home, () => registry.engine);
  const tenant = opts.tenant?.trim() ? opts.tenant.trim() : null;
  const hermesHome = opts.hermesHome ?? hermesHomeFromEnv(opts.env ?? process.env);
  return {
    location: registry.location,
    tenant,
    boards: registry,
    live,
    logger,
    board: (slug) => registry.board(slug),
    slug: (slug) => registry.resolveSlug(slug),
    config: () => config.get().config,
    configSnapshot: () => config.get(),
    terminate: (t) => {
      if (!t) return;
      try {
        const running = terminate(t);
        if (running instanceof Promise) track(running);
      } catch (err) {
        logger.warn("could not terminate worker", { pid: t.pid, error: (err as Error).message });
      }
    },
    drainTerminations,
    dispatchers: opts.dispatchers ?? null,
    knownProfiles: () => {
      const snap = config.get();
      return snap.error === null ? knownProfiles(snap.config, hermesHome) : null;
    },
  };
}
