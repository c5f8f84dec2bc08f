import { openPostgres } from "@kanban/db";
import type { Clock } from "@kanban/kernel";
import { type BoardPorts, type BoardSet, PgBoardSet } from "./board-set.ts";
import type { DispatcherConfig } from "./config.ts";
import { PgCoordination } from "./coordination/postgres.ts";

/** What `createDispatcher(config, deps)` needs to serve the boards of a PostgreSQL database. */
export interface PgDispatch {
  coordination: PgCoordination;
  boards: (ports: () => BoardPorts) => BoardSet;
}

/**
 * Connects a dispatcher to the PostgreSQL database of `config.database`: the coordination's own
 * pool of 2 (its session for locks and LISTEN, and one connection that writes status rows and, at
 * the start of each tick, lists the board schemas), and the boards, each opened on first use with
 * a pool of its own (`DISPATCHER_PG_POOL_SIZE`). Nothing is started when the database cannot be
 * reached: a bad URL, an unreachable server or a wrong password rejects with the typed,
 * password-free KanbanDbError of `openPostgres`, and no connection is left open.
 */
export async function openPgDispatch(
  config: DispatcherConfig,
  opts: { clock?: Clock; warn?: (message: string) => void } = {},
): Promise<PgDispatch> {
  const target = config.database;
  if (target.engine !== "postgres") throw new Error("openPgDispatch needs a PostgreSQL database target");
  const db = await openPostgres(target.url, {
    poolSize: 2,
    applicationName: "kanban-dispatcher-coordination",
    warn: opts.warn,
  });
  const coordination = new PgCoordination({
    db,
    ownsDb: true,
    clock: opts.clock,
    host: config.hostname,
    pid: config.pid,
    intervalSeconds: config.settings.intervalSeconds,
    warn: opts.warn,
  });
  return { coordination, boards: (ports) => new PgBoardSet(target.url, db, ports) };
}
