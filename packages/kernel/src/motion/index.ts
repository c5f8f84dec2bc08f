import type { Board } from "../board.ts";
import type { HostFacts, Motion } from "./types.ts";

export { type ReadyHold, holdMotion } from "./holds.ts";
export { laneSkipMotion } from "./lane.ts";
export { LEASE_WARNING_SECONDS, QUIET_HEARTBEAT_SECONDS } from "./judge.ts";
export {
  type CardMotion,
  type HostFacts,
  type HostHold,
  MOTION_CODES,
  type Motion,
  type MotionCode,
  type MotionHost,
  type MotionScope,
  type WorkerFootprint,
} from "./types.ts";

/** Why `taskId` is (not) moving, with the next action; NOT_FOUND for an unknown id. */
export async function explainMotion(board: Board, taskId: string, facts: HostFacts = {}): Promise<Motion> {
  return await board.explainMotion(taskId, facts);
}

/** The motion of each id that names a task, in a fixed number of statements (unknown ids are absent). */
export async function explainMotions(
  board: Board,
  taskIds: readonly string[],
  facts: HostFacts = {},
): Promise<Map<string, Motion>> {
  return await board.explainMotions(taskIds, facts);
}
