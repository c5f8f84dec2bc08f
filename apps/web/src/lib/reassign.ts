/**
 * Who a stuck task can be handed to: every known profile or assignee except the one it already
 * has (reassigning to the failing profile changes nothing, so it is never offered).
 */
export function reassignTargets(names: readonly string[], current: string | null): string[] {
  const out = [...new Set(names.map((n) => n.trim()).filter((n) => n !== ""))].sort();
  return current ? out.filter((n) => n !== current) : out;
}

/** Why a reassignment would not change anything, or null when it would. */
export function reassignRefusal(target: string | null, current: string | null): string | null {
  const to = target?.trim() ? target.trim() : null;
  if (to === current)
    return to === null
      ? "The task is already unassigned."
      : `The task is already assigned to ${to}: choose a different profile.`;
  return null;
}
