import path from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { type KanbanDatabase, openDatabase } from "./connection.ts";
import { writeTxnAsync } from "./write-txn-async.ts";
import { useTempDirs } from "./test/temp-dirs.ts";

const tempDir = useTempDirs();

/** Two connections to one new board file, as two processes would hold them. */
function twoConnections(busyTimeoutMs = 5_000): { a: KanbanDatabase; b: KanbanDatabase } {
  const file = path.join(tempDir(), "k.db");
  const a = openDatabase({ path: file, warn: () => {} });
  const b = openDatabase({ path: file, busyTimeoutMs, warn: () => {} });
  onTestFinished(() => {
    for (const db of [a, b]) {
      if (db.sqlite.inTransaction) db.sqlite.exec("ROLLBACK");
      db.close();
    }
  });
  return { a, b };
}

const links = (db: KanbanDatabase) =>
  (db.sqlite.prepare("SELECT parent_id FROM task_links ORDER BY parent_id").all() as { parent_id: string }[]).map(
    (r) => r.parent_id,
  );

describe("writeTxnAsync", () => {
  it("takes a free lock at once: the transaction runs before writeTxnAsync returns, ahead of a setImmediate scheduled just before", async () => {
    const { b } = twoConnections();
    const order: string[] = [];
    setImmediate(() => order.push("setImmediate"));
    const done = writeTxnAsync(b.sqlite, async () => {
      order.push(`transaction (in a transaction: ${b.sqlite.inTransaction})`);
      b.sqlite.prepare("INSERT INTO task_links VALUES ('p', 'c')").run();
    });
    order.push("writeTxnAsync returned");
    await done;
    await new Promise((resolve) => setImmediate(resolve));
    expect(order).toEqual(["transaction (in a transaction: true)", "writeTxnAsync returned", "setImmediate"]);
    expect(links(b)).toEqual(["p"]);
  });

  it("commits a synchronous function's writes too, and the connection is out of its transaction after", async () => {
    const { b } = twoConnections();
    expect(
      await writeTxnAsync(b.sqlite, () => b.sqlite.prepare("INSERT INTO task_links VALUES ('q', 'c')").run().changes),
    ).toBe(1);
    expect(b.sqlite.inTransaction).toBe(false);
    expect(links(b)).toEqual(["q"]);
  });

  it("waits for a busy lock on timers (the event loop runs meanwhile), then runs once the holder commits", async () => {
    const { a, b } = twoConnections();
    a.sqlite.exec("BEGIN IMMEDIATE");
    let ran = false;
    const done = writeTxnAsync(b.sqlite, async () => {
      ran = true;
      b.sqlite.prepare("INSERT INTO task_links VALUES ('p', 'c')").run();
    });
    // The event loop runs while the writer waits: a timer of ours fires again and again meanwhile.
    // Counted in turns, not in a time window, which a loaded machine may give only one turn (the
    // 10 s is a bound on a hang).
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 2);
    const until = Date.now() + 10_000;
    while (ticks < 5 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 5));
    clearInterval(ticker);
    expect(ran).toBe(false);
    expect(ticks).toBeGreaterThanOrEqual(5);
    a.sqlite.exec("COMMIT");
    await done;
    expect(ran).toBe(true);
    expect(links(b)).toEqual(["p"]);
    // The connection's own busy_timeout is back for everything else.
    expect(b.sqlite.pragma("busy_timeout", { simple: true })).toBe(5_000);
  });

  it("gives up with DB_BUSY after the timeout, never running the function, and the connection stays usable", async () => {
    const { a, b } = twoConnections(60);
    a.sqlite.exec("BEGIN IMMEDIATE");
    let ran = false;
    await expect(
      writeTxnAsync(b.sqlite, () => {
        ran = true;
      }),
    ).rejects.toMatchObject({ code: "DB_BUSY" });
    expect(ran).toBe(false);
    expect(b.sqlite.inTransaction).toBe(false);
    a.sqlite.exec("COMMIT");
    await writeTxnAsync(b.sqlite, () => b.sqlite.prepare("INSERT INTO task_links VALUES ('after', 'c')").run());
    expect(links(a)).toEqual(["after"]);
  });

  it("rolls back and rethrows what the function throws, synchronously or after an await", async () => {
    const { b } = twoConnections();
    await expect(
      writeTxnAsync(b.sqlite, () => {
        b.sqlite.prepare("INSERT INTO task_links VALUES ('sync', 'c')").run();
        throw new Error("sync failure");
      }),
    ).rejects.toThrow("sync failure");
    await expect(
      writeTxnAsync(b.sqlite, async () => {
        b.sqlite.prepare("INSERT INTO task_links VALUES ('async', 'c')").run();
        await Promise.resolve();
        throw new Error("async failure");
      }),
    ).rejects.toThrow("async failure");
    expect(b.sqlite.inTransaction).toBe(false);
    expect(links(b)).toEqual([]);
  });
});
