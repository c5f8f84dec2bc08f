export * from "./board-database.ts";
export * from "./boards.ts";
export * from "./connection.ts";
export * from "./database-target.ts";
export * from "./copy/index.ts";
export * from "./errors.ts";
export { type FileLock, tryExclusiveFlock } from "./flock.ts";
export { type LegacyUpgradeReport, LEGACY_EVENT_RENAMES } from "./legacy-upgrade.ts";
export { type MigrateReport, migrateDatabase } from "./migrate.ts";
export { defaultMigrationsFolder, defaultPgMigrationsFolder } from "./migrations-folder.ts";
export {
  DEFAULT_PG_POOL_SIZE,
  type KanbanPostgres,
  MIN_PG_SERVER_VERSION,
  type OpenPostgresOptions,
  openPostgres,
  parseInt8,
} from "./pg-connection.ts";
export {
  advisoryLockKey,
  boardSchemaName,
  dropBoardSchema,
  type MigrateBoardSchemaOptions,
  type MigrateBoardSchemaReport,
  migrateBoardSchema,
  PG_LOCK_CLASS,
  quoteIdent,
} from "./pg-board-schema.ts";
export { classifyPostgresFailure } from "./pg-failures.ts";
export {
  type EventNotification,
  eventsAnnouncementSql,
  KANBAN_EVENTS_CHANNEL,
  type OpenPgEventListenerOptions,
  openPgEventListener,
  type PgBoardEventHandler,
  type PgEventListener,
  type PgListenMode,
  parseEventNotification,
} from "./pg-listen.ts";
export { type ParsedPostgresUrl, type PostgresTarget, parsePostgresUrl, redactSecrets } from "./pg-url.ts";
export { classifySqliteFailure, corruptionOf, markCorrupt } from "./sqlite-failures.ts";
export { sleepSync } from "./sleep.ts";
export { writeTxn, type WriteTxnOptions } from "./write-txn.ts";
export { type AsyncWriteTxnOptions, savepointAsync, writeTxnAsync } from "./write-txn-async.ts";
export * from "./dispatcher-status.ts";
export * from "./home-config.ts";
export {
  hermesHomeFromEnv,
  hermesProfileExists,
  type KnownProfiles,
  knownProfiles,
  listHermesProfiles,
} from "./profiles.ts";
export * from "./run-token.ts";
