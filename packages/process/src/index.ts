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
export {
  BOARD_KEY_ENV,
  boardKey,
  byRun,
  type ProcEntry,
  procSnapshot,
  protectedPids,
  RUN_ID_ENV,
  type RunIdentity,
  runIdentityOf,
  runKey,
  runMarkerEnv,
  type RunProcess,
  runProcesses,
  type ScanOptions,
  scanRunProcesses,
} from "./run-processes.ts";
export {
  leaderIdentity,
  stopRunTree,
  type TreeStopOptions,
  type TreeStopReport,
  type TreeTarget,
} from "./stop-tree.ts";
export {
  type TerminateOptions,
  type TerminateOutcome,
  type TerminationTarget,
  terminateWorker,
  terminateWorkerTree,
} from "./terminate.ts";
export { exitWithSupervisor, PARENT_PID_ENV, type ParentWatchOptions } from "./parent-watch.ts";
export {
  argvIntoCgroup,
  type CgroupLimits,
  type CgroupProbe,
  type CgroupStopOutcome,
  cgroup2Mount,
  cgroupOf,
  cgroupPids,
  cgroupUsage,
  cpuMaxLine,
  createRunCgroup,
  killCgroup,
  probeCgroups,
  removeCgroup,
  removeEmptyRunCgroups,
  runCgroupDir,
  runCgroupName,
  signalCgroup,
  stopCgroup,
} from "./cgroup.ts";
export {
  type Footprint,
  type FootprintSource,
  FootprintSampler,
  processRss,
  processTree,
  processTrees,
} from "./footprint.ts";
