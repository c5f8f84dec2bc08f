import { describe, expect, it } from "vitest";
import { hasFilters, matchesFilters, NO_FILTERS } from "./filter.ts";

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
