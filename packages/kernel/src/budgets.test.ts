import { describe, expect, it } from "vitest";
import { laneSkipMotion } from "./motion/lane.ts";
import { scopeBoard } from "./scoped-board.ts";
import { caught, useTestBoards } from "./testing/helpers.ts";
import { rawSql, type TestBoard } from "./testing/index.ts";

// Issue 21, budgets that pause: a warning once per budget and period at the warning share; at the
// limit the scope's running cards are blocked (kind `budget`) and the lane starts none of its cards;
// "allow N more" resumes them. The test clock starts at 1,750,000,000 (day 20254, UTC), 32,000 s
// before the next UTC midnight.

const board = useTestBoards();
const DOLLAR = 1_000_000;
const NEXT_MIDNIGHT = 1_750_032_000;

async function running(b: TestBoard, assignee: string, opts: { tenant?: string; parent?: string } = {}) {
  const task = await b.createTask({
    title: `work for ${assignee}`,
    assignee,
    ...(opts.tenant ? { tenant: opts.tenant } : {}),
  });
  const claimed = await b.claimTask(task.id);
  if (!claimed || claimed.current_run_id === null) throw new Error("claim failed");
  // Linked by hand once it runs: a card below an unfinished parent could not be claimed.
  if (opts.parent)
    await rawSql(b).run("INSERT INTO task_links (parent_id, child_id) VALUES (?, ?)", opts.parent, task.id);
  return { id: task.id, run: claimed.current_run_id };
}

async function spend(b: TestBoard, card: { id: string; run: number }, micro: number) {
  await b.heartbeat(card.id, { expected_run_id: card.run, usage: { cost_micro_usd: micro } });
}

async function blockColumns(b: TestBoard, id: string) {
  return await rawSql(b).get<{ status: string; block_kind: string | null; block_recurrences: number }>(
    "SELECT status, block_kind, block_recurrences FROM tasks WHERE id = ?",
    id,
  );
}

async function kinds(b: TestBoard, id: string): Promise<string[]> {
  return (await b.listEvents(id)).map((e) => e.kind);
}

