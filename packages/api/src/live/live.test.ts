import type { TaskEvent } from "@kanban/kernel";
import { boardInternals } from "@kanban/kernel/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createTestApi, type TestApi } from "../testing.ts";
import { EventQueue, type LiveEvent } from "./queue.ts";
import { streamEvents } from "./stream.ts";
import { BoardWatcher } from "./watcher.ts";

const ev = (id: number): LiveEvent => ({
  id,
  task_id: "t",
  run_id: null,
  kind: "k",
  payload: null,
  created_at: 0,
  tenant: null,
  assignee: null,
});

describe("EventQueue", () => {
  it("hands over queued events, waiting for the next push when empty", async () => {
    const q = new EventQueue(10);
    q.push([ev(1), ev(2)]);
    expect((await q.take()) as LiveEvent[]).toHaveLength(2);
    const pending = q.take();
    q.push([ev(3)]);
    expect(((await pending) as LiveEvent[]).map((e) => e.id)).toEqual([3]);
  });

  it("on overflow drops everything and says 'overflow' once, then queues again", async () => {
    const q = new EventQueue(3);
    q.push([ev(1), ev(2)]);
    q.push([ev(3), ev(4)]);
    expect(q.length).toBe(0);
    q.push([ev(5)]); // ignored: the subscriber will re-read from the database anyway
    expect(await q.take()).toBe("overflow");
    q.push([ev(6)]);
    expect(((await q.take()) as LiveEvent[]).map((e) => e.id)).toEqual([6]);
  });

  it("returns null when closed or aborted while waiting", async () => {
    const q = new EventQueue(3);
    const ac = new AbortController();
    const waiting = q.take(ac.signal);
    ac.abort();
    expect(await waiting).toBeNull();
    const w2 = q.take();
    q.close();
    expect(await w2).toBeNull();
  });
});

