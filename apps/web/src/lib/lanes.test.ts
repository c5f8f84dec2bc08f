import { describe, expect, it } from "vitest";
import { columnItems } from "./lanes.ts";

const cards = [
  { id: "1", assignee: "writer" },
  { id: "2", assignee: null },
  { id: "3", assignee: "coder" },
  { id: "4", assignee: "writer" },
];

describe("columnItems", () => {
  it("is a plain list without lanes", () => {
    expect(columnItems(cards, false).map((i) => i.key)).toEqual(["1", "2", "3", "4"]);
  });
  it("groups by assignee, alphabetically, unassigned last, keeping the order inside a lane", () => {
    const items = columnItems(cards, true);
    expect(items.map((i) => (i.kind === "lane" ? `[${i.label} ${i.count}]` : i.key))).toEqual([
      "[coder 1]",
      "3",
      "[writer 2]",
      "1",
      "4",
      "[(unassigned) 1]",
      "2",
    ]);
  });
});
