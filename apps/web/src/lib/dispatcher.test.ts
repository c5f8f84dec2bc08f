import { describe, expect, it } from "vitest";
import { dispatcherHealth } from "./dispatcher.ts";
import type { DispatcherState } from "./types.ts";

type Status = NonNullable<DispatcherState["status"]>;
type Health = DispatcherState["health"];

function state(alive: boolean, health: Partial<Health>, status: Partial<Status> | null = {}): DispatcherState {
  const base: Status = {
    pid: 42,
    started_at: 1000,
    last_tick_at: 1000,
    last_tick_ms: 12,
    interval_seconds: 5,
    ticks: 3,
    boards: [],
    running_workers: [],
    warnings: [],
    alive,
  } as Status;
  return {
    alive,
    pid: alive ? 42 : null,
    status: status === null ? null : { ...base, ...status },
    health: { state: "running", last_seen_at: 1000, silent_seconds: 0, now: 1000, ...health },
    config_error: null,
  } as DispatcherState;
}

describe("dispatcherHealth", () => {
  it("says when no dispatcher is running", () => {
    expect(dispatcherHealth(null, 1000).kind).toBe("none");
    expect(dispatcherHealth(state(false, { state: "stopped" }), 1000)).toMatchObject({
      kind: "none",
      label: "No dispatcher",
    });
    expect(dispatcherHealth(state(true, { state: "stopped" }), 1000).kind).toBe("none");
  });
  it("shows the last tick of a healthy dispatcher", () => {
    expect(dispatcherHealth(state(true, { last_seen_at: 995 }), 1000)).toMatchObject({
      kind: "ok",
      label: "Dispatcher · 5s ago",
    });
  });
  it("follows the server's freshness verdict: stuck is amber, starting is not an error", () => {
    expect(
      dispatcherHealth(state(true, { state: "stuck", last_seen_at: 960, silent_seconds: 40 }), 1000),
    ).toMatchObject({ kind: "stuck", label: "Dispatcher stuck · last tick 40s ago" });
    expect(dispatcherHealth(state(true, { state: "starting", last_seen_at: null }, null), 1000)).toMatchObject({
      kind: "ok",
      label: "Dispatcher · starting",
    });
  });
  it("is unknown, never green, while the server does not answer", () => {
    expect(dispatcherHealth(state(true, {}), 1000, false)).toMatchObject({
      kind: "unknown",
      label: "Dispatcher · unknown",
    });
  });
});