describe("BoardWatcher and streams", () => {
  let t: TestApi;
  beforeEach(() => {
    t = createTestApi();
  });
  afterEach(() => t.cleanup());

  async function collect(
    stream: AsyncGenerator<TaskEvent, void>,
    into: TaskEvent[],
    until: (all: TaskEvent[]) => boolean,
  ): Promise<void> {
    for await (const e of stream) {
      into.push(e);
      if (until(into)) break;
    }
  }

  it("reads each burst once and gives the same rows to every subscriber; one watcher per board, gone when idle", async () => {
    const board = t.board();
    const { task } = await t.api.tasks.create({ title: "t" });
    const watcher = t.live.watcher(board.path);
    const subs = await Promise.all(Array.from({ length: 5 }, async () => await watcher.subscribe()));
    expect(t.live.watcher(board.path)).toBe(watcher);
    expect(t.live.size).toBe(1);
    const readsBefore = watcher.reads;
    await boardInternals(board).ctx.tx(async () => {
      for (let i = 0; i < 10; i++) await board.addComment(task.id, "a", `c${i}`);
    });
    const got = await Promise.all(subs.map((s) => s.queue.take()));
    for (const g of got) expect((g as LiveEvent[]).map((e) => e.kind)).toEqual(Array(10).fill("commented"));
    expect((got[0] as LiveEvent[])[0]).toBe((got[4] as LiveEvent[])[0]);
    expect(watcher.reads - readsBefore).toBe(1);
    for (const s of subs) s.close();
    expect(watcher.subscriberCount).toBe(0);
    expect(t.live.size).toBe(0);
  });

  it("polls one at a time: two polls at once read a burst once and hand it out once", async () => {
    const board = t.board();
    const { task } = await t.api.tasks.create({ title: "t" });
    // No timer tick during the test: only the two polls below read.
    const watcher = new BoardWatcher(board.path, { intervalMs: 3_600_000 });
    const sub = await watcher.subscribe();
    await board.addComment(task.id, "a", "c");
    await Promise.all([watcher.poll(), watcher.poll()]);
    expect(watcher.reads).toBe(1);
    expect(sub.queue.length).toBe(1);
    sub.close();
  });

  it("a subscriber arriving while the last one leaves keeps the watcher polling", async () => {
    const board = t.board();
    const { task } = await t.api.tasks.create({ title: "t" });
    const watcher = new BoardWatcher(board.path, { intervalMs: 3_600_000 });
    const first = await watcher.subscribe();
    const joining = watcher.subscribe();
    first.close();
    const second = await joining;
    expect(watcher.subscriberCount).toBe(1);
    await board.addComment(task.id, "a", "c");
    await watcher.poll();
    expect(second.queue.length).toBe(1);
    second.close();
  });

  it("a subscriber that overflows re-reads from the database and still gets every event once, in order", async () => {
    const board = t.board();
    const { task } = await t.api.tasks.create({ title: "t" });
    const start = await board.latestEventId();
    const ac = new AbortController();
    const got: TaskEvent[] = [];
    // Capacity 4: the 50-event burst below cannot fit, so this stream must fall back to the DB.
    const stream = streamEvents({
      board: () => board,
      watcher: t.live.watcher(board.path),
      after: start,
      filter: {},
      signal: ac.signal,
      queueCapacity: 4,
    });
    const done = collect(stream, got, (all) => all.length >= 50);
    await boardInternals(board).ctx.tx(async () => {
      for (let i = 0; i < 50; i++) await board.addComment(task.id, "a", `c${i}`);
    });
    await done;
    ac.abort();
    const ids = got.map((e) => e.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(50);
    expect(ids[0]).toBe(start + 1);
  });

  it("a stalled subscriber does not delay another one", async () => {
    const board = t.board();
    const { task } = await t.api.tasks.create({ title: "t" });
    const watcher = t.live.watcher(board.path);
    const ac = new AbortController();
    // Registered but never read from: its queue fills, overflows, and is dropped.
    const stalled = streamEvents({
      board: () => board,
      watcher,
      after: await board.latestEventId(),
      filter: {},
      signal: ac.signal,
      queueCapacity: 2,
    });
    void stalled.next();
    const fast: TaskEvent[] = [];
    const fastStream = streamEvents({
      board: () => board,
      watcher,
      after: await board.latestEventId(),
      filter: {},
      signal: ac.signal,
    });
    const done = collect(fastStream, fast, (all) => all.length >= 20);
    for (let i = 0; i < 20; i++) await board.addComment(task.id, "a", `c${i}`);
    // Were the stalled stream holding the watcher up, the fast one would never get its 20.
    await done;
    expect(fast.map((e) => e.kind)).toEqual(Array(20).fill("commented"));
    ac.abort();
    // What tRPC does when the stalled client's connection closes: the stream ends, its queue goes.
    await stalled.return(undefined);
    expect(watcher.subscriberCount).toBe(0);
  });

  it("filters by task, tenant, assignee and kinds", async () => {
    const board = t.board();
    const a = (await t.api.tasks.create({ title: "a", tenant: "acme", assignee: "ann" })).task;
    const b = (await t.api.tasks.create({ title: "b" })).task;
    const ac = new AbortController();
    const start = await board.latestEventId();
    const watcher = t.live.watcher(board.path);
    const results = await Promise.all(
      [{ task_id: a.id }, { tenant: "acme" }, { assignee: "ann" }, { kinds: ["blocked"] }].map(async (filter) => {
        const got: TaskEvent[] = [];
        const done = collect(
          streamEvents({ board: () => board, watcher, after: start, filter, signal: ac.signal }),
          got,
          (all) => all.length >= 1,
        );
        return { done, got };
      }),
    );
    await board.addComment(b.id, "x", "noise");
    await board.addComment(a.id, "x", "for a");
    await board.blockTask(b.id);
    await Promise.all(results.map((r) => r.done));
    ac.abort();
    expect(results.map((r) => r.got.map((e) => [e.task_id, e.kind]))).toEqual([
      [[a.id, "commented"]],
      [[a.id, "commented"]],
      [[a.id, "commented"]],
      [[b.id, "blocked"]],
    ]);
  });
});
