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
export { type Footprint, type FootprintSource, FootprintSampler, processRss, processTree } from "./footprint.ts";
