import { describe, expect, it } from "vitest";
import { type HostTimes, hostConnected, hostsSummary, sortHosts, workersLabel } from "./hosts.ts";

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
  it("is what the server said, until the lease runs out on the shared clock", () => {
    expect(hostConnected(host(), 1000)).toBe(true);
    expect(hostConnected(host(), 1030)).toBe(true);
    expect(hostConnected(host(), 1031)).toBe(false);
    expect(hostConnected(host({ connected: false }), 1000)).toBe(false);
  });

  it("trusts the server's flag alone when it sends no lease", () => {
    expect(hostConnected(host({ lease_seconds: undefined }), 99_999)).toBe(true);
    expect(hostConnected(host({ lease_seconds: null, connected: false }), 0)).toBe(false);
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
    expect(sortHosts(hosts, 1000).map((h) => h.id)).toEqual(["kh-4", "kh-3", "kh-1", "kh-2"]);
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
    expect(hostsSummary([host()], 2000)).toMatchObject({ label: "0/1", state: "none" });
  });
});
