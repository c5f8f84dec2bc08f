/**
 * The Hosts view's logic (issue 15): which remote hosts are connected, in what order they are
 * listed, and what the toolbar's button says. `hosts.list` answers `connected` as of its call; the
 * board polls it every few seconds, and between two answers the view decides from the host's own
 * times on the clock shared with the cards (which learns the server's time), so a host that falls
 * silent turns grey when its lease runs out, not up to one poll later.
 */

/** The fields of a `hosts.list` row this file reads. */
export interface HostTimes {
  id: string;
  name: string | null;
  last_seen_at: number;
  /** The lease the server gave it (absent from a server that does not send it: `connected` alone decides). */
  lease_seconds?: number | null;
  connected: boolean;
  running: number;
  capacity: number | null;
}

/** Connected now: the server said so at its last answer, and the lease has not run out since. */
export function hostConnected(h: HostTimes, now: number): boolean {
  if (!h.connected) return false;
  if (typeof h.lease_seconds !== "number") return true;
  return h.last_seen_at + h.lease_seconds >= now;
}

/** Connected hosts first, then by name (a host without one by its id), then by id. */
export function sortHosts<T extends HostTimes>(hosts: readonly T[], now: number): T[] {
  const label = (h: T) => (h.name ?? h.id).toLowerCase();
  return [...hosts].sort((a, b) => {
    const ca = hostConnected(a, now);
    const cb = hostConnected(b, now);
    if (ca !== cb) return ca ? -1 : 1;
    return label(a).localeCompare(label(b)) || a.id.localeCompare(b.id);
  });
}

/** "2 / 4": running workers over capacity ("2 / —" when the host gave none). */
export function workersLabel(h: Pick<HostTimes, "running" | "capacity">): string {
  return `${h.running} / ${h.capacity === null ? "—" : h.capacity}`;
}

export interface HostsSummary {
  total: number;
  connected: number;
  /** What the toolbar button says next to "Hosts". */
  label: string;
  /** ok: every host is connected; partial: some are not; none: no host is; empty: none registered. */
  state: "ok" | "partial" | "none" | "empty";
}

export function hostsSummary(hosts: readonly HostTimes[], now: number): HostsSummary {
  const total = hosts.length;
  const connected = hosts.filter((h) => hostConnected(h, now)).length;
  const state = total === 0 ? "empty" : connected === total ? "ok" : connected === 0 ? "none" : "partial";
  return { total, connected, label: total === 0 ? "none" : `${connected}/${total}`, state };
}
