import fs from "node:fs";
import path from "node:path";
import { type DispatcherEntry, dispatcherLockPath, writeDispatcherStatus } from "@kanban/db";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createContextInner } from "../../context.ts";
import { createCaller } from "../../root.ts";
import { codeOf, createTestApi, type TestApi } from "../../testing.ts";

// tasks.why: the kernel's motion judged with this host's facts (the dispatcher's status file and
// lock, config.json), and the same code and line on the task's board.get card.

let t: TestApi;
beforeEach(() => {
  t = createTestApi({ config: { profiles: { coder: { command: ["true"] } } } });
});
afterEach(() => t.cleanup());

const now = () => Math.floor(t.clock.now() / 1000);

/** A dispatcher of this home that is alive (the lock names this live process) and ticked just now. */
function liveDispatcher(extra: Record<string, unknown> = {}) {
  fs.mkdirSync(path.dirname(dispatcherLockPath(t.dir)), { recursive: true });
  fs.writeFileSync(dispatcherLockPath(t.dir), String(process.pid));
  writeDispatcherStatus(t.dir, {
    pid: process.pid,
    started_at: now() - 100,
    last_tick_at: now(),
    last_tick_ms: 3,
    interval_seconds: 60,
    ticks: 5,
    boards: [],
    running_workers: [],
    warnings: [],
    ...extra,
  });
}

async function card(id: string) {
  const view = await t.api.board.get();
  return view.columns.flatMap((c) => c.tasks).find((c) => c.id === id);
}

describe("tasks.why", () => {
  it("no dispatcher, then the dispatcher's memory hold of its last tick, then waiting for its tick; the card says the same", async () => {
    const { task } = await t.api.tasks.create({ title: "x", assignee: "coder" });
    const none = await t.api.tasks.why({ id: task.id });
    expect(none).toMatchObject({ moving: false, code: "no_dispatcher" });
    expect((await card(task.id))?.motion).toEqual({ code: none.code, line: none.line });

    liveDispatcher({
      holds: [
        { task_id: task.id, board: "default", code: "memory_floor", detail: { available_mb: 120, floor_mb: 900 } },
        { task_id: task.id, board: "elsewhere", code: "host_cap", detail: { running: 1, max: 1 } },
      ],
      host_cap: { max: 4, running: 1 },
    });
    const held = await t.api.tasks.why({ id: task.id });
    expect(held).toMatchObject({ moving: false, code: "memory_floor" });
    expect(held.line).toBe(
      "Held by memory admission: the host's available memory is under the floor (120 MB available, floor 900 MB).",
    );
    expect((await card(task.id))?.motion).toEqual({ code: "memory_floor", line: held.line });

    liveDispatcher(); // an older dispatcher's status: no holds at all
    const tick = await t.api.tasks.why({ id: task.id });
    expect(tick).toMatchObject({ moving: true, code: "ready_waiting_for_tick" });
    expect((await card(task.id))?.motion).toBeNull();
  });

  it("a card requiring gpu: no_host_for_labels while the live dispatcher offers none, waiting for its tick once its status offers gpu", async () => {
    const { task } = await t.api.tasks.create({ title: "x", assignee: "coder", requires: ["gpu"] });
    liveDispatcher(); // an older dispatcher's status: no labels, as one offering none
    const none = await t.api.tasks.why({ id: task.id });
    expect(none).toMatchObject({ moving: false, code: "no_host_for_labels" });
    liveDispatcher({ labels: ["cuda", "gpu"] });
    expect(await t.api.tasks.why({ id: task.id })).toMatchObject({ moving: true, code: "ready_waiting_for_tick" });
  });

  it("config's profiles: an assignee that is none of them is not runnable", async () => {
    liveDispatcher();
    const { task } = await t.api.tasks.create({ title: "x", assignee: "ghost" });
    const m = await t.api.tasks.why({ id: task.id });
    expect(m.code).toBe("not_runnable_profile");
    expect(m.next).toContain("(here: coder)");
  });

  it("a running worker of this host: healthy while its pid lives, orphaned once it is gone", async () => {
    liveDispatcher();
    const { task } = await t.api.tasks.create({ title: "x", assignee: "coder" });
    const claimed = await t.api.tasks.claim({ id: task.id });
    await t.board().recordSpawn(task.id, process.pid, claimed.run_id as number);
    expect(await t.api.tasks.why({ id: task.id })).toMatchObject({ moving: true, code: "running_healthy" });
    expect((await card(task.id))?.motion).toBeNull();
    // A pid that is certainly gone: beyond any pid the kernel hands out.
    await t.board().recordSpawn(task.id, 2 ** 22 + 7, claimed.run_id as number);
    const orphaned = await t.api.tasks.why({ id: task.id });
    expect(orphaned.code).toBe("running_orphaned");
    expect((await card(task.id))?.motion).toEqual({ code: "running_orphaned", line: orphaned.line });
  });

  it("an unknown id and another tenant's task are NOT_FOUND; a bad id is BAD_REQUEST", async () => {
    const { task } = await t.caller("acme").tasks.create({ title: "x", assignee: "coder" });
    expect(await codeOf(t.api.tasks.why({ id: "t_0123456789" }))).toBe("NOT_FOUND");
    expect(await codeOf(t.caller("globex").tasks.why({ id: task.id }))).toBe("NOT_FOUND");
    expect((await t.caller("acme").tasks.why({ id: task.id })).code).toBe("no_dispatcher");
    expect(await codeOf(t.api.tasks.why({ id: "" }))).toBe("BAD_REQUEST");
  });
});

