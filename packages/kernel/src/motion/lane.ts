import type { LaneSkip } from "../claim-next.ts";
import { hostHold } from "./explain.ts";
import { holdMotion, type ReadyHold } from "./holds.ts";
import { incidentSkipMotion } from "./incident-hold.ts";
import type { Motion } from "./types.ts";

/** A task the dispatcher's lane passed over, as the lane's hold (the rules both share, holds.ts). */
function holdOfSkip(skip: Exclude<LaneSkip, { reason: "incident" }>, cap: number | null): ReadyHold {
  switch (skip.reason) {
    case "unassigned":
      return { code: "unassigned" };
    case "not_a_profile":
      return { code: "not_runnable_profile", assignee: skip.assignee };
    case "per_profile_cap":
      return { code: "profile_cap_full", assignee: skip.assignee, running: skip.current, max: cap ?? skip.current };
    case "respawn_guard":
      return { code: "respawn_guard", guard: skip.guard, until: skip.until ?? null };
    case "budget":
      return { code: "budget", ...skip.hold };
    case "labels":
      return { code: "no_host_for_labels", requires: skip.requires, missing: skip.missing, judged: "this_claimer" };
    case "held": {
      // Admission control's codes are the host holds' (memory_floor, host_cap, profile_cap).
      const code = skip.hold.code === "memory_floor" || skip.hold.code === "profile_cap" ? skip.hold.code : "host_cap";
      return hostHold({ code, detail: skip.hold.detail }, { assignee: skip.assignee }, {});
    }
  }
}

/**
 * The motion of a task the dispatcher's lane skipped: the dispatcher reports it with the code and
 * sentence `kanban why` gives for the same task. `known` names the profiles (as the motion's facts
 * do), `cap` the per-profile cap the walk applied.
 */
export function laneSkipMotion(
  skip: LaneSkip,
  now: number,
  opts: { known?: readonly string[] | null; cap?: number | null } = {},
): Motion {
  if (skip.reason === "incident") return incidentSkipMotion(skip, now);
  const hold = holdOfSkip(skip, opts.cap ?? null);
  return holdMotion(
    skip.task_id,
    hold.code === "not_runnable_profile" ? { ...hold, known: opts.known ?? null } : hold,
    now,
  );
}
