import type { Clock } from "@kanban/kernel";
import type { DispatcherConfig } from "../config.ts";
import type { DispatcherCoordination } from "./coordination.ts";
import { openPgCoordination } from "./postgres.ts";
import { SqliteCoordination } from "./sqlite.ts";

export type BoardEngine = "sqlite" | "postgres";

/**
 * The coordination for boards of `engine` (what `Board.engine` says): the home's files for SQLite,
 * the database for PostgreSQL (`url`: a direct or session-pooled connection, see
 * `openPgCoordination`). Pass the result to `createDispatcher(config, { coordination })`.
 */
export async function openDispatcherCoordination(
  engine: BoardEngine,
  opts: { config: DispatcherConfig; url?: string; clock?: Clock; warn?: (message: string) => void },
): Promise<DispatcherCoordination> {
  const { config } = opts;
  if (engine === "sqlite") return new SqliteCoordination(config.home, config.hostname, config.pid);
  if (!opts.url) throw new Error("the PostgreSQL coordination needs the database URL");
  return await openPgCoordination(opts.url, {
    host: config.hostname,
    pid: config.pid,
    intervalSeconds: config.settings.intervalSeconds,
    clock: opts.clock,
    warn: opts.warn,
  });
}

/**
 * Refuses to tick a PostgreSQL board with the host-local file coordination: a flock beside its
 * display path (`postgres://…#schema`) would lock nothing another host sees. (The other way round,
 * SQLite boards coordinated through PostgreSQL, only costs Hermes' view of the flock; the wiring
 * test uses it until boards open on PostgreSQL.)
 */
export function checkCoordinationFor(
  board: { readonly engine?: string; readonly path: string },
  coordination: DispatcherCoordination,
): void {
  if (board.engine === "postgres" && coordination.engine !== "postgres") {
    throw new Error(
      `board ${board.path} is on PostgreSQL but this dispatcher coordinates through host-local files: start it with openDispatcherCoordination("postgres", …)`,
    );
  }
}
