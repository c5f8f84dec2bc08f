import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { codeOf, createTestApi, type TestApi } from "../testing.ts";

// Issue 21, flow through the API: the kernel's figures (flow.test.ts), tenant-scoped, bad windows refused.

let t: TestApi;
beforeEach(() => {
  t = createTestApi();
});
afterEach(() => t.cleanup());

describe("stats.flow", () => {
  async function doneCard(title: string, tenant?: string): Promise<string> {
    const { task } = await t.api.tasks.create({ title, assignee: "coder", ...(tenant ? { tenant } : {}) });
    await t.board().claimTask(task.id);
    await t.api.tasks.complete({ id: task.id, summary: "ok" });
    return task.id;
  }

  it("answers the last 30 days by default; a tenant's token measures its own cards only", async () => {
    await doneCard("a", "acme");
    await doneCard("b", "zeta");
    await doneCard("c");
    const all = await t.api.stats.flow();
    expect(all.done).toBe(3);
    expect(all.until - all.since).toBe(30 * 86_400);
    expect(all.rework.runs_per_done_card).toBe(1);
    expect(all.by_profile).toEqual([
      { profile: "coder", runs: 3, completed: 3, success_rate: 1, outcomes: { completed: 3 } },
    ]);
    const acme = await t.caller("acme").stats.flow({});
    expect(acme.done).toBe(1);
    expect(acme.by_profile[0]?.runs).toBe(1);
  });

  it("refuses a reversed or over-long window with BAD_REQUEST, and a non-integer time at the schema", async () => {
    const now = Math.floor(Date.now() / 1000);
    expect(await codeOf(t.api.stats.flow({ since: now, until: now - 10 }))).toBe("BAD_REQUEST");
    expect(await codeOf(t.api.stats.flow({ since: now - 400 * 86_400, until: now }))).toBe("BAD_REQUEST");
    expect(await codeOf(t.api.stats.flow({ since: 1.5 }))).toBe("BAD_REQUEST");
  });
});

describe("stats.flowBlocked", () => {
  it("lists the cards behind a blocked reason, in the order first blocked, each once; a tenant sees its own", async () => {
    const create = async (title: string, tenant?: string) =>
      (await t.board().createTask({ title, assignee: "coder", ...(tenant ? { tenant } : {}) })).id;
    const a = await create("a", "acme");
    const b = await create("b", "zeta");
    const c = await create("c");
    const block = async (id: string, kind?: string) => {
      t.clock.advance(60);
      await t.api.tasks.block({ id, reason: "waiting", ...(kind ? { kind } : {}) });
      await t.api.tasks.unblock({ id });
    };
    // Untyped blocks (a typed one twice in a row would be a loop, to triage).
    await block(b);
    await block(a);
    await block(b); // a second episode of the same card: listed once
    await block(c, "needs_input");
    await t.api.tasks.archive({ id: a }); // archived cards still count, as in flow
    const untyped = await t.api.stats.flowBlocked({ reason: "untyped" });
    expect(untyped.cards.map((x) => [x.id, x.title, x.status])).toEqual([
      [b, "b", "ready"],
      [a, "a", "archived"],
    ]);
    expect(untyped.more).toBe(false);
    // The same cards as flow's row for that reason counts episodes of.
    const flow = await t.api.stats.flow();
    expect(flow.blocked.find((r) => r.reason === "untyped")?.episodes).toBe(3);
    expect((await t.api.stats.flowBlocked({ reason: "needs_input" })).cards.map((x) => x.id)).toEqual([c]);
    expect(await t.api.stats.flowBlocked({ reason: "untyped", limit: 1 })).toMatchObject({
      cards: [{ id: b }],
      more: true,
    });
    expect((await t.caller("acme").stats.flowBlocked({ reason: "untyped" })).cards.map((x) => x.id)).toEqual([a]);
    // A window that ends before the first block: nothing; one that starts after it: only the later card.
    const first = untyped.cards[0]?.blocked_at as number;
    expect((await t.api.stats.flowBlocked({ reason: "untyped", until: first })).cards).toEqual([]);
    expect((await t.api.stats.flowBlocked({ reason: "untyped", since: first + 1 })).cards.map((x) => x.id)).toEqual([
      a,
      b,
    ]);
  });

  it("refuses an empty reason, a bad limit and a reversed window with BAD_REQUEST", async () => {
    const now = Math.floor(Date.now() / 1000);
    expect(await codeOf(t.api.stats.flowBlocked({ reason: "" }))).toBe("BAD_REQUEST");
    expect(await codeOf(t.api.stats.flowBlocked({ reason: "x", limit: 0 }))).toBe("BAD_REQUEST");
    expect(await codeOf(t.api.stats.flowBlocked({ reason: "x", limit: 1001 }))).toBe("BAD_REQUEST");
    expect(await codeOf(t.api.stats.flowBlocked({ reason: "x", since: now, until: now - 1 }))).toBe("BAD_REQUEST");
  });
});