describe("tasks.why with the board's dispatchers listed in the database (PostgreSQL's directory)", () => {
  /** A caller whose dispatchers are these rows, as `kanban serve` on PostgreSQL lists them. */
  function callerWith(entries: (DispatcherEntry & Record<string, unknown>)[]) {
    return createCaller(
      createContextInner({
        location: t.location,
        boards: t.boards,
        live: t.live,
        logger: t.logger,
        terminate: () => {},
        hermesHome: path.join(t.dir, "hermes"),
        dispatchers: { list: async () => entries, nudge: async () => entries.length },
      }),
    );
  }

  function entry(state: DispatcherEntry["state"], extra: Record<string, unknown> = {}) {
    return {
      id: `d-${state}`,
      host: "elsewhere",
      pid: 1,
      started_at: now() - 100,
      heartbeat_at: now(),
      interval_seconds: 30,
      ticks: 3,
      last_tick_at: now(),
      last_tick: null,
      state,
      silent_seconds: 0,
      ...extra,
    };
  }

  it("alive rows (and their holds when a dispatcher publishes them); only dead rows: no dispatcher", async () => {
    const { task } = await t.api.tasks.create({ title: "x", assignee: "coder" });
    expect((await callerWith([entry("dead")]).tasks.why({ id: task.id })).code).toBe("no_dispatcher");
    const tick = await callerWith([entry("dead"), entry("alive")]).tasks.why({ id: task.id });
    expect(tick).toMatchObject({ code: "ready_waiting_for_tick", detail: { interval_seconds: 30 } });
    const held = await callerWith([
      entry("alive", { holds: [{ task_id: task.id, code: "host_cap", detail: { running: 3, max: 3 } }] }),
    ]).tasks.why({ id: task.id });
    expect(held).toMatchObject({
      code: "host_cap_full",
      line: "Held: this host already runs its maximum of workers (3 of 3).",
    });
    // As the dispatcher publishes them on PostgreSQL: in the row's last_tick JSON.
    const inTick = await callerWith([
      entry("alive", {
        last_tick: {
          board: "default",
          holds: [
            { task_id: task.id, board: "default", code: "memory_floor", detail: { available_mb: 1, floor_mb: 2 } },
          ],
        },
      }),
    ]).tasks.why({ id: task.id });
    expect(inTick).toMatchObject({ code: "memory_floor", detail: { available_mb: 1, floor_mb: 2 } });
  });

  it("a card requiring gpu moves when any live dispatcher's row publishes gpu among its labels", async () => {
    const { task } = await t.api.tasks.create({ title: "x", assignee: "coder", requires: ["gpu"] });
    const plain = entry("alive", { last_tick: { board: "default", labels: [] } });
    expect((await callerWith([plain]).tasks.why({ id: task.id })).code).toBe("no_host_for_labels");
    const gpu = { ...entry("alive", { last_tick: { board: "default", labels: ["gpu"] } }), id: "d-gpu" };
    const deadGpu = { ...entry("dead", { last_tick: { board: "default", labels: ["gpu"] } }), id: "d-dead-gpu" };
    expect((await callerWith([plain, deadGpu]).tasks.why({ id: task.id })).code).toBe("no_host_for_labels");
    expect((await callerWith([plain, gpu]).tasks.why({ id: task.id })).code).toBe("ready_waiting_for_tick");
  });
});
