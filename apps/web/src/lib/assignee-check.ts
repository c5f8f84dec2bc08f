/** Who the dispatcher can start a worker for (config.get's `known_profiles`). */
export interface KnownProfiles {
  source: "config" | "hermes";
  names: string[];
}

/**
 * Why a card given to `assignee` would sit in Ready forever, or null when it would not (or when
 * nothing is known yet). Said in the create dialog before the card is created.
 */
export function assigneeWarning(assignee: string, known: KnownProfiles | undefined): string | null {
  const name = assignee.trim();
  if (name === "" || !known || known.names.includes(name)) return null;
  const list = known.names.length > 0 ? known.names.join(", ") : "none";
  return known.source === "config"
    ? `'${name}' is not a profile in config.json (profiles: ${list}): no worker will ever be started for this card.`
    : `'${name}' is not a Hermes profile on this host (profiles: ${list}): no worker will ever be started for this card.`;
}
