export type {
  AcquireResult,
  DispatcherCoordination,
  TickLockAttempt,
  TickTarget,
} from "./coordination.ts";
export { openPgCoordination, PgCoordination, type PgCoordinationOptions } from "./postgres.ts";
export { SqliteCoordination } from "./sqlite.ts";
export { type BoardEngine, checkCoordinationFor, openDispatcherCoordination } from "./choose.ts";
