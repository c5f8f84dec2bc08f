import fs from "node:fs";
import { dumpRows, flockCommandCan, holdFlockInPython, pythonCanFlock } from "@kanban/db/testing";
import { boardInternals } from "@kanban/kernel/testing";
import { afterEach, describe, expect, it } from "vitest";
import { fakeProfile, killAll, makeHome, type TestHome, trackPool, waitFor } from "../test/helpers.ts";
import { createDispatcher } from "./dispatcher.ts";
import { tryAcquireDispatchLock } from "./pid-lock.ts";

/**
 * `<db>.dispatch.lock` in Hermes' protocol (issue 30): flock on a persistent empty file. The other
 * dispatcher here is a real Python process using `fcntl.flock`, as Hermes' does.
 */
let home: TestHome | null = null;
const kills: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const k of kills.splice(0)) await k();
  await killAll();
  home?.cleanup();
  home = null;
});

/** A Hermes-like holder of `file`'s flock; returns its SIGKILL, also run after the test. */
async function pythonHolds(file: string): Promise<() => Promise<void>> {
  const holder = await holdFlockInPython(file);
  kills.push(holder.kill);
  return holder.kill;
}

describe("dispatch lock", () => {
  it("is exclusive against Python's fcntl.flock both ways, and the file stays, empty", async () => {
    home = makeHome();
    const file = `${home.board().path}.dispatch.lock`;
    const ours = tryAcquireDispatchLock(file);
    if (!ours.ok) throw new Error("expected the lock");
    expect(pythonCanFlock(file)).toBe(false);
    expect(flockCommandCan(file)).toBe(false);
    expect(tryAcquireDispatchLock(file)).toEqual({ ok: false, holder: 0 });
    ours.lock.release();
    expect(fs.readFileSync(file, "utf8")).toBe("");

    const kill = await pythonHolds(file);
    expect(tryAcquireDispatchLock(file)).toEqual({ ok: false, holder: 0 });
    await kill(); // SIGKILL: the kernel drops the lock, the file stays: not stale, just free
    const again = tryAcquireDispatchLock(file);
    expect(again.ok).toBe(true);
    if (again.ok) again.lock.release();
  });

  it("a tick skips a board whose lock a Hermes process holds (skipped_locked), writing nothing, and runs once it is gone", async () => {
    home = makeHome({ profiles: { alice: fakeProfile("complete") } });
    const b = home.board();
    await b.createTask({ title: "t", assignee: "alice" });
    const kill = await pythonHolds(`${b.path}.dispatch.lock`);
    const d = createDispatcher(home.config(), { log: () => {} });
    trackPool(d.pool);
    const before = dumpRows(boardInternals(b).sqlite);
    const r = (await d.tick()).boards[0];
    expect(r?.skipped_locked).toBe(true);
    expect(r?.spawned).toEqual([]);
    expect(dumpRows(boardInternals(b).sqlite)).toEqual(before);
    await kill();
    expect((await d.tick()).boards[0]?.spawned).toHaveLength(1);
  });

  it("holds the lock against Hermes for the whole of our tick, and the worker it spawned does not inherit it", async () => {
    home = makeHome({ profiles: { alice: fakeProfile("hang") } });
    const b = home.board();
    const id = (await b.createTask({ title: "t", assignee: "alice" })).id;
    // Pause between claim and spawn, so the tick is still running while Python tries the lock.
    const d = createDispatcher(home.config({ KANBAN_DISPATCHER_TEST_CLAIM_DELAY_MS: "1500" }), { log: () => {} });
    trackPool(d.pool);
    const tick = d.tick();
    await waitFor(async () => (await b.requireTask(id)).status === "running", "the claim");
    expect(pythonCanFlock(`${b.path}.dispatch.lock`)).toBe(false);
    expect((await tick).boards[0]?.spawned).toHaveLength(1);
    // The worker still runs (it hangs); the lock's descriptor is close-on-exec, so the lock is free.
    expect((await b.requireTask(id)).worker_pid).not.toBeNull();
    expect(pythonCanFlock(`${b.path}.dispatch.lock`)).toBe(true);
  });
});
