/**
 * @kanban/api: tRPC routers over the kernel, served over HTTP with live events, auth and clean
 * errors. Clients (CLI, web) import only `./client` and the types; servers import this entry.
 */
/** Re-exported so hosts (web, CLI) can locate boards without importing @kanban/db themselves. */
export { type BoardLocation, boardLocationFromEnv } from "@kanban/db";
/** The one rule that picks the engine (KANBAN_DATABASE_URL, config.json's "database"), for hosts that start a server or a local client. */
export {
  type DatabaseTarget,
  databaseLabel,
  databaseTarget,
  type LiveEventsSettings,
  liveEventsSettings,
  resolveDatabaseTarget,
} from "@kanban/db";
/**
 * `kanban db copy`/`verify`: move a whole board between SQLite files and PostgreSQL and verify it. Plain
 * functions, not procedures: an operator runs them on a machine that reaches both databases, and the
 * CLI reaches the db only through this package.
 */
export {
  COPY_ERROR_CODES,
  type CopyBoardOptions,
  type CopyBoardReport,
  type CopyTableReport,
  copyBoard,
  KanbanCopyError,
  type VerifyBoardsOptions,
  type VerifyBoardsReport,
  verifyBoards,
} from "@kanban/db";
export { type AuthConfig, authorize, isLoopbackHost } from "./auth.ts";
export { type ContextInnerOptions, createContextInner, drainTerminations, type KanbanContext } from "./context.ts";
export { type DispatcherDirectory, pgDispatcherDirectory } from "./routers/dispatcher-directory.ts";
export { DB_ERROR_TO_TRPC, INTERNAL_MESSAGE, KERNEL_ERROR_TO_TRPC, toTRPCError } from "./errors.ts";
export { createFetchHandler, type FetchHandlerOptions } from "./fetch-handler.ts";
export { LiveHub } from "./live/hub.ts";
export type { BoardChange } from "./routers/board-changes.ts";
export { type Logger, silentLogger, stderrLogger } from "./logger.ts";
export { BoardRegistry, type BoardRegistryOptions } from "./registry.ts";
export { type AppRouter, appRouter, createCaller, type RouterInputs, type RouterOutputs } from "./root.ts";
export { LIMITS } from "./schemas.ts";
export { DEFAULT_HOST, DEFAULT_PORT, type RunningServer, type ServerOptions, startServer } from "./server.ts";
