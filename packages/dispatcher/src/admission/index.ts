export { Admission, type AdmissionSettings, describeHold, type LaneHold, toHold } from "./admission.ts";
export { type ContainmentSettings, type ContainmentState, WorkerContainment } from "./containment.ts";
export { ADMISSION_LOCK_WAIT_MS, type HostSlot, HostSlots } from "./host-slots.ts";
export { memAvailableBytes } from "./meminfo.ts";
