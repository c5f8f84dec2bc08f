import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { codeOf, createTestApi, type TestApi } from "../testing.ts";

// Issue 17, incident folding through the API: list and resume, tenant-scoped, typed errors.

describe("incidents through the API", () => {
  let t: TestApi;
  beforeEach(() => {
    t = createTestApi();
  });
  afterEach(() => t.cleanup());

  /** Three cards of `assignee` whose spawns fail the same way: one incident. */
  async function outage(assignee: string, tenant?: string): Promise<string[]> {
    const board = t.board();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const { task } = await t.api.tasks.create({ title: `w${i}`, assignee, ...(tenant ? { tenant } : {}) });
      await board.claimTask(task.id);
      await board.recordTaskFailure(task.id, {
        error: "HTTP 503 Service Unavailable",
        outcome: "crashed",
        releaseClaim: true,
      });
      ids.push(task.id);
    }
    return ids;
  }

  it("lists open incidents (all with `all`), resumes one as a person; unknown id NOT_FOUND, closed CONFLICT", async () => {
    const ids = await outage("coder");
    const { incidents } = await t.api.incidents.list();
    expect(incidents).toHaveLength(1);
    expect(incidents[0]).toMatchObject({
      scope: "profile",
      scope_key: "coder",
      failures: 3,
      task_ids: ids,
      open: true,
    });
    const id = incidents[0]?.id as number;
    const { incident } = await t.api.incidents.resume({ incident_id: id, by: "alice" });
    expect(incident).toMatchObject({ id, open: false, closed_by: "person:alice" });
    expect((await t.api.incidents.list()).incidents).toEqual([]);
    expect((await t.api.incidents.list({ all: true })).incidents.map((i) => i.id)).toEqual([id]);
    expect(await codeOf(t.api.incidents.resume({ incident_id: id }))).toBe("CONFLICT");
    expect(await codeOf(t.api.incidents.resume({ incident_id: id + 50 }))).toBe("NOT_FOUND");
    expect(await codeOf(t.api.incidents.resume({ incident_id: 0 }))).toBe("BAD_REQUEST");
  });

  it("a tenant's token sees and resumes only incidents of its own cards", async () => {
    await outage("coder", "acme");
    await outage("writer", "zeta");
    const acme = t.caller("acme");
    const mine = (await acme.incidents.list()).incidents;
    expect(mine.map((i) => i.scope_key)).toEqual(["coder"]);
    const all = (await t.api.incidents.list()).incidents;
    expect(all.map((i) => i.scope_key).sort()).toEqual(["coder", "writer"]);
    const zeta = all.find((i) => i.scope_key === "writer")?.id as number;
    expect(await codeOf(acme.incidents.resume({ incident_id: zeta }))).toBe("NOT_FOUND");
    const { incident } = await acme.incidents.resume({ incident_id: mine[0]?.id as number });
    expect(incident.closed_by).toBe("person:tenant:acme");
  });
});
