/**
 * The Hosts view's logic (issue 15): which remote hosts are connected, in what order they are
 * listed, and what the toolbar's button says. `hosts.list` answers `connected` as of its call and
 * the board polls it every few seconds: a fresh answer is taken as it is (a host renews well within
 * its lease, but the last_seen_at the page holds is as old as the answer, so judging a lease from
 * it between two answers would grey a host that is heartbeating). When the answers stop coming (the
 * server is slow or gone), the page no longer trusts the last one past each host's lease.
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

/**
 * Connected now: the server said so at its last answer, and, when that answer is `stale` (older
 * than the polls should allow), the host's lease has not run out since on the shared clock.
 */
export function hostConnected(h: HostTimes, now: number, stale = false): boolean {
  if (!h.connected) return false;
  if (!stale || typeof h.lease_seconds !== "number") return true;
  return h.last_seen_at + h.lease_seconds >= now;
}

/** An answer older than two polls and a bit: the polls have stopped getting through. */
export function answerIsStale(answeredAtMs: number, nowMs: number, pollMs: number): boolean {
  return answeredAtMs > 0 && nowMs - answeredAtMs > 2 * pollMs + 1000;
}

/** Connected hosts first, then by name (a host without one by its id), then by id. */
export function sortHosts<T extends HostTimes>(hosts: readonly T[], now: number, stale = false): T[] {
  const label = (h: T) => (h.name ?? h.id).toLowerCase();
  return [...hosts].sort((a, b) => {
    const ca = hostConnected(a, now, stale);
    const cb = hostConnected(b, now, stale);
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

export function hostsSummary(hosts: readonly HostTimes[], now: number, stale = false): HostsSummary {
  const total = hosts.length;
  const connected = hosts.filter((h) => hostConnected(h, now, stale)).length;
  const state = total === 0 ? "empty" : connected === total ? "ok" : connected === 0 ? "none" : "partial";
  return { total, connected, label: total === 0 ? "none" : `${connected}/${total}`, state };
}
