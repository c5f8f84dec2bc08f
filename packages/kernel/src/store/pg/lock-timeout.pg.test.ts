// PostgreSQL only: a write that gives up waiting for the board's lock (lockTimeoutMs, SQLite's
// busy_timeout) fails with DB_BUSY and writes nothing, and the board's connections stay usable:
// the failed BEGIN message must not leave its connection in an aborted transaction.
import { afterEach, describe, expect, it } from "vitest";
import type { Board } from "../../board.ts";
import { pgBoard } from "../../open-pg-board.ts";
import { ReadyLane } from "../../claim-next.ts";
import { boardInternals } from "../../testing/index.ts";
import type { PgSession } from "./session.ts";
import { holdWriterLock } from "../../testing/writer-spies.ts";
import { dropTestSchemaLater, testStoreUrl } from "../../testing/test-store.ts";

const opened: { boards: Board[]; slug: string }[] = [];
afterEach(async () => {
  for (const { boards, slug } of opened.splice(0)) {
    await Promise.all(boards.map((b) => b.close()));
    dropTestSchemaLater(slug);
  }
});

/** Two processes' views of one board: `a` waits for the lock at most 300 ms, `b` holds it at will. */
function twoViews(name: string) {
  const slug = `${name}_${process.pid}`;
  const a = pgBoard({ url: testStoreUrl(), board: slug, poolSize: 3, lockTimeoutMs: 300, warn: () => {} });
  const b = pgBoard({ url: testStoreUrl(), board: slug, poolSize: 3, warn: () => {} });
  opened.push({ boards: [a, b], slug });
  const hold = async () => await holdWriterLock(boardInternals(b).ctx);
  return { a, b, hold };
}

describe("a write that times out waiting for the board's lock", () => {
  it("writes that shared a message fail together, after one wait: none is sent again", async () => {
    const { a, hold } = twoViews("busy_shared_message");
    await a.createTask({ title: "first" });
    const { ctx } = boardInternals(a);
    const session = ctx.session as PgSession;
    const release = await hold();
    const begun = ctx.transactionsBegun;
    const results = await Promise.allSettled(
      [1, 2, 3].map(async (i) => await session.writeAlone("SELECT CAST(? AS integer) AS n", [i], { shared: true })),
    );
    await release();
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected", "rejected"]);
    for (const r of results) expect((r as PromiseRejectedResult).reason).toMatchObject({ code: "DB_BUSY" });
    expect(ctx.transactionsBegun - begun).toBe(1);
    expect(await session.writeAlone("SELECT CAST(? AS integer) AS n", [4], { shared: true })).toEqual([{ n: 4 }]);
  });

  it("fails with DB_BUSY, writes nothing, and every connection writes again afterwards", async () => {
    const { a, hold } = twoViews("busy_create");
    await a.createTask({ title: "first" });
    const release = await hold();
    // As many as the pool has connections, so none is left out.
    for (let i = 0; i < 3; i++)
      await expect(a.createTask({ title: `busy ${i}` })).rejects.toMatchObject({ code: "DB_BUSY" });
    await release();
    for (let i = 0; i < 6; i++) await a.createTask({ title: `after ${i}` });
    const titles = (await a.listTasks({})).map((t) => t.title).sort();
    expect(titles).toEqual(["after 0", "after 1", "after 2", "after 3", "after 4", "after 5", "first"]);
  });

  it("the same for a claim walk (its incident check travels with BEGIN) and a worker's completion", async () => {
    const { a, hold } = twoViews("busy_claim");
    for (let i = 0; i < 4; i++) await a.createTask({ title: `job ${i}`, assignee: "bench" });
    const running = (await a.claimNext(new ReadyLane(), { claimer: "w:1" })).claimed[0]?.task;
    if (!running) throw new Error("nothing claimed");
    const release = await hold();
    for (let i = 0; i < 3; i++) {
      await expect(a.claimNext(new ReadyLane(), { claimer: "w:1" })).rejects.toMatchObject({ code: "DB_BUSY" });
      await expect(
        a.completeTask(running.id, { summary: "ok", expected_run_id: running.current_run_id }),
      ).rejects.toMatchObject({ code: "DB_BUSY" });
    }
    expect((await a.requireTask(running.id)).status).toBe("running");
    await release();
    await a.completeTask(running.id, { summary: "ok", expected_run_id: running.current_run_id });
    for (let i = 0; i < 3; i++) {
      const next = (await a.claimNext(new ReadyLane(), { claimer: "w:1" })).claimed[0]?.task;
      if (!next) throw new Error("nothing claimed after the lock was free");
      await a.completeTask(next.id, { summary: "ok", expected_run_id: next.current_run_id });
    }
    expect((await a.listTasks({})).every((t) => t.status === "done")).toBe(true);
  });
});
