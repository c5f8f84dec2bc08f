import { describe, expect, it } from "vitest";
import { KanbanDbError } from "./errors.ts";
import { parseHomeConfig, priceTableOf } from "./home-config.ts";

// Issue 21: config.json's price table (top-level by model, and per profile) that prices tokens a
// worker reports without a cost.

const sonnet = { input_per_mtok: 3, output_per_mtok: 15, cache_read_per_mtok: 0.3, cache_write_per_mtok: 3.75 };
const profile = { command: ["worker"] };

describe("prices in config.json", () => {
  it("defaults to none, and reads top-level and per-profile prices into one table", () => {
    expect(priceTableOf(parseHomeConfig({}))).toEqual({ models: {}, profiles: {}, profileModels: {} });
    const config = parseHomeConfig({
      prices: { sonnet, "*": { input_per_mtok: 1, output_per_mtok: 2 } },
      profiles: {
        coder: profile,
        reviewer: { ...profile, prices: { sonnet: { input_per_mtok: 1.5, output_per_mtok: 7.5 } } },
      },
    });
    expect(priceTableOf(config)).toEqual({
      models: { sonnet, "*": { input_per_mtok: 1, output_per_mtok: 2 } },
      profiles: { reviewer: { sonnet: { input_per_mtok: 1.5, output_per_mtok: 7.5 } } },
      profileModels: {},
    });
    const models = parseHomeConfig({ profiles: { coder: { ...profile, model: "sonnet" } } });
    expect(priceTableOf(models).profileModels).toEqual({ coder: "sonnet" });
  });

  it("refuses a negative price, a seventh decimal, a missing output price or an unknown key, naming the key", () => {
    for (const bad of [
      { prices: { sonnet: { ...sonnet, input_per_mtok: -1 } } },
      { prices: { sonnet: { ...sonnet, input_per_mtok: 0.0000001 } } },
      { prices: { sonnet: { input_per_mtok: 3 } } },
      { prices: { sonnet: { ...sonnet, per_request: 1 } } },
      { profiles: { coder: { ...profile, prices: { sonnet: { input_per_mtok: "3", output_per_mtok: 1 } } } } },
    ]) {
      let err: unknown;
      try {
        parseHomeConfig(bad);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(KanbanDbError);
      expect((err as KanbanDbError).code).toBe("CONFIG_INVALID");
      expect((err as KanbanDbError).message).toMatch(/prices/);
    }
  });
});
