// PostgreSQL only: a steady claim walk's first row lock is worked out before its transaction and
// sent with BEGIN (claim-next.ts planFirstLock, store/pg/shared-writers.ts sharedClaimWalk). The walk
// uses it only when it chose among the same rows; otherwise it locks for itself, and the row the
// early lock took is let go with the transaction. A pooler that loses the prepared lock statement
// costs a second BEGIN, never a claim. A walk for one claim is mostly one message of its own
// (claim-next-alone.pg.test.ts), so these walks ask for two claims, which go this way.
import { afterEach, describe, expect, it, vi } from "vitest";
import type { LaneHold } from "./claim-next.ts";
import type { PgSession } from "./store/pg/session.ts";
import { useTestBoards } from "./testing/helpers.ts";
import { boardInternals, rawSql, type TestBoard } from "./testing/index.ts";
import { onEveryMessage } from "./testing/pg-messages.ts";
import { connectionsHoldingPrepared, dropPrepared, openConnections } from "./testing/pg-prepared.ts";
import { recordTxModes } from "./testing/writer-spies.ts";
import { openIncidentElsewhere } from "./testing/open-incident.ts";

const board = useTestBoards();

afterEach(() => {
  vi.restoreAllMocks();
});

/**
 * The messages that carried a row lock with BEGIN, and those that locked a row on their own (a
 * message that is a whole transaction on its own, PgSession.writeAlone's, is neither).
 */
function watchLocks(): { withBegin: () => number; alone: () => number } {
  let withBegin = 0;
  let alone = 0;
  onEveryMessage((text) => {
    if (/^BEGIN;.*EXECUTE kanban_w_/s.test(text) && !text.endsWith("COMMIT")) withBegin++;
    // (A connection's one-time PREPARE of the lock ends the same way, and is not a lock.)
    else if (
      !text.startsWith("PREPARE ") &&
      /FOR UPDATE SKIP LOCKED\) t\s+ORDER BY k\.n NULLS LAST LIMIT 1$/.test(text)
    )
      alone++;
  });
  return { withBegin: () => withBegin, alone: () => alone };
}

async function seed(b: TestBoard, n: number) {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push((await b.createTask({ title: `job ${i}`, assignee: "bench" })).id);
  return ids;
}

/** Whether another connection can lock the task's row now (no transaction holds it). */
async function rowIsFree(b: TestBoard, id: string): Promise<boolean> {
  const rows = await rawSql(b).all("SELECT id FROM tasks WHERE id = ? FOR UPDATE SKIP LOCKED", id);
  return rows.length === 1;
}