describe("a profile's daily budget", () => {
  it("warns once at 80 %, pauses the profile's running cards at the limit and holds its ready cards", async () => {
    const b = board();
    await b.setBudget({ scope: "profile", key: "coder", limit_micro_usd: 10 * DOLLAR });
    const one = await running(b, "coder");
    const two = await running(b, "coder");
    const other = await running(b, "writer");

    await spend(b, one, 7 * DOLLAR);
    expect(await kinds(b, one.id)).not.toContain("budget_warning");
    await spend(b, two, 1 * DOLLAR);
    const warning = (await b.listEvents(two.id)).find((e) => e.kind === "budget_warning");
    expect(warning?.payload).toEqual({
      scope: "profile",
      key: "coder",
      tenant: null,
      spent_micro_usd: 8 * DOLLAR,
      limit_micro_usd: 10 * DOLLAR,
      warn_percent: 80,
    });
    // Once per period: the next report under the limit warns no more.
    await spend(b, one, 500_000);
    expect((await kinds(b, one.id)).filter((k) => k === "budget_warning")).toEqual([]);
    expect((await b.listBudgets())[0]).toMatchObject({ state: "warning", spent_micro_usd: 8_500_000 });

    // The report that reaches the limit pauses both of coder's running cards, not writer's.
    await spend(b, two, 1_500_000);
    for (const id of [one.id, two.id]) {
      expect(await blockColumns(b, id)).toEqual({ status: "blocked", block_kind: "budget", block_recurrences: 0 });
      const blocked = (await b.listEvents(id)).find((e) => e.kind === "blocked");
      expect(blocked?.payload).toMatchObject({
        kind: "budget",
        reason: expect.stringContaining("Budget profile coder (today, UTC) is spent: $10.00 of $10.00"),
      });
      // The motion names the block's kind, so a client can offer "allow more" (the board's drawer does).
      expect((await b.explainMotion(id)).detail).toMatchObject({ kind: "budget" });
    }
    expect((await b.requireTask(other.id)).status).toBe("running");
    // A paused worker's next report is refused: nothing more is spent on its run.
    expect((await caught(() => spend(b, one, 1))).code).toBe("STALE_RUN");
    expect((await b.listBudgets())[0]).toMatchObject({ state: "exhausted", remaining_micro_usd: 0 });

    // No new spawn in the scope: the walk passes coder's ready card over and starts writer's.
    const held = (await b.createTask({ title: "next", assignee: "coder", priority: 9 })).id;
    const free = (await b.createTask({ title: "free", assignee: "writer" })).id;
    const walk = await b.claimNext(b.readyLane(), {}, 5);
    expect(walk.claimed.map((c) => c.task_id)).toEqual([free]);
    expect(walk.skipped).toEqual([
      {
        task_id: held,
        reason: "budget",
        assignee: "coder",
        hold: {
          scope: "profile",
          key: "coder",
          tenant: null,
          spent_micro_usd: 10 * DOLLAR,
          limit_micro_usd: 10 * DOLLAR,
          until: NEXT_MIDNIGHT,
        },
      },
    ]);
    // `kanban why` says the same.
    const why = await b.explainMotion(held);
    expect(why.code).toBe("budget_held");
    expect(why.line).toContain("profile coder's budget is spent ($10.00 of $10.00 today)");
    expect(why.next).toContain("kanban budget allow profile coder <usd>");
    // The dispatcher reports its skip with the very same motion.
    expect(laneSkipMotion(walk.skipped[0] as (typeof walk.skipped)[number], b.clock.seconds)).toEqual(why);
  });

  it("holds a card's review while the reviewer's budget is spent, and lets it go after allow more", async () => {
    const b = board();
    await b.setBudget({ scope: "profile", key: "critic", limit_micro_usd: DOLLAR });
    // The reviewer spent its day on another card's review.
    const spentOn = await running(b, "critic");
    await spend(b, spentOn, DOLLAR);
    const work = await running(b, "coder");
    await b.requestReview(work.id, { expected_run_id: work.run, reviewer: "critic", summary: "please look" });
    expect((await b.requireTask(work.id)).status).toBe("review");

    expect(await b.claimReviewTask(work.id)).toBeNull();
    expect((await b.requireTask(work.id)).status).toBe("review");
    await b.allowBudget({ scope: "profile", key: "critic", amount_micro_usd: DOLLAR });
    const claimed = await b.claimReviewTask(work.id);
    expect(claimed?.status).toBe("running");
  });

  it("a claim by id is refused while a spent budget holds the card, naming it, and goes through after allow more", async () => {
    const b = board();
    await b.setBudget({ scope: "profile", key: "coder", limit_micro_usd: DOLLAR });
    const card = await running(b, "coder");
    await spend(b, card, DOLLAR);
    const next = await b.createTask({ title: "more work", assignee: "coder" });
    const other = await b.createTask({ title: "someone else's", assignee: "writer" });

    const refused = await caught(() => b.claimTask(next.id));
    expect(refused.code).toBe("WRONG_STATE");
    expect(refused.message).toBe(
      `cannot claim ${next.id}: profile coder's budget is spent ($1.00 of $1.00); allow more first: kanban budget allow profile coder <usd>`,
    );
    const row = await b.requireTask(next.id);
    expect([row.status, row.claim_lock, row.current_run_id]).toEqual(["ready", null, null]);
    expect(await b.listRuns(next.id)).toEqual([]);
    // Another profile's card is not held.
    expect((await b.claimTask(other.id))?.status).toBe("running");

    await b.allowBudget({ scope: "profile", key: "coder", amount_micro_usd: DOLLAR });
    expect((await b.claimTask(next.id))?.status).toBe("running");
  });

  it("allow N more resumes the paused cards and lifts the hold; the allowance is gone the next day", async () => {
    const b = board();
    await b.setBudget({ scope: "profile", key: "coder", limit_micro_usd: 2 * DOLLAR });
    const card = await running(b, "coder");
    await spend(b, card, 2 * DOLLAR);
    expect((await b.requireTask(card.id)).status).toBe("blocked");

    const allowed = await b.allowBudget({ scope: "profile", key: "coder", amount_micro_usd: 3 * DOLLAR });
    expect(allowed.resumed).toEqual([card.id]);
    expect(allowed.budget).toMatchObject({
      allowance_micro_usd: 3 * DOLLAR,
      spent_micro_usd: 2 * DOLLAR,
      remaining_micro_usd: 3 * DOLLAR,
      state: "ok",
    });
    expect((await b.requireTask(card.id)).status).toBe("ready");
    const walk = await b.claimNext(b.readyLane(), {}, 1);
    expect(walk.claimed.map((c) => c.task_id)).toEqual([card.id]);
    // A second allowance the same day adds to the first.
    const more = await b.allowBudget({ scope: "profile", key: "coder", amount_micro_usd: DOLLAR });
    expect(more.budget.allowance_micro_usd).toBe(4 * DOLLAR);

    // The next UTC day counts from zero, with the plain limit again.
    b.clock.set(NEXT_MIDNIGHT + 10);
    expect((await b.listBudgets())[0]).toMatchObject({
      allowance_micro_usd: 0,
      spent_micro_usd: 0,
      period_start: NEXT_MIDNIGHT,
      state: "ok",
    });
  });

  it("a card paused yesterday is resumed by the first walk of the new day; a pause never counts a streak", async () => {
    const b = board();
    await b.setBudget({ scope: "profile", key: "coder", limit_micro_usd: DOLLAR });
    const card = await running(b, "coder");
    await spend(b, card, DOLLAR);
    expect(await blockColumns(b, card.id)).toMatchObject({ status: "blocked", block_kind: "budget" });
    expect((await b.claimNext(b.readyLane(), {}, 1)).claimed).toEqual([]);
    expect((await b.requireTask(card.id)).status).toBe("blocked");

    b.clock.set(NEXT_MIDNIGHT + 1);
    const walk = await b.claimNext(b.readyLane(), {}, 1);
    expect(walk.claimed.map((c) => c.task_id)).toEqual([card.id]);
    // Paused a second time: blocked again, not sent to triage as a block loop.
    const again = (await b.requireTask(card.id)).current_run_id as number;
    await spend(b, { id: card.id, run: again }, DOLLAR);
    expect(await blockColumns(b, card.id)).toEqual({ status: "blocked", block_kind: "budget", block_recurrences: 0 });
  });
});

