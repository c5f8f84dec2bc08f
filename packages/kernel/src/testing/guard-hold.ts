import { expect } from "vitest";
import type { Board } from "../board.ts";
import type { HostFacts } from "../motion/index.ts";

/**
 * The respawn guard holding `id`, as the claim walk sees it (a dry run, which writes nothing), checked
 * against the motion's answer ("why is this card not moving"), which must agree; no guard: nulls.
 */
export async function guardHold(
  board: Board,
  id: string,
  facts: HostFacts,
): Promise<{ guard: string | null; until: number | null }> {
  const lane = await board.claimNext(board.readyLane({ dryRun: true }), {}, 10);
  const skip = lane.skipped.find((s) => s.task_id === id);
  const motion = await board.explainMotion(id, facts);
  const fromLane = skip?.reason === "respawn_guard" ? { guard: skip.guard as string, until: skip.until ?? null } : null;
  const fromMotion =
    motion.code === "respawn_guard"
      ? { guard: motion.detail.guard as string, until: (motion.detail.until as number | null) ?? null }
      : null;
  expect(fromMotion).toEqual(fromLane);
  return fromLane ?? { guard: null, until: null };
}
