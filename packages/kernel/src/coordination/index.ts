export {
  DISPATCH_NUDGE_CHANNEL,
  DISPATCHER_ROW_RETENTION_SECONDS,
  KEEPALIVE_BOUND_SECONDS,
  listPgDispatchers,
  nudgePgDispatchers,
  PgDispatchCoordination,
  type PgDispatchCoordinationOptions,
  type PgDispatcherRow,
  type PgHeartbeat,
  type PgTickLock,
} from "./pg-dispatch-coordination.ts";
export { pgDispatcherEntries } from "./pg-dispatcher-entries.ts";
export { listPgBoards } from "./pg-boards.ts";
