import { describe, expect, it } from "vitest";
import { assigneeWarning } from "./assignee-check.ts";

describe("assigneeWarning", () => {
  it("is quiet for no assignee, a known profile, or before the profiles are known", () => {
    expect(assigneeWarning("", { source: "config", names: ["coder"] })).toBeNull();
    expect(assigneeWarning(" coder ", { source: "config", names: ["coder"] })).toBeNull();
    expect(assigneeWarning("anyone", undefined)).toBeNull();
  });
  it("names the profiles there are, from config.json or from Hermes", () => {
    expect(assigneeWarning("codr", { source: "config", names: ["coder", "writer"] })).toBe(
      "'codr' is not a profile in config.json (profiles: coder, writer): no worker will ever be started for this card.",
    );
    expect(assigneeWarning("alice", { source: "hermes", names: ["default"] })).toMatch(
      /^'alice' is not a Hermes profile on this host \(profiles: default\)/,
    );
  });
});
