import { listBoards } from "@kanban/db";
import type { Termination } from "@kanban/kernel";
import type { Logger } from "./logger.ts";
import type { BoardRegistry } from "./registry.ts";

/** How often `kanban serve` looks for remote claims whose host went silent. */
export const REMOTE_SWEEP_MS = 5000;

export interface RemoteSweepOptions {
  boards: BoardRegistry;
  logger: Logger;
  /** Between sweeps (default 5 s). */
  intervalMs?: number;
  /** Stops a host-local worker a sweep released (remote ones are stopped by their host). */
  terminate?: (t: Termination) => void;
  /**
   * How long after start the timer's sweeps wait, in ms (the server passes one host lease). While
   * this server was down no host could renew through it, so a lease that ran out then says nothing
   * about the host: every host gets one lease to reconnect before its claims are judged.
   * `sweepOnce` itself never waits. Read at every tick (config.json may change).
   */
  graceMs?: () => number;
  /** Milliseconds now (tests); default Date.now. */
  nowMs?: () => number;
}

export interface SweepReport {
  /** `<board>/<task id>` of every claim given back. */
  reclaimed: string[];
}

export interface RemoteSweep {
  /** One sweep now (also what the timer runs); sweeps never overlap. */
  sweepOnce(): Promise<SweepReport>;
  /** Stops the timer and waits for a sweep under way. */
  stop(): Promise<void>;
}

/**
 * The recovery sweep for remote hosts, run by `kanban serve` (SQLite and PostgreSQL). A remote
 * host's claims are renewed only by its heartbeats through this server, and no dispatcher on this
 * machine can probe its workers; so when a host goes silent past its lease, its claims expire and
 * this sweep gives them back (`releaseStaleClaims`: the run ends `reclaimed`, the task is ready
 * again). When the host comes back, its hello or heartbeat lists those runs as revoked and it stops
 * their workers. Every board of the home (or the database) is swept; a failing board is logged once
 * until it recovers, never as a stack trace, and does not stop the others.
 */
export function startRemoteSweep(opts: RemoteSweepOptions): RemoteSweep {
  const failing = new Set<string>();
  let running: Promise<SweepReport> | null = null;

  async function slugs(): Promise<string[]> {
    if (opts.boards.engine === "postgres") {
      await opts.boards.refreshBoards();
      return ["default", ...opts.boards.databaseOnlyBoards(), ...homeSlugs()].filter(
        (s, i, all) => all.indexOf(s) === i && opts.boards.exists(s),
      );
    }
    return homeSlugs();
  }

  function homeSlugs(): string[] {
    return listBoards(opts.boards.location, { includeArchived: false })
      .map((m) => m.slug)
      .filter((s) => opts.boards.exists(s));
  }

  async function sweep(): Promise<SweepReport> {
    const report: SweepReport = { reclaimed: [] };
    let all: string[];
    try {
      all = await slugs();
    } catch (err) {
      note("(boards)", err);
      return report;
    }
    for (const slug of all) {
      try {
        const r = await opts.boards.board(slug).releaseStaleClaims();
        for (const id of r.reclaimed) report.reclaimed.push(`${slug}/${id}`);
        for (const t of r.terminate) opts.terminate?.(t);
        if (r.reclaimed.length > 0)
          opts.logger.info("claims of silent hosts given back", { board: slug, tasks: r.reclaimed.join(",") });
        if (failing.delete(slug)) opts.logger.info("remote sweep works again", { board: slug });
      } catch (err) {
        note(slug, err);
      }
    }
    return report;
  }

  function note(slug: string, err: unknown): void {
    if (failing.has(slug)) return;
    failing.add(slug);
    opts.logger.warn("remote sweep failed; retrying", { board: slug, error: (err as Error).message ?? String(err) });
  }

  const sweepOnce = (): Promise<SweepReport> => {
    running ??= sweep().finally(() => {
      running = null;
    });
    return running;
  };
  const nowMs = opts.nowMs ?? Date.now;
  const startedAt = nowMs();
  const inGrace = (): boolean => {
    try {
      return nowMs() - startedAt < (opts.graceMs?.() ?? 0);
    } catch {
      return false;
    }
  };
  const timer = setInterval(() => {
    if (!inGrace()) void sweepOnce();
  }, opts.intervalMs ?? REMOTE_SWEEP_MS);
  timer.unref();
  return {
    sweepOnce,
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}
