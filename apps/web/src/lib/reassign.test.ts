import { describe, expect, it } from "vitest";
import { reassignRefusal, reassignTargets } from "./reassign.ts";

describe("reassignTargets", () => {
  it("offers every other profile, never the current one", () => {
    expect(reassignTargets(["writer", "coder", "coder", "reviewer"], "coder")).toEqual(["reviewer", "writer"]);
    expect(reassignTargets(["coder"], "coder")).toEqual([]);
    expect(reassignTargets(["b", "a", " "], null)).toEqual(["a", "b"]);
  });
});

describe("reassignRefusal", () => {
  it("refuses a reassignment to the same profile (or unassigning an unassigned task)", () => {
    expect(reassignRefusal("coder", "coder")).toMatch(/already assigned to coder/);
    expect(reassignRefusal("", null)).toMatch(/already unassigned/);
    expect(reassignRefusal("writer", "coder")).toBeNull();
    expect(reassignRefusal("", "coder")).toBeNull();
  });
});
