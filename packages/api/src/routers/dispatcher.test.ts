import fs from "node:fs";
import { type DispatcherStatus, dispatcherLockPath, writeDispatcherStatus } from "@kanban/db";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createTestApi, type TestApi } from "../testing.ts";
import { dispatcherHealthOf } from "./dispatcher.ts";

function status(over: Partial<DispatcherStatus> = {}): DispatcherStatus {
  return {
    pid: 4242,
    started_at: 1000,
    last_tick_at: 1000,
    last_tick_ms: 5,
    interval_seconds: 5,
    ticks: 3,
    boards: [],
    running_workers: [],
    warnings: [],
    ...over,
  };
}

describe("dispatcherHealthOf", () => {
  it("is stopped without a live pid, whatever the status file says", () => {
    expect(dispatcherHealthOf({ pid: null, status: status(), lockedAt: 990, now: 1001 }).state).toBe("stopped");
  });
  it("is running while its own status is fresh, stuck once it is silent for three intervals (at least 30 s)", () => {
    expect(
      dispatcherHealthOf({ pid: 4242, status: status({ last_tick_at: 990 }), lockedAt: 900, now: 1000 }).state,
    ).toBe("running");
    expect(
      dispatcherHealthOf({ pid: 4242, status: status({ last_tick_at: 969 }), lockedAt: 900, now: 1000 }),
    ).toMatchObject({ state: "stuck", silent_seconds: 31 });
    expect(
      dispatcherHealthOf({
        pid: 4242,
        status: status({ last_tick_at: 850, interval_seconds: 60 }),
        lockedAt: 800,
        now: 1000,
      }).state,
    ).toBe("running");
  });
  it("does not trust a status written by another pid or marked stopped: starting, then stuck", () => {
    const old = status({ pid: 77, last_tick_at: 999 });
    expect(dispatcherHealthOf({ pid: 4242, status: old, lockedAt: 995, now: 1000 }).state).toBe("starting");
    expect(dispatcherHealthOf({ pid: 4242, status: old, lockedAt: 900, now: 1000 }).state).toBe("stuck");
    expect(dispatcherHealthOf({ pid: 4242, status: status({ stopped_at: 999 }), lockedAt: 900, now: 1000 }).state).toBe(
      "stuck",
    );
  });
});

describe("dispatcher.status", () => {
  let t: TestApi;
  beforeEach(() => {
    t = createTestApi();
  });
  afterEach(() => t.cleanup());

  it("derives health from the status freshness of the live process (this test process stands in for it)", async () => {
    expect((await t.api.dispatcher.status()).health.state).toBe("stopped");
    fs.mkdirSync(`${t.dir}/kanban`, { recursive: true });
    fs.writeFileSync(dispatcherLockPath(t.dir), String(process.pid));
    const now = Math.floor(t.clock.now() / 1000);
    writeDispatcherStatus(t.dir, {
      ...status({ pid: process.pid, started_at: now - 100, last_tick_at: now - 2 }),
      config_error: "invalid config.json: kanban: unknown key 'x'",
    } as DispatcherStatus);
    const fresh = await t.api.dispatcher.status();
    expect(fresh).toMatchObject({
      alive: true,
      health: { state: "running" },
      config_error: "invalid config.json: kanban: unknown key 'x'",
    });
    // The list every engine answers: here the home's one dispatcher, judged by the same rule.
    expect(fresh.dispatchers).toEqual([
      expect.objectContaining({
        id: `pid:${process.pid}`,
        pid: process.pid,
        ticks: 3,
        state: "alive",
        silent_seconds: 2,
      }),
    ]);
    t.clock.advance(120);
    const silent = await t.api.dispatcher.status();
    expect(silent.alive).toBe(true);
    expect(silent.health.state).toBe("stuck");
    expect(silent.dispatchers.map((d) => d.state)).toEqual(["stale"]);
    fs.rmSync(dispatcherLockPath(t.dir));
    expect((await t.api.dispatcher.status()).dispatchers.map((d) => d.state)).toEqual(["dead"]);
  });
});
