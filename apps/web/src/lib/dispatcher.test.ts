import { describe, expect, it } from "vitest";
import { dispatcherHealth, dispatcherLines, dispatcherSummary } from "./dispatcher.ts";
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

describe("dispatcherSummary", () => {
  type Entry = DispatcherState["dispatchers"][number];
  const entry = (over: Partial<Entry>): Entry => ({
    id: "x",
    host: "h",
    pid: 1,
    started_at: 900,
    heartbeat_at: 990,
    interval_seconds: 5,
    ticks: 3,
    last_tick_at: 990,
    last_tick: null,
    state: "alive",
    silent_seconds: 10,
    ...over,
  });

  it("keeps the one-dispatcher label and lists each dispatcher of a shared board (host, pid, state, last tick)", () => {
    const one = { ...state(true, { last_seen_at: 995 }), dispatchers: [entry({})] };
    expect(dispatcherSummary(one, 1000)).toEqual(dispatcherHealth(one, 1000));
    const two = {
      ...one,
      dispatchers: [
        entry({ id: "a", host: "host-a", pid: 11 }),
        entry({ id: "b", host: "host-b", pid: 22, state: "stale", last_tick_at: 900 }),
      ],
    };
    expect(dispatcherLines(two, 1000).map((l) => l.text)).toEqual([
      expect.stringMatching(/^host-a pid 11 · alive · last tick /),
      expect.stringMatching(/^host-b pid 22 · stale · last tick /),
    ]);
    const s = dispatcherSummary(two, 1000);
    expect(s.label).toMatch(/· 1\/2 dispatchers$/);
    expect(s.title.split("\n").slice(1)).toEqual(dispatcherLines(two, 1000).map((l) => l.text));
    // An older server sends no list; an unreachable one shows nothing of it.
    expect(dispatcherLines({ ...one, dispatchers: undefined } as unknown as DispatcherState, 1000)).toEqual([]);
    expect(dispatcherSummary(two, 1000, false).kind).toBe("unknown");
  });
});