describe("a card's budget", () => {
  it("counts the card with every card below it, pauses them all and holds their ready children", async () => {
    const b = board();
    const parent = await running(b, "lead");
    const child = await running(b, "coder", { parent: parent.id });
    const waiting = (await b.createTask({ title: "later", assignee: "coder", parents: [child.id] })).id;
    await b.setBudget({ scope: "card", key: parent.id, limit_micro_usd: 5 * DOLLAR, warn_percent: 50 });
    const outside = await running(b, "coder");

    await spend(b, child, 3 * DOLLAR);
    expect(await kinds(b, child.id)).toContain("budget_warning");
    await spend(b, outside, 10 * DOLLAR); // not below the parent: counts nothing
    expect((await b.requireTask(child.id)).status).toBe("running");
    await spend(b, parent, 2 * DOLLAR);
    expect((await b.requireTask(parent.id)).status).toBe("blocked");
    expect((await b.requireTask(child.id)).status).toBe("blocked");
    expect((await b.requireTask(outside.id)).status).toBe("running");
    const [view] = await b.listBudgets();
    expect(view).toMatchObject({ scope: "card", key: parent.id, period: "life", spent_micro_usd: 5 * DOLLAR });

    // The grandchild, once ready, is held by its ancestor's budget (no end of day for a card's).
    await rawSql(b).run("UPDATE tasks SET status = 'ready' WHERE id = ?", waiting);
    const walk = await b.claimNext(b.readyLane(), {}, 5);
    expect(walk.skipped.find((s) => s.task_id === waiting)).toMatchObject({
      reason: "budget",
      hold: { scope: "card", key: parent.id, until: null },
    });

    const allowed = await b.allowBudget({ scope: "card", key: parent.id, amount_micro_usd: DOLLAR });
    expect(allowed.resumed.sort()).toEqual([parent.id, child.id].sort());
  });
});

describe("budgets per tenant", () => {
  it("a tenant sets, sees and allows only its own budgets, which count only its own spend", async () => {
    const b = board();
    const acme = scopeBoard(b, { tenant: "acme" });
    const globex = scopeBoard(b, { tenant: "globex" });
    await acme.setBudget({ scope: "board", limit_micro_usd: 2 * DOLLAR });
    await b.setBudget({ scope: "board", limit_micro_usd: 100 * DOLLAR });
    const theirs = await running(b, "coder", { tenant: "globex" });
    const mine = await running(b, "coder", { tenant: "acme" });

    await spend(b, theirs, 5 * DOLLAR);
    expect((await b.requireTask(mine.id)).status).toBe("running");
    await spend(b, mine, 2 * DOLLAR);
    expect((await b.requireTask(mine.id)).status).toBe("blocked");
    expect((await b.requireTask(theirs.id)).status).toBe("running");

    expect((await acme.listBudgets()).map((v) => [v.scope, v.tenant, v.spent_micro_usd])).toEqual([
      ["board", "acme", 2 * DOLLAR],
    ]);
    expect(await globex.listBudgets()).toEqual([]);
    expect((await b.listBudgets()).map((v) => v.tenant).sort()).toEqual(["acme", null].sort());
    // Another tenant's card or tenant is out of reach, and a budget nobody set cannot be raised.
    expect((await caught(() => globex.setBudget({ scope: "card", key: mine.id, limit_micro_usd: 1 }))).code).toBe(
      "NOT_FOUND",
    );
    expect((await caught(() => acme.setBudget({ scope: "tenant", key: "globex", limit_micro_usd: 1 }))).code).toBe(
      "INVALID_INPUT",
    );
    expect((await caught(() => globex.allowBudget({ scope: "board", amount_micro_usd: DOLLAR }))).code).toBe(
      "NOT_FOUND",
    );
    expect((await acme.allowBudget({ scope: "board", amount_micro_usd: DOLLAR })).resumed).toEqual([mine.id]);
  });

  it("refuses an unknown scope, a profile without a key and amounts that are not whole micro-dollars", async () => {
    const b = board();
    expect((await caught(() => b.setBudget({ scope: "week", limit_micro_usd: 1 }))).code).toBe("INVALID_INPUT");
    expect((await caught(() => b.setBudget({ scope: "profile", limit_micro_usd: 1 }))).code).toBe("INVALID_INPUT");
    expect((await caught(() => b.setBudget({ scope: "board", limit_micro_usd: 1.5 }))).code).toBe("INVALID_INPUT");
    expect((await caught(() => b.setBudget({ scope: "board", limit_micro_usd: 1, warn_percent: 0 }))).code).toBe(
      "INVALID_INPUT",
    );
    await b.setBudget({ scope: "board", limit_micro_usd: DOLLAR });
    expect((await caught(() => b.allowBudget({ scope: "board", amount_micro_usd: 0 }))).code).toBe("INVALID_INPUT");
  });
});
