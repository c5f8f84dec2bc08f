import { describe, expect, it } from "vitest";
import { hasFilters, matchesFilters, NO_FILTERS, viewFromParams, viewToParams } from "./filter.ts";

const task = {
  id: "t_abc",
  title: "Fix the Login page",
  body: "see **spec**",
  result: null,
  latest_summary: "patched oauth",
  assignee: "coder",
  tenant: "acme",
};

describe("matchesFilters", () => {
  it("matches everything without filters", () => {
    expect(matchesFilters(task, NO_FILTERS)).toBe(true);
    expect(hasFilters(NO_FILTERS)).toBe(false);
  });
  it("searches id, title, body, summary, assignee and tenant case-insensitively", () => {
    for (const q of ["T_ABC", "login", "SPEC", "oauth", "Coder", "acm"]) {
      expect(matchesFilters(task, { ...NO_FILTERS, search: q })).toBe(true);
    }
    expect(matchesFilters(task, { ...NO_FILTERS, search: "nothing-like-it" })).toBe(false);
  });
  it("filters by tenant and assignee exactly", () => {
    expect(matchesFilters(task, { ...NO_FILTERS, tenant: "acme" })).toBe(true);
    expect(matchesFilters(task, { ...NO_FILTERS, tenant: "acm" })).toBe(false);
    expect(matchesFilters(task, { ...NO_FILTERS, assignee: "CODER" })).toBe(true);
    expect(matchesFilters({ ...task, assignee: null }, { ...NO_FILTERS, assignee: "coder" })).toBe(false);
    expect(hasFilters({ ...NO_FILTERS, tenant: "acme" })).toBe(true);
  });
});

describe("the view in the URL", () => {
  it("reads the filters a URL names and says which it named", () => {
    const v = viewFromParams(new URLSearchParams("q=needle&assignee=coder&archived=1"));
    expect(v.filters).toEqual({ search: "needle", tenant: null, assignee: "coder" });
    expect(v.archived).toBe(true);
    expect(v.named).toEqual({ tenant: false, archived: true });
    const bare = viewFromParams(new URLSearchParams("board=main"));
    expect(bare).toEqual({ filters: NO_FILTERS, named: { tenant: false, archived: false }, archived: null });
  });

  it("writes a view back as parameters that read the same, dropping what is not set", () => {
    const f = { search: " needle ", tenant: "acme", assignee: null };
    const params = viewToParams(f, false);
    expect(params).toEqual({ q: "needle", tenant: "acme", assignee: null, archived: null });
    const url = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== null) url.set(k, v);
    expect(viewFromParams(url).filters).toEqual({ search: "needle", tenant: "acme", assignee: null });
  });
});
