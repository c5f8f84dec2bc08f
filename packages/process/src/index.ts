/**
 * @kanban/process: host-local process inspection and worker termination, shared by the dispatcher
 * (its own workers) and the API (workers whose claim a request released). No @kanban dependencies.
 */
export {
  commandNameOf,
  isPidAlive,
  parentPidOf,
  processGroupAlive,
  processGroupExists,
  processStartTime,
  signalProcessGroup,
} from "./process.ts";
export { type TerminateOptions, type TerminateOutcome, type TerminationTarget, terminateWorker } from "./terminate.ts";
export { exitWithSupervisor, PARENT_PID_ENV, type ParentWatchOptions } from "./parent-watch.ts";
