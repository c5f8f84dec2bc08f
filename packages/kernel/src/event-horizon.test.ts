import { describe, expect, it, onTestFinished } from "vitest";
import { useTestBoards } from "./testing/helpers.ts";
import { boardInternals } from "./testing/index.ts";
import { testStore } from "./testing/test-store.ts";

// Readers that resume "after event id N" (a live stream, activity's eventsAfter, the cursor a
// stream starts from) must never pass an id whose transaction is still open. On SQLite one writer
// commits ids in id order. On PostgreSQL claim walks write side by side (store/pg/shared-writers.ts),
// so a lower id can commit after a higher one; the readers stop at the newest settled id.

const board = useTestBoards();

describe("a board-wide event reader never skips an event committed late", () => {
  it("two writers, the lower id committing after the higher: every reader gets both, in order", async () => {
    const b = board();
    const task = await b.createTask({ title: "busy" });
    const { ctx } = boardInternals(b);
    const start = await b.latestEventId();
    const append = async () =>
      await ctx.insert(
        "INSERT INTO task_events (task_id, run_id, kind, payload, created_at) VALUES (?, NULL, 'heartbeat', NULL, ?)",
        task.id,
        ctx.now(),
      );

    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let drawn = () => {};
    const lowDrawn = new Promise<void>((resolve) => {
      drawn = resolve;
    });
    // Writer 1 draws the lower id, then stays open until released.
    const low = ctx.tx(
      async () => {
        const id = await append();
        drawn();
        await gate;
        return id;
      },
      { shared: true },
    );
    await lowDrawn;
    // Writer 2 draws the higher id. On PostgreSQL it commits while writer 1 is still open; on SQLite
    // it waits for writer 1 (one writer), so nothing is out of order to begin with.
    const high = ctx.tx(async () => await append(), { shared: true });
    const live = { cursor: start, seen: [] as number[] };
    const stream = { cursor: start, seen: [] as number[] };
    const read = async () => {
      for (const e of await b.liveEventRows(live.cursor, 100)) {
        live.seen.push(e.id);
        live.cursor = e.id;
      }
      for (const e of await b.eventsAfter(stream.cursor)) {
        stream.seen.push(e.id);
        stream.cursor = e.id;
      }
    };

    // A failed expectation must not leave writer 1 open (the board's cleanup would wait for it).
    onTestFinished(() => release());
    if (testStore() === "postgres") {
      const highId = await high;
      // The race is real: a plain "id > cursor" read now sees the higher id and not the lower one.
      // (Read outside any transaction: rawSql's would wait for writer 1's lock.)
      const visible = (await ctx.all("SELECT id FROM task_events WHERE id > ? ORDER BY id", start)) as { id: number }[];
      expect(visible.map((r) => Number(r.id))).toEqual([highId]);
      // The readers hold back instead of moving their cursor past the open lower id.
      await read();
      expect(live.seen).toEqual([]);
      expect(stream.seen).toEqual([]);
      expect(await b.latestEventId()).toBe(start);
    } else {
      await read();
    }
    release();
    const [lowId, highId] = [await low, await high];
    expect(lowId).toBeLessThan(highId);
    await read();
    expect(live.seen).toEqual([lowId, highId]);
    expect(stream.seen).toEqual([lowId, highId]);
    expect(await b.latestEventId()).toBe(highId);
  });

  it("an event appended outside any transaction still lands under the board's lock, and is read", async () => {
    const b = board();
    const task = await b.createTask({ title: "plain" });
    const { ctx } = boardInternals(b);
    const start = await b.latestEventId();
    const id = await ctx.insert(
      "INSERT INTO task_events (task_id, run_id, kind, payload, created_at) VALUES (?, NULL, 'heartbeat', NULL, ?)",
      task.id,
      ctx.now(),
    );
    expect((await b.liveEventRows(start, 10)).map((e) => e.id)).toEqual([id]);
    expect(await b.latestEventId()).toBe(id);
  });
});
