// PostgreSQL only: the session tracks which call chain is inside a transaction (AsyncLocalStorage)
// only while one is open somewhere in the process, as the SQLite session does. A fleet's steady claims
// and completions open none (PgSession.writeAlone), so Node's promise hooks stay off for them.
import { describe, expect, it, vi } from "vitest";
import { useTestBoards } from "../../testing/helpers.ts";
import { transactionContextTracked } from "./session.ts";

const board = useTestBoards();

/** Lets every ready callback and timer of the event loop run. */
const turn = (ms = 5) => new Promise((resolve) => setTimeout(resolve, ms));

describe("the transaction context on PostgreSQL", () => {
  it("is tracked only while a transaction is open; a callback of an earlier transaction stays outside a later one", async () => {
    const b = board();
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
    expect(transactionContextTracked()).toBe(false);
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const second = b.atomically(async () => {
      expect(transactionContextTracked()).toBe(true);
      await b.createTask({ title: "second" });
      fire();
      await turn(20);
      order.push("second still open");
      await held;
    });
    try {
      // Waited for, not timed: a loaded machine may take long to get there. Had the late write joined
      // the second transaction, it would be on the list first.
      await vi.waitFor(() => expect(order).toEqual(["second still open"]), { timeout: 15_000 });
      await turn(40);
      // The late write waits for the board's writer lock instead of joining the second transaction.
      expect(order).toEqual(["second still open"]);
    } finally {
      // Whatever the assertions said: a transaction left open would hold the board's cleanup.
      release();
    }
    await second;
    await late;
    expect(order).toEqual(["second still open", "late write"]);
    expect((await b.listTasks({})).map((t) => t.title).sort()).toEqual(["first", "from the first", "second"]);
    await turn();
    expect(transactionContextTracked()).toBe(false);
  });

  it("a claim and its fenced completion sent alone leave the context untracked", async () => {
    const b = board();
    const t = await b.createTask({ title: "steady", assignee: "bench" });
    await turn();
    expect(transactionContextTracked()).toBe(false);
    const running = await b.claimTask(t.id, { claimer: "w:1" });
    expect(running?.status).toBe("running");
    expect(transactionContextTracked()).toBe(false);
    const done = await b.completeTask(t.id, { summary: "ok", expected_run_id: running?.current_run_id });
    expect(done.task.status).toBe("done");
    expect(transactionContextTracked()).toBe(false);
  });
});
