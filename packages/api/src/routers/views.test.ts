import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { codeOf, createTestApi, type TestApi } from "../testing.ts";

let t: TestApi;
beforeEach(() => {
  t = createTestApi();
});
afterEach(() => t.cleanup());

describe("views (saved board views)", () => {
  it("saves filters under a name, replaces them on a second save, lists by name and deletes", async () => {
    const saved = await t.api.views.save({ name: "  Coder's queue ", assignee: "Coder", search: "migration " });
    expect(saved).toMatchObject({
      name: "Coder's queue",
      query: { search: "migration", tenant: null, assignee: "coder", include_archived: false },
      created_by: null,
    });
    await t.api.views.save({ name: "archive", include_archived: true, created_by: "ana" });
    await t.api.views.save({ name: "Coder's queue", assignee: "coder", created_by: "ben" });
    const { views } = await t.api.views.list();
    expect(views.map((v) => [v.name, v.query.search, v.created_by])).toEqual([
      ["Coder's queue", null, "ben"],
      ["archive", null, "ana"],
    ]);
    expect(await t.api.views.delete({ name: "archive" })).toEqual({ deleted: true, name: "archive" });
    expect((await t.api.views.list()).views.map((v) => v.name)).toEqual(["Coder's queue"]);
    expect(await codeOf(t.api.views.delete({ name: "archive" }))).toBe("NOT_FOUND");
  });

  it("refuses a name that is empty, too long or holds control characters, in one line", async () => {
    for (const name of ["   ", "x".repeat(81), "a\nb"]) {
      expect(await codeOf(t.api.views.save({ name }))).toBe("BAD_REQUEST");
    }
    expect((await t.api.views.list()).views).toEqual([]);
  });

  it("keeps each tenant's views its own, and the operator's apart from them", async () => {
    const acme = t.caller("acme");
    const zeta = t.caller("zeta");
    await acme.views.save({ name: "mine", search: "acme work" });
    await zeta.views.save({ name: "mine", search: "zeta work" });
    await t.api.views.save({ name: "ops", search: "everything" });
    expect((await acme.views.list()).views.map((v) => v.query.search)).toEqual(["acme work"]);
    expect((await zeta.views.list()).views.map((v) => v.query.search)).toEqual(["zeta work"]);
    expect((await t.api.views.list()).views.map((v) => v.name)).toEqual(["ops"]);
    expect(await codeOf(acme.views.delete({ name: "ops" }))).toBe("NOT_FOUND");
    await acme.views.delete({ name: "mine" });
    expect((await zeta.views.list()).views.map((v) => v.name)).toEqual(["mine"]);
  });
});
