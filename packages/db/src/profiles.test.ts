import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { hermesHomeFromEnv, hermesProfileExists, knownProfiles, listHermesProfiles } from "./profiles.ts";
import { makeTempDir } from "./testing.ts";

const temps: { cleanup: () => void }[] = [];
afterEach(() => {
  for (const t of temps.splice(0)) t.cleanup();
});

function hermesHome(profiles: string[]): string {
  const t = makeTempDir("kanban-profiles-");
  temps.push(t);
  for (const p of profiles) {
    fs.mkdirSync(path.join(t.dir, "profiles", p), { recursive: true });
    fs.writeFileSync(path.join(t.dir, "profiles", p, "config.yaml"), "model: x\n");
  }
  // A directory without config.yaml is not a profile.
  fs.mkdirSync(path.join(t.dir, "profiles", "half-made"), { recursive: true });
  return t.dir;
}

describe("known profiles", () => {
  it("with no profiles configured: default plus the Hermes profiles on disk (those with a config.yaml)", () => {
    const h = hermesHome(["writer", "coder"]);
    expect(listHermesProfiles(h)).toEqual(["coder", "default", "writer"]);
    expect(hermesProfileExists(h, "coder")).toBe(true);
    expect(hermesProfileExists(h, "half-made")).toBe(false);
    expect(hermesProfileExists(h, "../etc")).toBe(false);
    expect(knownProfiles({ profiles: {} }, h)).toEqual({
      source: "hermes",
      names: ["coder", "default", "writer"],
      hermesHome: h,
    });
  });

  it("with profiles configured: exactly those, whatever Hermes has", () => {
    const h = hermesHome(["writer"]);
    expect(
      knownProfiles(
        { profiles: { zed: { command: ["a"], env: {}, skills: [] }, alice: { command: ["a"], env: {}, skills: [] } } },
        h,
      ),
    ).toEqual({
      source: "config",
      names: ["alice", "zed"],
      hermesHome: null,
    });
  });

  it("a missing Hermes home has only default; HERMES_HOME wins over ~/.hermes", () => {
    expect(listHermesProfiles("/nonexistent/hermes")).toEqual(["default"]);
    expect(hermesHomeFromEnv({ HERMES_HOME: "/opt/h" })).toBe("/opt/h");
    expect(hermesHomeFromEnv({})).toMatch(/\.hermes$/);
  });
});
