export * from "./board-database.ts";
export * from "./boards.ts";
export * from "./connection.ts";
export * from "./errors.ts";
export { type FileLock, tryExclusiveFlock } from "./flock.ts";
export { type LegacyUpgradeReport, LEGACY_EVENT_RENAMES } from "./legacy-upgrade.ts";
export { type MigrateReport, migrateDatabase } from "./migrate.ts";
export { defaultMigrationsFolder } from "./migrations-folder.ts";
export { classifySqliteFailure, corruptionOf, markCorrupt } from "./sqlite-failures.ts";
export { sleepSync } from "./sleep.ts";
export { writeTxn, type WriteTxnOptions } from "./write-txn.ts";
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
