import fs from "node:fs";
import {
  type DispatcherEntry,
  type DispatcherStatus,
  dispatcherEntriesFromHome,
  dispatcherLockPath,
  dispatcherSilenceLimit,
  liveDispatcherPid,
  nudgeDispatcher,
  readDispatcherStatus,
} from "@kanban/db";
import { adminProcedure, publicProcedure, router } from "../trpc.ts";

/**
 * running: alive and ticking; starting: alive, no tick of its own yet; stuck: alive but silent
 * for too long; stopped: no live dispatcher.
 */
export type DispatcherHealthState = "running" | "starting" | "stuck" | "stopped";

export interface DispatcherHealthInput {
  /** The pid in the lock file when that process is alive, else null. */
  pid: number | null;
  status: (DispatcherStatus & { config_error?: string | null }) | null;
  /** When the lock file was last written (unix seconds), null when there is none. */
  lockedAt: number | null;
  /** Unix seconds. */
  now: number;
}

/** How long a dispatcher may be silent: three intervals, at least 30 s (a tick may take a while). */
export function silenceLimit(intervalSeconds: number): number {
  // One rule with the dispatcher list's alive/stale (judgeDispatcher in @kanban/db).
  return dispatcherSilenceLimit(intervalSeconds);
}

/** A dispatcher writes its first status within a tick of starting; a minute covers a slow first open. */
const STARTUP_ALLOWANCE_SECONDS = 60;

/**
 * Whether the dispatcher is really there, from the freshness of its status rather than from a pid
 * alone: a pid in the lock file can be alive but reused by another process after a crash, and a
 * status file can be left over from a dispatcher that is gone.
 */
export function dispatcherHealthOf(i: DispatcherHealthInput): {
  state: DispatcherHealthState;
  last_seen_at: number | null;
  silent_seconds: number | null;
} {
  if (i.pid === null) return { state: "stopped", last_seen_at: i.status?.last_tick_at ?? null, silent_seconds: null };
  const own = i.status !== null && i.status.pid === i.pid && !i.status.stopped_at ? i.status : null;
  if (own === null) {
    // The live process has not written a status of its own yet: starting, unless that has lasted
    // far too long (then the pid most likely belongs to some other process now).
    const since = i.lockedAt ?? i.now;
    return {
      state: i.now - since > STARTUP_ALLOWANCE_SECONDS ? "stuck" : "starting",
      last_seen_at: null,
      silent_seconds: i.now - since,
    };
  }
  const limit = silenceLimit(own.interval_seconds);
  const last = own.last_tick_at ?? own.started_at;
  const silent = Math.max(0, i.now - last);
  if (own.last_tick_at === null && silent <= limit)
    return { state: "starting", last_seen_at: last, silent_seconds: silent };
  return { state: silent > limit ? "stuck" : "running", last_seen_at: last, silent_seconds: silent };
}

function lockWrittenAt(home: string): number | null {
  try {
    return Math.floor(fs.statSync(dispatcherLockPath(home)).mtimeMs / 1000);
  } catch {
    return null;
  }
}

/**
 * The board's dot from a list of dispatchers (PostgreSQL, where no home file exists): running while
 * any is alive, stuck while some seem there but all are silent, else stopped.
 */
export function healthOfEntries(entries: DispatcherEntry[]): {
  state: DispatcherHealthState;
  last_seen_at: number | null;
  silent_seconds: number | null;
  pid: number | null;
} {
  const alive = entries.filter((e) => e.state === "alive");
  const stale = entries.filter((e) => e.state === "stale");
  const freshest = (list: DispatcherEntry[]) => list.reduce((a, b) => (b.heartbeat_at > a.heartbeat_at ? b : a));
  if (alive.length > 0) {
    const e = freshest(alive);
    const state = e.last_tick_at === null ? "starting" : "running";
    return { state, last_seen_at: e.heartbeat_at, silent_seconds: e.silent_seconds, pid: e.pid };
  }
  if (stale.length > 0) {
    const e = freshest(stale);
    return { state: "stuck", last_seen_at: e.heartbeat_at, silent_seconds: e.silent_seconds, pid: e.pid };
  }
  return { state: "stopped", last_seen_at: null, silent_seconds: null, pid: null };
}

export const dispatcherRouter = router({
  /**
   * The dispatcher's last persisted status, whether its process is alive, and `health` derived from
   * how fresh its status is (what the board's dot shows), plus the config error it reports, if any.
   */
  status: adminProcedure.query(async ({ ctx }) => {
    const home = ctx.location.home;
    const now = Math.floor(ctx.boards.clock.now() / 1000);
    if (ctx.dispatchers !== null) {
      // PostgreSQL: every dispatcher of the current board, from its rows; the one-dispatcher fields
      // older clients read describe the freshest live one.
      const dispatchers = await ctx.dispatchers.list(ctx.slug(), now);
      const { pid, ...health } = healthOfEntries(dispatchers);
      return {
        alive: pid !== null,
        pid,
        status: null,
        health: { ...health, now },
        config_error: null,
        dispatchers,
      };
    }
    const pid = liveDispatcherPid(home);
    const status = readDispatcherStatus(home) as
      | (DispatcherStatus & { alive: boolean; config_error?: string | null })
      | null;
    const health = dispatcherHealthOf({ pid, status, lockedAt: lockWrittenAt(home), now });
    const configError =
      pid !== null && status?.pid === pid && typeof status.config_error === "string" ? status.config_error : null;
    return {
      alive: pid !== null,
      pid,
      status,
      health: { ...health, now },
      config_error: configError,
      // Every dispatcher of the board (the list PostgreSQL boards give; here the home's one).
      dispatchers: dispatcherEntriesFromHome(home, now),
    };
  }),

  /** Asks a running dispatcher to tick now; `nudged: false` when none is alive. */
  nudge: publicProcedure.mutation(async ({ ctx }) => {
    const nudged =
      ctx.dispatchers !== null ? (await ctx.dispatchers.nudge(ctx.slug())) > 0 : nudgeDispatcher(ctx.location.home);
    return { nudged, alive: nudged };
  }),
});
