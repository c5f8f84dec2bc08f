import { createTRPCClient, unstable_localLink } from "@trpc/client";
import type { AppRouter, Logger } from "@kanban/api";
import type { KanbanClient } from "@kanban/api/client";
import type { CliConfig } from "./config.ts";

export type { KanbanClient };

/**
 * A logger for the in-process API: its warnings (a board opened without WAL…) reach the user as
 * one line each; its error log of an unexpected failure stays quiet unless KANBAN_DEBUG is set,
 * because the failure itself is reported once by main as `kanban: internal server error`.
 */
function cliLogger(debug: boolean, write: (line: string) => void): Logger {
  return {
    info: (message, fields) => {
      if (debug) write(`kanban: debug: ${message} ${JSON.stringify(fields ?? {})}`);
    },
    warn: (message) => write(`kanban: warning: ${message}`),
    error: (message, fields) => {
      if (debug) write(`kanban: debug: ${message} ${JSON.stringify(fields ?? {})}`);
    },
  };
}

/** The in-process API, once a local-mode client loaded it. */
let localApi: typeof import("@kanban/api") | null = null;
/** Local mode on PostgreSQL: the boards (pools) this process opened, closed when the command is done. */
let localPgBoards: import("@kanban/api").BoardRegistry | null = null;

/**
 * Waits for what the in-process API still does in the background: a worker whose claim a command
 * released is stopped with SIGTERM, a grace period, then SIGKILL, and the CLI must not exit before.
 */
export async function settleLocalApi(): Promise<void> {
  await localApi?.drainTerminations();
  localPgBoards?.close();
  localPgBoards = null;
}

/**
 * The client every verb talks through. With `KANBAN_URL` it is HTTP (+ SSE for live events) to a
 * `kanban serve`; without, the same router runs in this process on the local boards, behind tRPC's
 * local link, so both modes return the same data and fail with the same TRPCClientError (carrying
 * `data.kanbanCode`). The API (and with it SQLite) is loaded only in local mode.
 */
export async function createClient(config: CliConfig, writeErr: (line: string) => void): Promise<KanbanClient> {
  if (config.url !== null) {
    // Loaded only in remote mode (with the SSE client for tail/watch), as the API is only in local mode.
    const [{ createKanbanClient }, { nodeHttpFetch }] = await Promise.all([
      import("@kanban/api/client"),
      import("./http-fetch.ts"),
    ]);
    return createKanbanClient({ url: config.url, token: config.token, fetch: nodeHttpFetch });
  }
  const api = await import("@kanban/api");
  localApi = api;
  const logger = cliLogger(config.debug, writeErr);
  const location = api.boardLocationFromEnv(config.env);
  // The same rule as `kanban serve`: KANBAN_DATABASE_URL, else config.json's "database", else SQLite.
  const database = api.resolveDatabaseTarget(config.env, location.home);
  // PostgreSQL: this command's own boards (pools), closed by settleLocalApi; SQLite keeps the
  // process-wide registry of the location.
  let boards: import("@kanban/api").BoardRegistry | undefined;
  let boardsRead: Promise<void> | null = null;
  if (database.engine === "postgres") {
    localPgBoards ??= new api.BoardRegistry({ location, database, pgPoolSize: 2, warn: (m) => logger.warn(m) });
    boards = localPgBoards;
  }
  return createTRPCClient<AppRouter>({
    links: [
      unstable_localLink({
        router: api.appRouter,
        createContext: async () => {
          // Which boards the database holds, read once per command. A failure is left to the call
          // itself, which meets the same connection error as one typed line.
          if (boards) {
            boardsRead ??= boards.refreshBoards().catch(() => {});
            await boardsRead;
          }
          // One CLI call is one short process: the integrity check of a board that passed one within
          // the hour is skipped (it grows with the board: 335 ms at 45 MB, on every heartbeat).
          return api.createContextInner({
            location,
            logger,
            integrityCheck: "unless-recent",
            ...(boards ? { boards } : {}),
          });
        },
      }),
    ],
  });
}
