import type { KanbanClient } from "./client.ts";
import type { CliConfig } from "./config.ts";
import type { Io } from "./output.ts";

/**
 * What every run function receives. `client()` is lazy so that `--help`, `serve`, `dispatch` and
 * usage errors never open a database or a connection.
 */
export interface Deps {
  io: Io;
  config: CliConfig;
  client(): Promise<KanbanClient>;
  /** Aborted on Ctrl-C/SIGTERM: long-running verbs (tail, watch, serve, mcp) stop cleanly on it. */
  stopSignal(): AbortSignal;
}

/** The `board` field every call carries (omitted = the current board). */
export function boardArg(deps: Deps): { board?: string } {
  return deps.config.board === null ? {} : { board: deps.config.board };
}

/**
 * The fence of a worker's call on its own task: the run it was spawned for (and its claim lock),
 * so that a reclaimed worker's late call is refused (STALE_RUN) instead of settling the newer
 * attempt. Calls on any other task carry no fence.
 */
export function fenceFor(deps: Deps, taskId: string): { expected_run_id?: number; claim_lock?: string } {
  const c = deps.config;
  if (c.task === null || c.task !== taskId) return {};
  return {
    ...(c.runId !== null ? { expected_run_id: c.runId } : {}),
    ...(c.claimLock !== null ? { claim_lock: c.claimLock } : {}),
  };
}

/** Who a comment or a card is from when no flag says: the worker's profile, else "user". */
export function currentAuthor(deps: Deps): string {
  return deps.config.profile ?? "user";
}