describe("a steady claim walk's first row lock, sent with BEGIN", () => {
  it("claims in lane order, two tasks per call, with the first lock sent with BEGIN after the lane's first read", async () => {
    const b = board();
    const ids = await seed(b, 6);
    const lane = b.readyLane();
    const locks = watchLocks();
    const claimed: string[] = [];
    for (let i = 0; i < 3; i++) {
      const got = (await b.claimNext(lane, { claimer: "w:1" }, 2)).claimed;
      if (got.length !== 2) throw new Error(`call ${i} claimed ${got.length}`);
      for (const c of got) claimed.push(c.task_id);
    }
    expect(claimed).toEqual(ids);
    // The first call read the lane inside its transaction and locked for itself, twice; the other
    // two sent their first lock with BEGIN and made their second themselves.
    expect(locks.withBegin()).toBe(2);
    expect(locks.alone()).toBe(4);
    expect((await b.claimNext(lane, { claimer: "w:1" }, 2)).claimed).toEqual([]);
  });

  it("a rule that changes its mind between the plan and the walk: the walk locks for itself, the early lock is let go", async () => {
    const b = board();
    const [first, second] = await seed(b, 3);
    let holdFirst = false;
    // Admission control (the dispatcher's memory floor) that holds every card from the moment the
    // walk's transaction begins: the plan made just before saw none held.
    const lane = b.readyLane({
      hold: (assignee: string): LaneHold | null =>
        holdFirst ? { code: "memory_floor", detail: { profile: assignee } } : null,
    });
    expect((await b.claimNext(lane, { claimer: "w:1" })).claimed[0]?.task_id).toBe(first);
    const locks = watchLocks();
    // The plan is made with the hold off; the walk judges with it on and claims nothing.
    const { ctx } = boardInternals(b);
    const tx = ctx.tx.bind(ctx);
    vi.spyOn(ctx, "tx").mockImplementation(((fn: () => Promise<unknown>, opts?: unknown) => {
      holdFirst = true;
      return tx(fn, opts as never);
    }) as never);
    const result = await b.claimNext(lane, { claimer: "w:1" }, 2);
    expect(result.claimed).toEqual([]);
    expect(result.skipped.map((s) => s.reason)).toEqual(["held", "held"]);
    expect(locks.withBegin()).toBe(1);
    // The task the early lock took is neither claimed nor still locked.
    expect((await b.requireTask(second ?? "")).status).toBe("ready");
    expect(await rowIsFree(b, second ?? "")).toBe(true);
  });

  it("an incident opened after the plan: the walk runs as the board's one writer, the early lock let go", async () => {
    const b = board();
    const [, second] = await seed(b, 3);
    const lane = b.readyLane();
    await b.claimNext(lane, { claimer: "w:1" });
    const { ctx } = boardInternals(b);
    // An incident of another profile: it pauses nothing here, but no walk may run beside others.
    await openIncidentElsewhere(b);
    const modes = recordTxModes(ctx);
    const locks = watchLocks();
    // The shared transaction's early lock took the second card; the exclusive walk could claim it (SKIP
    // LOCKED would have passed it over were it still held) only because that lock ended with its transaction.
    expect((await b.claimNext(lane, { claimer: "w:1" }, 2)).claimed[0]?.task_id).toBe(second);
    expect(modes).toEqual(["shared", "exclusive"]);
    expect(locks.withBegin()).toBe(1);
  });

  it("once a pooler lost a prepared statement, a walk judges its rows once: nothing is judged for a message it cannot send", async () => {
    const b = board();
    await seed(b, 40);
    let asked = 0;
    // Admission control is asked once per row judged: it counts the judging.
    const lane = b.readyLane({
      hold: () => {
        asked++;
        return null;
      },
    });
    expect((await b.claimNext(lane, { claimer: "w:1" })).claimed).toHaveLength(1);
    asked = 0;
    expect((await b.claimNext(lane, { claimer: "w:1" })).claimed).toHaveLength(1);
    // Sent as one message: the rows ahead judged once, for it.
    expect(asked).toBe(16);
    const session = boardInternals(b).ctx.session as PgSession;
    // What a statement lost by a pooler leaves behind (the test above makes one happen).
    session["aloneUnavailable"] = true;
    asked = 0;
    expect((await b.claimNext(lane, { claimer: "w:1" })).claimed).toHaveLength(1);
    // The walk's own judging (the 16 rows it locks among), not also a plan's and a message's.
    expect(asked).toBe(16);
  });

  // Two claims per walk lose the lock sent with BEGIN; one claim per walk loses its one message (the
  // claim's own statement, claim-next-alone.pg.test.ts) and goes the full way.
  it.each([1, 2])(
    "a pooler that loses the prepared statements costs a message more, never a claim (%i per walk)",
    async (limit) => {
      const b = board();
      const ids = await seed(b, 60);
      const session = boardInternals(b).ctx.session as PgSession;
      // Three walks side by side, each on a lane of its own, until every connection prepared its statement.
      const lanes = [1, 2, 3].map(() => b.readyLane());
      const claimed: string[] = [];
      const walkAll = async () => {
        const got = await Promise.all(lanes.map(async (l, i) => await b.claimNext(l, { claimer: `w:${i}` }, limit)));
        for (const r of got) for (const c of r.claimed) claimed.push(c.task_id);
      };
      await walkAll();
      for (let round = 0; round < 4 && (await connectionsHoldingPrepared(b)) < openConnections(b); round++)
        await walkAll();
      expect(await connectionsHoldingPrepared(b)).toBe(openConnections(b));
      // What a transaction pooler does: the next message runs in a server session without it.
      expect(await dropPrepared(b)).toBeGreaterThan(0);
      const before = claimed.length;
      await walkAll();
      expect(claimed.length).toBe(before + 3 * limit);
      expect(session["aloneUnavailable"]).toBe(true);
      // Every task claimed once, by one walk, in a state the claim left whole.
      while (claimed.length < ids.length) {
        const before2 = claimed.length;
        await walkAll();
        if (claimed.length === before2) break;
      }
      expect(new Set(claimed).size).toBe(claimed.length);
      expect([...claimed].sort()).toEqual([...ids].sort());
      const open = await rawSql(b).all<{ n: number }>("SELECT COUNT(*) AS n FROM task_runs WHERE ended_at IS NULL");
      expect(Number(open[0]?.n)).toBe(ids.length);
    },
  );
});
