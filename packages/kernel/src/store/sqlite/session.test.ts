import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { boardInternals } from "../../testing/index.ts";
import { useTestBoards } from "../../testing/helpers.ts";
import { type SqliteSession, transactionContextTracked } from "./session.ts";

// The store is async (issue 14): callers of one board interleave at their awaits. These tests pin
// the two rules that keep that safe (session.ts) and that waiting for another process's write lock
// leaves the event loop free.

const board = useTestBoards();

/** A promise and the function that settles it: a transaction held open until the test says so. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open: () => void = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

/** Lets every ready callback and timer of the event loop run. */
const turn = (ms = 5) => new Promise((resolve) => setTimeout(resolve, ms));

describe("one board, many async callers", () => {
  it("a read issued while another caller's transaction is open does not see that transaction's rows", async () => {
    const b = board();
    const held = gate();
    let inside: string | null = null;
    const tx = b.atomically(async () => {
      inside = (await b.createTask({ title: "uncommitted" })).id;
      await held.opened;
    });
    await turn();
    expect(inside).not.toBeNull();
    const id = inside as unknown as string;
    // Outside the transaction: the committed board, without the open transaction's row.
    expect(await b.getTask(id)).toBeNull();
    expect(await b.listTasks({})).toEqual([]);
    held.open();
    await tx;
    expect((await b.getTask(id))?.title).toBe("uncommitted");
  });

  it("a write issued while another caller's transaction is open waits for it, and is not undone by its rollback", async () => {
    const b = board();
    const held = gate();
    const order: string[] = [];
    const failing = b
      .atomically(async () => {
        await b.createTask({ title: "rolled back" });
        order.push("first transaction wrote");
        await held.opened;
        throw new Error("changed my mind");
      })
      .catch((err: Error) => err.message);
    await turn();
    const second = b.createTask({ title: "kept" }).then((t) => {
      order.push("second write done");
      return t;
    });
    await turn();
    // The second write is queued behind the open transaction, not run inside it.
    expect(order).toEqual(["first transaction wrote"]);
    held.open();
    expect(await failing).toBe("changed my mind");
    const kept = await second;
    expect(order).toEqual(["first transaction wrote", "second write done"]);
    expect((await b.listTasks({})).map((t) => t.title)).toEqual(["kept"]);
    expect((await b.getTask(kept.id))?.title).toBe("kept");
  });

  it("a verb called inside a caller's own transaction joins it (a savepoint), and a failure undoes only that verb", async () => {
    const b = board();
    const ids = await b.atomically(async () => {
      const outer = await b.createTask({ title: "outer" });
      const refused = await b.createTask({ title: "   " }).catch(() => null);
      const inner = await b.createTask({ title: "inner", parents: [outer.id] });
      return { outer: outer.id, refused, inner: inner.id };
    });
    expect(ids.refused).toBeNull();
    expect((await b.listTasks({})).map((t) => t.title).sort()).toEqual(["inner", "outer"]);
    expect(await b.parentIds(ids.inner)).toEqual([ids.outer]);
  });

  it("a callback started inside a transaction that runs after it ended is outside it (its own queued transaction)", async () => {
    const b = board();
    const { ctx } = boardInternals(b);
    let later: Promise<string> | null = null;
    await b.atomically(async () => {
      await b.createTask({ title: "in the transaction" });
      // The timer inherits the transaction's async context, but fires after the commit.
      later = new Promise((resolve, reject) =>
        setTimeout(() => {
          b.createTask({ title: "from the timer" })
            .then((t) => resolve(t.id))
            .catch(reject);
        }, 20),
      );
    });
    const begun = ctx.transactionsBegun;
    const id = await (later as unknown as Promise<string>);
    // A transaction of its own (BEGIN IMMEDIATE through the queue), not a savepoint of an ended one.
    expect(ctx.transactionsBegun).toBe(begun + 1);
    expect((await b.getTask(id))?.title).toBe("from the timer");
  });

  it("a read with no transaction open runs on the writer's warm connection; during another caller's transaction on the reader; in its own on the writer", async () => {
    const b = board();
    const { ctx, sqlite } = boardInternals(b);
    const session = ctx.session as SqliteSession;
    const sql = "SELECT count(*) AS n FROM tasks";
    expect(session.stmt(sql).database).toBe(sqlite);
    const held = gate();
    let own: Database.Database | null = null;
    const tx = b.atomically(async () => {
      await b.createTask({ title: "uncommitted" });
      own = session.stmt(sql).database;
      await held.opened;
    });
    await turn();
    // Another caller, while the transaction is open: the read connection, which cannot see its row.
    expect(session.stmt(sql).database).not.toBe(sqlite);
    expect(await ctx.get(sql)).toEqual({ n: 0 });
    held.open();
    await tx;
    expect(own).toBe(sqlite);
    // Idle again: the writer, which now sees the committed row.
    expect(session.stmt(sql).database).toBe(sqlite);
    expect(await ctx.get(sql)).toEqual({ n: 1 });
  });

  it("the async context is tracked only while a transaction is open; a callback of an earlier transaction stays outside a later one", async () => {
    const b = board();
    const { ctx } = boardInternals(b);
    let fire: () => void = () => {};
    const fired = new Promise<void>((resolve) => {
      fire = resolve;
    });
    const order: string[] = [];
    let late: Promise<unknown> | null = null;
    await b.atomically(async () => {
      expect(transactionContextTracked()).toBe(true);
      await b.createTask({ title: "first" });
      // Started inside the first transaction; runs during the second one.
      late = fired.then(() => b.createTask({ title: "from the first" }).then(() => order.push("late write")));
    });
    await turn();
    // No transaction open in the process: the tracking (and Node's promise hooks with it) is off.
    expect(transactionContextTracked()).toBe(false);
    const held = gate();
    const second = b.atomically(async () => {
      expect(transactionContextTracked()).toBe(true);
      await b.createTask({ title: "second" });
      fire();
      await turn();
      order.push("second still open");
      await held.opened;
    });
    await turn(20);
    // The late write waits for the second transaction instead of joining it as a savepoint.
    expect(order).toEqual(["second still open"]);
    const begun = ctx.transactionsBegun;
    held.open();
    await second;
    await late;
    expect(order).toEqual(["second still open", "late write"]);
    expect(ctx.transactionsBegun).toBe(begun + 1);
    expect((await b.listTasks({})).map((t) => t.title).sort()).toEqual(["first", "from the first", "second"]);
  });

  it("verbs started together inside one transaction run one after another, each undone alone when it fails", async () => {
    const b = board();
    const settled = await b.atomically(async () =>
      Promise.allSettled([b.createTask({ title: "A" }), b.createTask({ title: "   " }), b.createTask({ title: "C" })]),
    );
    expect(settled.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect((settled[1] as PromiseRejectedResult).reason).toMatchObject({ code: "INVALID_INPUT" });
    expect((await b.listTasks({})).map((t) => t.title).sort()).toEqual(["A", "C"]);
  });

  it("a transaction on an idle board starts at once; a queued one starts as the one ahead settles, before that caller resumes", async () => {
    const b = board();
    const { ctx } = boardInternals(b);
    const order: string[] = [];
    setImmediate(() => order.push("setImmediate"));
    const held = gate();
    const first = ctx.tx(async () => {
      order.push("first began");
      await held.opened;
    });
    order.push("tx returned");
    const second = ctx.tx(async () => {
      order.push("second began");
    });
    await turn();
    expect(order).toEqual(["first began", "tx returned", "setImmediate"]);
    held.open();
    await first;
    // The queue handed the lock on before the first caller's continuation ran: no hop in between.
    order.push("first caller resumed");
    await second;
    expect(order).toEqual(["first began", "tx returned", "setImmediate", "second began", "first caller resumed"]);
  });

  it("close waits for the running and queued transactions, then refuses new work with DB_UNAVAILABLE; its promise resolves after", async () => {
    const b = board();
    const held = gate();
    const first = b.atomically(async () => {
      const t = await b.createTask({ title: "running when closed" });
      await held.opened;
      return t.id;
    });
    await turn();
    const queued = b.createTask({ title: "queued when closed" });
    const closed = b.close();
    expect(b.close()).toBe(closed);
    let closedYet = false;
    void closed.then(() => {
      closedYet = true;
    });
    await expect(b.createTask({ title: "after close" })).rejects.toMatchObject({ code: "DB_UNAVAILABLE" });
    await turn();
    expect(closedYet).toBe(false);
    held.open();
    const id = await first;
    expect((await queued).title).toBe("queued when closed");
    // The close resolves once the last queued transaction has settled and the connections are closed.
    await closed;
    await expect(b.getTask(id)).rejects.toMatchObject({ code: "DB_UNAVAILABLE" });
    // Both landed in the file.
    const check = new Database(b.path, { readonly: true });
    try {
      const titles = check.prepare("SELECT title FROM tasks ORDER BY title").all() as { title: string }[];
      expect(titles.map((r) => r.title)).toEqual(["queued when closed", "running when closed"]);
    } finally {
      check.close();
    }
  });
});

describe("another process holding the write lock", () => {
  it("a write waits for it on timers: the event loop keeps running, reads are answered, the write lands after", async () => {
    const b = board();
    const before = await b.createTask({ title: "before" });
    // Another connection (as another process would) takes the write lock and keeps it.
    const other = new Database(b.path);
    try {
      other.exec("BEGIN IMMEDIATE");
      let landed = false;
      const write = b.createTask({ title: "waiting" }).then((t) => {
        landed = true;
        return t;
      });
      let ticks = 0;
      const ticker = setInterval(() => ticks++, 5);
      await turn(150);
      clearInterval(ticker);
      // A synchronous wait would have frozen the loop: no tick, no read until the lock went away.
      expect(ticks).toBeGreaterThan(5);
      expect(landed).toBe(false);
      expect((await b.getTask(before.id))?.title).toBe("before");
      other.exec("COMMIT");
      const t = await write;
      expect(landed).toBe(true);
      expect((await b.getTask(t.id))?.title).toBe("waiting");
    } finally {
      if (other.inTransaction) other.exec("ROLLBACK");
      other.close();
    }
  });

  it("past the board's busy timeout the write is refused with a typed error and writes nothing", async () => {
    const b = board({ busyTimeoutMs: 100 });
    const other = new Database(b.path);
    try {
      other.exec("BEGIN IMMEDIATE");
      await expect(b.createTask({ title: "never" })).rejects.toMatchObject({ code: "DB_BUSY" });
      other.exec("COMMIT");
      expect(await b.listTasks({})).toEqual([]);
      // The board is still usable once the lock is gone.
      expect((await b.createTask({ title: "after" })).title).toBe("after");
    } finally {
      if (other.inTransaction) other.exec("ROLLBACK");
      other.close();
    }
  });
});
