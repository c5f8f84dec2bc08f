// PostgreSQL only: PgSession.writeAlone, a statement sent as a whole transaction in one message
// (the board's lock and EXECUTE of a statement prepared on the connection, one implicit
// transaction), and the
// worker's fenced completion that uses it. The values travel as SQL literals, so the point is that
// every value reads back exactly as the driver's own parameters would have sent it, and that a
// connection pooler losing the prepared statement costs a fallback, never a write.
import { afterEach, describe, expect, it, vi } from "vitest";
import { useTestBoards } from "../../testing/helpers.ts";
import { boardInternals, rawSql, type TestBoard } from "../../testing/index.ts";
import {
  connectionsHoldingPrepared,
  dropPrepared,
  onEachConnectionInTurn,
  onEveryConnection,
  openConnections,
} from "../../testing/pg-prepared.ts";
import { holdWriterLock } from "../../testing/writer-spies.ts";
import type { PgSession } from "./session.ts";

const board = useTestBoards();

afterEach(() => {
  vi.restoreAllMocks();
});

function sessionOf(b: TestBoard): PgSession {
  return boardInternals(b).ctx.session as PgSession;
}

async function runningTask(b: TestBoard, title: string, claimer = "w:1") {
  const t = await b.createTask({ title, assignee: "bench" });
  const running = await b.claimTask(t.id, { claimer });
  if (!running) throw new Error(`could not claim ${title}`);
  return running;
}

/**
 * Writes of `values` asked for side by side (shared lock), each answering its value, its server
 * session, and which message it went in (that session and its transaction's start, now()).
 */
async function sideBySide(b: TestBoard, values: string[]) {
  const sql = "SELECT CAST(? AS text) AS s, pg_backend_pid() AS pid, CAST(now() AS text) AS began";
  const answers = await Promise.all(values.map(async (s) => await sessionOf(b).writeAlone(sql, [s], { shared: true })));
  return answers.map((r) => {
    const row = (r as { s: string; pid: number; began: string }[])[0];
    if (!row) throw new Error("a write answered no row");
    return { s: row.s, pid: row.pid, message: `${row.pid} ${row.began}` };
  });
}

const HOSTILE = [
  "plain",
  "",
  "it's",
  "''",
  "back\\slash",
  "\\'",
  "ends with a backslash \\",
  "E'x'",
  "$1 $$ $tag$ ?",
  "'); DROP TABLE tasks; --",
  "line one\nline two\r\n\ttab",
  "émoji 🎉 and right-to-left \u202e text",
  "x".repeat(100_000),
];

