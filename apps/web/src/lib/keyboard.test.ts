import { describe, expect, it } from "vitest";
import { adjacentStatus, navigate, navKeyOf, onEnter } from "./keyboard.ts";

const grid = [["a1", "a2", "a3"], [], ["c1"], ["d1", "d2"]];

describe("navigate", () => {
  it("lands on the first card when nothing is focused", () => {
    expect(navigate(grid, null, "down")).toBe("a1");
    expect(navigate([[], []], null, "down")).toBeNull();
  });
  it("moves within a column and stops at its ends", () => {
    expect(navigate(grid, "a1", "down")).toBe("a2");
    expect(navigate(grid, "a3", "down")).toBe("a3");
    expect(navigate(grid, "a1", "up")).toBe("a1");
    expect(navigate(grid, "a1", "last")).toBe("a3");
    expect(navigate(grid, "a3", "first")).toBe("a1");
  });
  it("skips empty columns and keeps the row where it can", () => {
    expect(navigate(grid, "a3", "right")).toBe("c1");
    expect(navigate(grid, "c1", "right")).toBe("d1");
    expect(navigate(grid, "d2", "left")).toBe("c1");
    expect(navigate(grid, "a2", "left")).toBe("a2");
    expect(navigate(grid, "d1", "right")).toBe("d1");
  });
  it("recovers when the focused card left the board", () => {
    expect(navigate(grid, "gone", "up")).toBe("a1");
  });
});

describe("navKeyOf", () => {
  it("maps arrows and vim keys", () => {
    expect(["ArrowDown", "j", "ArrowUp", "k", "ArrowLeft", "h", "ArrowRight", "l"].map(navKeyOf)).toEqual([
      "down",
      "down",
      "up",
      "up",
      "left",
      "left",
      "right",
      "right",
    ]);
    expect(navKeyOf("x")).toBeNull();
  });
});

describe("adjacentStatus", () => {
  it("finds the neighbouring column or nothing at the edges", () => {
    const cols = ["todo", "ready", "blocked"];
    expect(adjacentStatus(cols, "ready", 1)).toBe("blocked");
    expect(adjacentStatus(cols, "ready", -1)).toBe("todo");
    expect(adjacentStatus(cols, "blocked", 1)).toBeNull();
    expect(adjacentStatus(cols, "running", 1)).toBeNull();
  });
});

describe("onEnter", () => {
  it("runs on Enter only, and prevents the default there", () => {
    let runs = 0;
    let prevented = 0;
    const handler = onEnter(() => runs++);
    const key = (k: string) => handler({ key: k, preventDefault: () => prevented++ });
    key("a");
    key("Escape");
    key("Enter");
    expect([runs, prevented]).toEqual([1, 1]);
  });
});
