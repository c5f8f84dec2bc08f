import { describe, expect, it } from "vitest";
import { addLabels, isLabelsRefusal, MAX_LABELS, requiresOf, sameLabels } from "./labels.ts";

describe("addLabels", () => {
  it("lower-cases, trims and splits on commas and spaces, dropping duplicates", () => {
    expect(addLabels([], " MacOS, xcode  gpu ")).toEqual({ labels: ["macos", "xcode", "gpu"], error: null });
    expect(addLabels(["macos"], "macos,MACOS")).toEqual({ labels: ["macos"], error: null });
    expect(addLabels(["a"], "")).toEqual({ labels: ["a"], error: null });
  });

  it("accepts the kernel's alphabet: digits, dots, underscores and dashes after the first character", () => {
    expect(addLabels([], "cuda-12.4 arm_64 9x")).toEqual({ labels: ["cuda-12.4", "arm_64", "9x"], error: null });
    expect(addLabels([], "x".repeat(64)).error).toBeNull();
  });

  it("names a label that breaks the rule and keeps the good ones typed before it", () => {
    const r = addLabels(["macos"], "gpu, -dash, later");
    expect(r.labels).toEqual(["macos", "gpu"]);
    expect(r.error).toContain("'-dash' is not a label");
    expect(addLabels([], "mac/os").error).toContain("'mac/os' is not a label");
    expect(addLabels([], "x".repeat(65)).error).toContain("is not a label");
  });

  it("refuses a label past the limit of 16", () => {
    const full = Array.from({ length: MAX_LABELS }, (_, i) => `l${i}`);
    const r = addLabels(full, "one-more");
    expect(r.labels).toEqual(full);
    expect(r.error).toBe("A task can require at most 16 labels.");
  });
});

describe("sameLabels and requiresOf", () => {
  it("compares as sets", () => {
    expect(sameLabels(["a", "b"], ["b", "a"])).toBe(true);
    expect(sameLabels(["a"], ["a", "b"])).toBe(false);
    expect(sameLabels(["a", "c"], ["a", "b"])).toBe(false);
  });

  it("reads a missing or odd requires (an older server) as none", () => {
    expect(requiresOf({})).toEqual([]);
    expect(requiresOf({ requires: null })).toEqual([]);
    expect(requiresOf({ requires: ["macos"] })).toEqual(["macos"]);
  });
});

describe("isLabelsRefusal", () => {
  it("tells a refusal about the required labels from any other", () => {
    expect(isLabelsRefusal("requires: 'mac/os' is not a valid label")).toBe(true);
    expect(isLabelsRefusal("A task can require at most 16 labels")).toBe(true);
    expect(isLabelsRefusal("title must not be empty")).toBe(false);
    expect(isLabelsRefusal("unknown parent t_1234")).toBe(false);
  });
});
