import type { Card } from "./types.ts";

/**
 * What each diagnostic kind means, in the words the badge's tooltip uses. `warnings.kinds` is keyed
 * by diagnostic kind (the same summary on cards, in the drawer and in tasks.list); a kind this
 * version does not know (a newer server) is shown as its name.
 */
const KIND_LABELS: Readonly<Record<string, string>> = {
  hallucinated_cards: "completion named cards that do not exist",
  prose_phantom_refs: "handoff mentions unknown task ids",
  repeated_failures: "repeated failures",
  repeated_crashes: "repeated crashes",
  stuck_in_blocked: "blocked with no reply",
  stranded_in_ready: "ready but not picked up",
};

export function warningKindLabel(kind: string): string {
  return KIND_LABELS[kind] ?? kind.replaceAll("_", " ");
}

/** The badge's tooltip: every kind with its count, e.g. "repeated crashes ×1, blocked with no reply ×1". */
export function warningsTitle(warnings: NonNullable<Card["warnings"]>): string {
  return Object.entries(warnings.kinds)
    .map(([kind, n]) => `${warningKindLabel(kind)} ×${n}`)
    .join(", ");
}
