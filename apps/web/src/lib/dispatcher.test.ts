import { describe, expect, it } from "vitest";
import { dispatcherHealth } from "./dispatcher.ts";
import type { DispatcherState } from "./types.ts";

type Status = NonNullable<DispatcherState["status"]>;

function state(alive: boolean, status: Partial<Status> | null): DispatcherState {
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
  return { alive, pid: alive ? 42 : null, status: status === null ? null : { ...base, ...status } } as DispatcherState;
}

describe("dispatcherHealth", () => {
  it("says when no dispatcher is running", () => {
    expect(dispatcherHealth(null, 1000).kind).toBe("none");
    expect(dispatcherHealth(state(false, {}), 1000)).toMatchObject({ kind: "none", label: "No dispatcher" });
  });
  it("shows the last tick of a healthy dispatcher", () => {
    expect(dispatcherHealth(state(true, { last_tick_at: 995 }), 1000)).toMatchObject({ kind: "ok", label: "Dispatcher · 5s ago" });
  });
  it("warns when a live dispatcher stopped ticking (3 intervals, at least 30 s)", () => {
    expect(dispatcherHealth(state(true, { last_tick_at: 975 }), 1000).kind).toBe("ok");
    expect(dispatcherHealth(state(true, { last_tick_at: 960 }), 1000)).toMatchObject({ kind: "stuck", label: "Dispatcher stuck · last tick 40s ago" });
    expect(dispatcherHealth(state(true, { last_tick_at: 900, interval_seconds: 60 }), 1000).kind).toBe("ok");
    expect(dispatcherHealth(state(true, { last_tick_at: 700, interval_seconds: 60 }), 1000).kind).toBe("stuck");
  });
  it("counts from the start when it has not ticked yet, and copes with no status file", () => {
    expect(dispatcherHealth(state(true, { last_tick_at: null, started_at: 900 }), 1000).kind).toBe("stuck");
    expect(dispatcherHealth(state(true, null), 1000)).toMatchObject({ kind: "ok", label: "Dispatcher · starting" });
  });
});
