import { describe, expect, it } from "vitest";
import { warningKindLabel, warningsTitle } from "./warnings.ts";

describe("warning badge labels", () => {
  it("names each diagnostic kind in words, with its count", () => {
    expect(
      warningsTitle({
        count: 2,
        kinds: { stranded_in_ready: 1, hallucinated_cards: 1 },
        latest_at: 0,
        highest_severity: "error",
      }),
    ).toBe("ready but not picked up ×1, completion named cards that do not exist ×1");
  });

  it("shows a kind it does not know (from a newer server) as its name", () => {
    expect(warningKindLabel("brand_new_rule")).toBe("brand new rule");
  });
});
