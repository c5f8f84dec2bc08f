import { describe, expect, it } from "vitest";
import { canCreateIn, columnLabel, visibleColumns } from "./columns.ts";

const cols = ["triage", "todo", "scheduled", "ready", "running", "blocked", "review", "done", "archived"].map(
  (name) => ({
    name,
    total: name === "review" ? 2 : 0,
  }),
);

describe("visibleColumns", () => {
  it("shows the core columns, scheduled/review only when used, archived only when asked", () => {
    expect(visibleColumns(cols, false).map((c) => c.name)).toEqual([
      "triage",
      "todo",
      "ready",
      "running",
      "blocked",
      "review",
      "done",
    ]);
    expect(visibleColumns(cols, true).map((c) => c.name)).toContain("archived");
  });
  it("labels running as In progress and passes unknown statuses through", () => {
    expect(columnLabel("running")).toBe("In progress");
    expect(columnLabel("mystery")).toBe("mystery");
  });
  it("offers + only where a person can put a new task", () => {
    expect(["triage", "todo", "ready", "blocked", "running", "done", "archived"].filter(canCreateIn)).toEqual([
      "triage",
      "todo",
      "ready",
      "blocked",
    ]);
  });
});
