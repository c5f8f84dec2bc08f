import { describe, expect, it } from "vitest";
import { indicatorStatus, loadProblem, probeOf, SLOW_LOAD_MS } from "./connection.ts";

describe("probeOf", () => {
  it("is down only when the last probe got no HTTP answer at all", () => {
    expect(probeOf({ isSuccess: false, isError: false, error: null }, null)).toBe("unknown");
    expect(probeOf({ isSuccess: true, isError: false, error: null }, null)).toBe("ok");
    expect(probeOf({ isSuccess: false, isError: true, error: new Error("x") }, null)).toBe("down");
    expect(probeOf({ isSuccess: false, isError: true, error: new Error("x") }, 500)).toBe("ok");
  });
});

describe("indicatorStatus", () => {
  it("never says live while the probe fails; otherwise follows the stream", () => {
    expect(indicatorStatus("live", "down")).toBe("offline");
    expect(indicatorStatus("reconnecting", "down")).toBe("offline");
    expect(indicatorStatus("live", "ok")).toBe("live");
    expect(indicatorStatus("reconnecting", "unknown")).toBe("reconnecting");
  });
});

describe("loadProblem", () => {
  const base = { error: null, status: null, message: "", waitedMs: 0, probe: "unknown" as const };
  it("says nothing while a first load is young", () => {
    expect(loadProblem(base)).toBeNull();
  });
  it("never spins forever: a slow load says it is waiting and what to check", () => {
    const p = loadProblem({ ...base, waitedMs: SLOW_LOAD_MS + 1 });
    expect(p).toMatchObject({ kind: "slow", title: "Still waiting for the server…" });
    expect(p?.detail).toContain("npm start");
  });
  it("tells an unreachable server from a failing one", () => {
    expect(loadProblem({ ...base, error: new Error("Failed to fetch") })?.kind).toBe("unreachable");
    expect(loadProblem({ ...base, probe: "down" })?.kind).toBe("unreachable");
    const server = loadProblem({
      ...base,
      error: new Error("boom"),
      status: 503,
      message: "database unavailable",
      probe: "ok",
    });
    expect(server).toMatchObject({ kind: "server" });
    expect(server?.detail).toContain("database unavailable");
    expect(loadProblem({ ...base, error: new Error("no such board"), status: 404, probe: "ok" })).toBeNull();
  });
  it("blames config.json when the server says it is invalid", () => {
    const p = loadProblem({
      ...base,
      error: new Error("invalid config.json"),
      status: 503,
      probe: "ok",
      configError: "invalid config.json: kanban.x: unknown key",
    });
    expect(p).toMatchObject({ kind: "config", title: "The board cannot load while config.json is invalid" });
  });
});