describe("writeAlone on PostgreSQL", () => {
  it("every value reads back as the driver's own parameters send it", async () => {
    const b = board();
    const session = sessionOf(b);
    const sql =
      "SELECT CAST(? AS text) AS s, CAST(? AS bigint) AS n, CAST(? AS double precision) AS f, CAST(? AS boolean) AS y, CAST(? AS text) AS z";
    for (const s of HOSTILE) {
      for (const values of [
        [s, 42, 0.1, true, null],
        [s, -9_007_199_254_740_991, 1e-300, false, s],
      ]) {
        const alone = await session.writeAlone(sql, values);
        const driver = await session.all(sql, ...values);
        expect(alone).toEqual(driver);
        expect((alone as { s: string }[])[0]?.s).toBe(s);
      }
    }
  });

  it("a list (json_each's) reads back as the driver sends it, whatever its elements hold", async () => {
    const session = sessionOf(board());
    const sql = "SELECT v.x FROM (SELECT CAST(? AS text) AS x) v WHERE v.x IN (SELECT value FROM json_each(?))";
    const awkward = ["{", "}", ",", "NULL", "", 'a"b', "c\\d", '\\"', " spaced ", "'"];
    for (const s of [...HOSTILE, ...awkward]) {
      const others = [...awkward, ...HOSTILE.slice(0, 3)].filter((o) => o !== s);
      for (const list of [[...others, s], others]) {
        const alone = await session.writeAlone(sql, [s, JSON.stringify(list)]);
        expect(alone).toEqual(await session.all(sql, s, JSON.stringify(list)));
        expect(alone).toEqual(list.includes(s) ? [{ x: s }] : []);
      }
    }
  });

  it("a value a message cannot carry (a NUL, a buffer) is not sent: null, nothing run", async () => {
    const session = sessionOf(board());
    expect(await session.writeAlone("SELECT CAST(? AS text) AS s", ["a\0b"])).toBeNull();
    expect(await session.writeAlone("SELECT CAST(? AS bytea) AS s", [Buffer.from("ab")])).toBeNull();
  });

  it("inside a transaction it is not sent (the caller's transaction writes): null", async () => {
    const b = board();
    const { ctx } = boardInternals(b);
    const running = await runningTask(b, "inside");
    const begun = ctx.transactionsBegun;
    await ctx.tx(async () => {
      expect(await sessionOf(b).writeAlone("SELECT 1 AS one", [])).toBeNull();
      await b.completeTask(running.id, { summary: "ok", expected_run_id: running.current_run_id });
    });
    expect(ctx.transactionsBegun - begun).toBe(1);
    expect((await b.requireTask(running.id)).status).toBe("done");
  });

  it("waits for the board's exclusive writer, and then sees what it committed", async () => {
    const b = board();
    const { ctx } = boardInternals(b);
    const running = await runningTask(b, "waits");
    // An exclusive writer that links an unfinished parent to the running task, and holds the board.
    const parent = await b.createTask({ title: "parent" });
    const release = await holdWriterLock(ctx, async () => {
      await ctx.run("INSERT INTO task_links (parent_id, child_id) VALUES (?, ?)", parent.id, running.id);
    });
    let settled = false;
    const completion = b
      .completeTask(running.id, { summary: "ok", expected_run_id: running.current_run_id })
      .finally(() => {
        settled = true;
      });
    completion.catch(() => {});
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(settled).toBe(false);
    await release();
    // The link committed before the lock was granted: the statement saw the open parent, wrote
    // nothing, and the full way refused the completion.
    await expect(completion).rejects.toMatchObject({ code: "WRONG_STATE" });
    expect((await b.requireTask(running.id)).status).toBe("running");
    expect(
      await rawSql(b).all("SELECT id FROM task_events WHERE task_id = ? AND kind = 'completed'", running.id),
    ).toEqual([]);
  });

  it("a pooler that loses the prepared statement costs a fallback, never a write", async () => {
    const b = board();
    const ctx = boardInternals(b).ctx as unknown as Record<"writeAlone", (...args: unknown[]) => Promise<unknown>>;
    const alone = vi.spyOn(ctx, "writeAlone");
    // Prepared on every connection of the pool: completions side by side each hold a connection of
    // their own through their message, so enough rounds of them reach every one.
    for (let round = 0; round < 10; round++) {
      const tasks = await Promise.all([1, 2, 3].map(async (i) => await runningTask(b, `first ${round}.${i}`)));
      await Promise.all(
        tasks.map(async (t) => await b.completeTask(t.id, { summary: "ok", expected_run_id: t.current_run_id })),
      );
      if ((await connectionsHoldingPrepared(b)) === openConnections(b)) break;
    }
    expect(await connectionsHoldingPrepared(b)).toBe(openConnections(b));
    for (const r of alone.mock.results) expect(await r.value).toHaveLength(1);
    const sent = alone.mock.results.length;
    // What a transaction pooler does: the next message runs in a server session without it.
    const dropped = await dropPrepared(b);
    expect(dropped).toBeGreaterThan(0);
    const second = await runningTask(b, "second");
    const done = await b.completeTask(second.id, { summary: "ok", expected_run_id: second.current_run_id });
    expect(done.task.status).toBe("done");
    expect(done.run_id).toBe(second.current_run_id);
    // The message that found no statement wrote nothing; the ordinary way wrote each row once.
    expect(await alone.mock.results[sent]?.value).toBeNull();
    const rows = async (sql: string) => (await rawSql(b).all(sql, second.id)).length;
    expect(await rows("SELECT id FROM task_events WHERE task_id = ? AND kind = 'completed'")).toBe(1);
    expect(await rows("SELECT id FROM task_runs WHERE task_id = ? AND ended_at IS NOT NULL")).toBe(1);
    expect(await rows("SELECT id FROM task_runs WHERE task_id = ? AND ended_at IS NULL")).toBe(0);
    // The board's later completions take the ordinary way at once.
    const third = await runningTask(b, "third");
    await b.completeTask(third.id, { summary: "ok", expected_run_id: third.current_run_id });
    expect(await alone.mock.results[sent + 1]?.value).toBeNull();
    expect((await b.requireTask(third.id)).status).toBe("done");
  });

  it("a statement that fails rolls its transaction back and leaves the connection usable", async () => {
    const b = board();
    const session = sessionOf(b);
    await expect(session.writeAlone("SELECT CAST(? AS integer) AS n", ["not a number"])).rejects.toThrow(
      /invalid input syntax/,
    );
    // No connection is left in the aborted transaction (a statement there would fail), and none
    // holds a transaction open.
    await onEveryConnection(b, async (c) => {
      const { rows } = await c.query<{ open: boolean }>("SELECT now() <> statement_timestamp() AS open");
      expect(rows[0]?.open).toBe(false);
    });
    const running = await runningTask(b, "after");
    await b.completeTask(running.id, { summary: "ok", expected_run_id: running.current_run_id });
    expect((await b.requireTask(running.id)).status).toBe("done");
  });

  it("its lock bound lasts for its own transaction only: the connection's later statements wait as long as they need", async () => {
    const b = board();
    const session = sessionOf(b);
    const running = await runningTask(b, "bound");
    const alone = vi.spyOn(session, "writeAlone");
    await b.completeTask(running.id, { summary: "ok", expected_run_id: running.current_run_id });
    expect(await alone.mock.results[0]?.value).not.toBeNull();
    await onEveryConnection(b, async (c) => {
      const { rows } = await c.query<{ lock_timeout: string }>("SHOW lock_timeout");
      expect(rows[0]?.lock_timeout).toBe("0");
    });
  });

  it("a pooler that loses the board's lock statement: the transaction begins again with the lock as text, and writes once", async () => {
    const b = board();
    const session = sessionOf(b);
    const create = async (title: string) =>
      await boardInternals(b).ctx.tx(async () => await b.createTask({ title, parents: [] }));
    await Promise.all([1, 2, 3].map(async (i) => await create(`warm ${i}`)));
    // What a transaction pooler does: the next message runs in a server session without them.
    expect(await dropPrepared(b)).toBeGreaterThan(0);
    const titles: string[] = [];
    // Transactions side by side each hold a connection of their own: within a few rounds one
    // lands on a connection whose lock statement is gone.
    for (let round = 0; round < 10 && session.writesAlone; round++) {
      const batch = [1, 2, 3].map((i) => `after ${round}.${i}`);
      titles.push(...batch);
      await Promise.all(batch.map(create));
    }
    // The board's writes no longer count on statements prepared on a connection.
    expect(session.writesAlone).toBe(false);
    // And each transaction wrote its task once: the one refused wrote nothing, and began again.
    const rows = await rawSql(b).all<{ title: string }>("SELECT title FROM tasks WHERE title LIKE 'after %'");
    expect(rows.map((r) => r.title).sort()).toEqual([...titles].sort());
    const after = await create("after the fallback");
    expect((await b.requireTask(after.id)).title).toBe("after the fallback");
  });

  // Runs after the pooler tests above, on the same pool (one per test file): dropPrepared put every
  // connection back in step when its test ended, so no connection still believed to hold a statement
  // sends this board's writes the ordinary way (a statement that then finds none answers null).
  it("a board after a simulated pooler sends alone on every connection of the file's pool", async () => {
    const b = board();
    await b.listTasks({});
    const n = openConnections(b);
    expect(n).toBeGreaterThan(1);
    const pids: number[] = [];
    await onEachConnectionInTurn(b, async () => {
      const rows = await sessionOf(b).writeAlone("SELECT pg_backend_pid() AS pid, CAST(? AS text) AS s", ["x"]);
      expect(rows).toHaveLength(1);
      pids.push((rows as { pid: number }[])[0]?.pid ?? 0);
    });
    expect(new Set(pids).size).toBe(n);
    expect(sessionOf(b).writesAlone).toBe(true);
  });

  it("writes asked for while one waits for its connection go in its message: one transaction, each answered its own rows", async () => {
    const b = board();
    const { ctx } = boardInternals(b);
    await b.listTasks({});
    const begun = ctx.transactionsBegun;
    const rows = await sideBySide(b, ["a", "b", "c"]);
    expect(rows.map((r) => r.s)).toEqual(["a", "b", "c"]);
    // One server session, one transaction (now() is its start), one message.
    expect(new Set(rows.map((r) => r.pid)).size).toBe(1);
    expect(new Set(rows.map((r) => r.message)).size).toBe(1);
    expect(ctx.transactionsBegun - begun).toBe(1);
  });

  it("completions side by side share a message, and each writes its rows once", async () => {
    const b = board();
    const { ctx } = boardInternals(b);
    const tasks = await Promise.all([1, 2, 3, 4].map(async (i) => await runningTask(b, `side ${i}`, `w:${i}`)));
    const alone = vi.spyOn(
      ctx as unknown as Record<"writeAlone", (...args: unknown[]) => Promise<unknown>>,
      "writeAlone",
    );
    const begun = ctx.transactionsBegun;
    const done = await Promise.all(
      tasks.map(
        async (t) => await b.completeTask(t.id, { summary: `ok ${t.title}`, expected_run_id: t.current_run_id }),
      ),
    );
    for (const r of alone.mock.results) expect(await r.value).toHaveLength(1);
    expect(alone).toHaveBeenCalledTimes(4);
    expect(ctx.transactionsBegun - begun).toBe(1);
    expect(done.map((d) => [d.task.status, d.run_id])).toEqual(tasks.map((t) => ["done", t.current_run_id]));
    for (const t of tasks) {
      const rows = async (sql: string) => (await rawSql(b).all(sql, t.id)).length;
      expect(await rows("SELECT id FROM task_events WHERE task_id = ? AND kind = 'completed'")).toBe(1);
      expect(await rows("SELECT id FROM task_runs WHERE task_id = ? AND ended_at IS NULL")).toBe(0);
      expect(await rawSql(b).all("SELECT summary FROM task_runs WHERE task_id = ?", t.id)).toEqual([
        { summary: `ok ${t.title}` },
      ]);
    }
  });

  it("one write's error in a shared message fails that write only: the others are sent again and written once", async () => {
    const b = board();
    const { ctx } = boardInternals(b);
    const x = await b.createTask({ title: "x" });
    const y = await b.createTask({ title: "y" });
    const rename = "UPDATE tasks SET title = title || ? WHERE id = ? RETURNING title";
    const begun = ctx.transactionsBegun;
    const results = await Promise.allSettled([
      sessionOf(b).writeAlone(rename, [" renamed", x.id], { shared: true }),
      sessionOf(b).writeAlone("SELECT CAST(? AS integer) AS n", ["not a number"], { shared: true }),
      sessionOf(b).writeAlone(rename, [" renamed", y.id], { shared: true }),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(String((results[1] as PromiseRejectedResult).reason)).toMatch(/invalid input syntax/);
    expect(results.map((r) => (r.status === "fulfilled" ? r.value : null))).toEqual([
      [{ title: "x renamed" }],
      null,
      [{ title: "y renamed" }],
    ]);
    // The shared message, rolled back, then each alone: renamed once, not twice.
    expect(ctx.transactionsBegun - begun).toBe(4);
    expect((await b.requireTask(x.id)).title).toBe("x renamed");
    expect((await b.requireTask(y.id)).title).toBe("y renamed");
  });

  it("messages of writes sent alone hold half the pool at most: later writes share the next one, and reads find a connection", async () => {
    const b = board();
    const { ctx } = boardInternals(b);
    const session = sessionOf(b);
    const pause = async () => await new Promise((resolve) => setTimeout(resolve, 60));
    // Three reads side by side open the pool's three connections.
    await Promise.all([1, 2, 3].map(async () => await session.all("SELECT pg_sleep(0.05)")));
    expect(openConnections(b)).toBe(3);
    const begun = ctx.transactionsBegun;
    const settled: string[] = [];
    const track = <T>(name: string, p: Promise<T>) => p.finally(() => settled.push(name));
    const slow = "SELECT pg_backend_pid() AS pid, CAST(? AS text) AS s FROM pg_sleep(0.5)";
    const quick = "SELECT pg_backend_pid() AS pid, CAST(now() AS text) AS began, CAST(? AS text) AS s";
    // A pool of 3: two messages at once.
    const first = track("first", session.writeAlone(slow, ["first"], { shared: true }));
    await pause();
    const second = track("second", session.writeAlone(slow, ["second"], { shared: true }));
    await pause();
    const later = ["a", "b", "c"].map((s) => track(s, session.writeAlone(quick, [s], { shared: true })));
    await pause();
    const read = track("read", session.all("SELECT CAST(? AS text) AS s", "read"));
    const [one, two, ...rest] = (await Promise.all([first, second, ...later, read])).map(
      (r) => (r as { pid: number; s: string; began?: string }[])[0],
    );
    // The read did not wait for the writes' connections to come free.
    expect(settled[0]).toBe("read");
    expect([one?.s, two?.s]).toEqual(["first", "second"]);
    expect(one?.pid).not.toBe(two?.pid);
    const shared = rest.slice(0, 3);
    expect(shared.map((r) => r?.s)).toEqual(["a", "b", "c"]);
    expect(new Set(shared.map((r) => `${r?.pid} ${r?.began}`)).size).toBe(1);
    // The later three went in one message, after one of the first two ended.
    expect(settled.indexOf("a")).toBeGreaterThan(Math.min(settled.indexOf("first"), settled.indexOf("second")));
    expect(ctx.transactionsBegun - begun).toBe(3);
  });

  it("a burst of writes goes in messages of 32 at most", async () => {
    const b = board();
    const { ctx } = boardInternals(b);
    await b.listTasks({});
    const begun = ctx.transactionsBegun;
    const burst = Array.from({ length: 40 }, (_, i) => `w${i}`);
    const rows = await sideBySide(b, burst);
    expect(rows.map((r) => r.s)).toEqual(burst);
    const messages = new Map<string, number>();
    for (const r of rows) messages.set(r.message, (messages.get(r.message) ?? 0) + 1);
    expect([...messages.values()].sort((x, y) => y - x)).toEqual([32, 8]);
    expect(ctx.transactionsBegun - begun).toBe(2);
  });
});
