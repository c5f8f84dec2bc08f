import fs from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createTestApi, type TestApi } from "../testing.ts";
import { TENANT_CONFIG_ERROR } from "./config.ts";

let t: TestApi;
beforeEach(() => {
  t = createTestApi();
});
afterEach(() => t.cleanup());

const TOKEN = "acme-secret-token-0123456789";

describe("config.get reports the health of config.json", () => {
  it("is clean with no file and with a valid one", async () => {
    expect(await t.api.config.get()).toMatchObject({ config_error: null, config_warnings: [], failure_limit: 2 });
    t.writeConfig({ kanban: { failure_limit: 4 } });
    expect(await t.api.config.get()).toMatchObject({ config_error: null, failure_limit: 4 });
  });

  it("answers with a one-line error for bad JSON and for a misspelt key, instead of failing", async () => {
    fs.writeFileSync(path.join(t.dir, "config.json"), '{ "kanban": { "failure_limit": 3, } }');
    const bad = await t.api.config.get();
    expect(bad.config_error).toMatch(/config\.json/);
    expect(bad.config_error).not.toContain("\n");
    // Settings fall back (defaults here: no valid file was seen) rather than the call failing.
    expect(bad.failure_limit).toBe(2);

    t.writeConfig({ kanban: { failure_limt: 3 } });
    const misspelt = await t.api.config.get();
    expect(misspelt.config_error).toMatch(/failure_limt/);
    expect(misspelt.config_error).toMatch(/failure_limit/); // the suggestion
  });

  it("never includes a token, and tells a tenant only that the file is broken", async () => {
    t.writeConfig({ tenant_tokens: { [TOKEN]: "acme", short: "globex" }, kanban: { failure_limt: 3 } });
    const admin = await t.api.config.get();
    expect(JSON.stringify(admin)).not.toContain(TOKEN);
    expect(JSON.stringify(admin)).not.toContain("short");
    const tenant = await t.caller("acme").config.get();
    expect(tenant.config_error).toBe(TENANT_CONFIG_ERROR);
    expect(tenant.config_warnings).toEqual([]);
  });

  it("lists ignored entries as warnings, to the operator only", async () => {
    t.writeConfig({ tenant_tokens: { [TOKEN]: "acme", "too-short": "globex" } });
    const admin = await t.api.config.get();
    expect(admin.config_error).toBeNull();
    expect(admin.config_warnings.length).toBe(1);
    expect(admin.config_warnings[0]).not.toContain("too-short");
    expect((await t.caller("acme").config.get()).config_warnings).toEqual([]);
  });
});

describe("config.get known_profiles", () => {
  it("names the configured profiles, else the Hermes ones on disk (default always)", async () => {
    t.writeConfig({ profiles: { coder: { command: ["node", "-e", "0"] }, writer: { command: ["node", "-e", "0"] } } });
    expect((await t.api.config.get()).known_profiles).toEqual({ source: "config", names: ["coder", "writer"] });
    const hermes = path.join(t.dir, "hermes");
    fs.mkdirSync(path.join(hermes, "profiles", "researcher"), { recursive: true });
    fs.writeFileSync(path.join(hermes, "profiles", "researcher", "config.yaml"), "model: x\n");
    fs.mkdirSync(path.join(hermes, "profiles", "half-made"), { recursive: true }); // no config.yaml: not a profile
    t.writeConfig({});
    const before = process.env.HERMES_HOME;
    process.env.HERMES_HOME = hermes;
    try {
      // The context reads HERMES_HOME when it is made, as a server does at start.
      expect((await t.caller().config.get()).known_profiles).toEqual({
        source: "hermes",
        names: ["default", "researcher"],
      });
    } finally {
      if (before === undefined) delete process.env.HERMES_HOME;
      else process.env.HERMES_HOME = before;
    }
  });
});
