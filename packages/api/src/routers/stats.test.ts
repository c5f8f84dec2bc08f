import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { codeOf, createTestApi, type TestApi } from "../testing.ts";

// Issue 21, flow through the API: the kernel's figures (flow.test.ts), tenant-scoped, bad windows refused.

describe("stats.flow", () => {
  let t: TestApi;
  beforeEach(() => {
    t = createTestApi();
  });
  afterEach(() => t.cleanup());

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
