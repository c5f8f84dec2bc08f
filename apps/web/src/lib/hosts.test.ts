import { describe, expect, it } from "vitest";
import { answerIsStale, type HostTimes, hostConnected, hostsSummary, sortHosts, workersLabel } from "./hosts.ts";

const host = (over: Partial<HostTimes> = {}): HostTimes => ({
  id: "kh-0000000000000001",
  name: "mac-1",
  last_seen_at: 1000,
  lease_seconds: 30,
  connected: true,
  running: 0,
  capacity: 4,
  ...over,
});

describe("hostConnected", () => {
  it("takes a fresh answer as it is, even past the lease of the last_seen_at it carries", () => {
    expect(hostConnected(host(), 1000)).toBe(true);
    expect(hostConnected(host(), 1031)).toBe(true);
    expect(hostConnected(host({ connected: false }), 1000)).toBe(false);
  });

  it("stops trusting a stale answer once the host's lease has run out on the shared clock", () => {
    expect(hostConnected(host(), 1030, true)).toBe(true);
    expect(hostConnected(host(), 1031, true)).toBe(false);
    expect(hostConnected(host({ connected: false }), 1000, true)).toBe(false);
    // No lease in the answer (an older server): its flag alone.
    expect(hostConnected(host({ lease_seconds: undefined }), 99_999, true)).toBe(true);
    expect(hostConnected(host({ lease_seconds: null, connected: false }), 0, true)).toBe(false);
  });
});

describe("answerIsStale", () => {
  it("is stale past two polls and a second, never before an answer came", () => {
    expect(answerIsStale(10_000, 20_000, 5000)).toBe(false);
    expect(answerIsStale(10_000, 21_000, 5000)).toBe(false);
    expect(answerIsStale(10_000, 21_001, 5000)).toBe(true);
    expect(answerIsStale(0, 99_999, 5000)).toBe(false);
  });
});

describe("sortHosts", () => {
  it("lists connected hosts first, then by name or id", () => {
    const hosts = [
      host({ id: "kh-3", name: "zeta" }),
      host({ id: "kh-2", name: null, connected: false }),
      host({ id: "kh-1", name: "Alpha", last_seen_at: 0 }),
      host({ id: "kh-4", name: "beta" }),
    ];
    expect(sortHosts(hosts, 1000).map((h) => h.id)).toEqual(["kh-1", "kh-4", "kh-3", "kh-2"]);
    // On a stale answer, Alpha (silent since 0) has lost its lease.
    expect(sortHosts(hosts, 1000, true).map((h) => h.id)).toEqual(["kh-4", "kh-3", "kh-1", "kh-2"]);
  });
});

describe("workersLabel and hostsSummary", () => {
  it("says running over capacity", () => {
    expect(workersLabel({ running: 2, capacity: 4 })).toBe("2 / 4");
    expect(workersLabel({ running: 1, capacity: null })).toBe("1 / —");
  });

  it("counts connected hosts for the toolbar", () => {
    expect(hostsSummary([], 0)).toEqual({ total: 0, connected: 0, label: "none", state: "empty" });
    expect(hostsSummary([host(), host({ id: "b" })], 1000)).toMatchObject({ label: "2/2", state: "ok" });
    expect(hostsSummary([host(), host({ id: "b", connected: false })], 1000)).toMatchObject({
      label: "1/2",
      state: "partial",
    });
    expect(hostsSummary([host({ connected: false })], 1000)).toMatchObject({ label: "0/1", state: "none" });
    expect(hostsSummary([host()], 2000, true)).toMatchObject({ label: "0/1", state: "none" });
  });
});
