/**
 * @kanban/dispatcher: the process that reclaims, promotes, claims and spawns workers. Programmatic
 * entry points for tests and hosts (`npm start`); the `kanban-dispatcher` bin wraps the same API.
 */
export {
  type ConfigOverrides,
  type DispatcherConfig,
  DispatcherConfigError,
  type DispatcherSettings,
  loadConfig,
} from "./config.ts";
export * from "./coordination/index.ts";
export {
  type DispatchDeps,
  type DispatchOptions,
  type DispatchResult,
  dispatchOnce,
  emptyResult,
  hasSpawnableReady,
  type SpawnContext,
} from "./dispatch-once.ts";
export {
  type BoardSummary,
  createDispatcher,
  Dispatcher,
  DispatcherBusyError,
  type DispatcherDeps,
  type OnceOptions,
  QUARANTINE_SECONDS,
  STUCK_TICKS,
  STUCK_WARNING_INTERVAL,
  type TickReport,
} from "./dispatcher.ts";
export { type DispatchJson, formatText, toJson } from "./format.ts";
export { collectChange } from "./gates/change.ts";
export { DEFAULT_GATE_CONCURRENCY, GateRunner, gateClaimer } from "./gates/gate-runner.ts";
export { commandEnv, runCommand } from "./gates/run-command.ts";
export { type LockAttempt, type PidLock, tryAcquireDispatchLock, tryAcquirePidLock } from "./pid-lock.ts";
export { isPidAlive, processGroupAlive, signalProcessGroup, terminateWorker } from "@kanban/process";
export {
  buildWorkerArgv,
  buildWorkerEnv,
  isSpawnable,
  type LiveWorker,
  resolveProgram,
  rotateLog,
  type SpawnRequest,
  WORKER_SKILL,
  WorkerPool,
  type WorkerRuntime,
  workerPrompt,
} from "./worker.ts";
export {
  cleanupScratch,
  type ResolvedWorkspace,
  resolveWorkspace,
  type WorkspaceContext,
  WorkspaceError,
} from "@kanban/workspace";
export { HostRefusedError, RemoteHost, type RemoteHostDeps, runRemoteHostCli } from "./remote/index.ts";
