import { describe, expect, it } from "vitest";
import { NO_FILTERS } from "./filter.ts";
import { currentView, filtersOfView } from "./saved-views.ts";

const view = (name: string, q: Partial<Parameters<typeof filtersOfView>[0]>) => ({
  name,
  query: { search: null, tenant: null, assignee: null, include_archived: false, ...q },
});

describe("saved views on the board", () => {
  it("opens a view as the board's filters", () => {
    expect(filtersOfView(view("a", { search: "needle", assignee: "coder", include_archived: true }).query)).toEqual({
      filters: { search: "needle", tenant: null, assignee: "coder" },
      archived: true,
    });
  });

  it("names the view the board shows only when every filter is the view's", () => {
    const views = [view("coder", { assignee: "coder" }), view("needles", { search: "needle" })];
    expect(currentView(views, { ...NO_FILTERS, assignee: "Coder" }, false)?.name).toBe("coder");
    expect(currentView(views, { ...NO_FILTERS, search: " needle " }, false)?.name).toBe("needles");
    expect(currentView(views, { ...NO_FILTERS, search: "needle" }, true)).toBeNull();
    expect(currentView(views, NO_FILTERS, false)).toBeNull();
  });
});
