import { afterEach, describe, expect, it } from "vitest";
import { cleanChildEnv } from "../testing.ts";

/** What each variable a test set was before it (npm test sets KANBAN_RUNTIME_BIN itself): put back after. */
const before = new Map<string, string | undefined>();
function setEnv(vars: Record<string, string>): void {
  for (const [k, v] of Object.entries(vars)) {
    if (!before.has(k)) before.set(k, process.env[k]);
    process.env[k] = v;
  }
}
afterEach(() => {
  for (const [k, v] of before) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  before.clear();
});

describe("cleanChildEnv", () => {
  it("drops the shell's KANBAN_* and HERMES_* settings and the prefixes asked, keeps npm test's runtime bundles", () => {
    setEnv({
      KANBAN_HOME: "/home/dev/.kanban",
      KANBAN_TOKEN: "secret",
      HERMES_KANBAN_DB: "/x.db",
      CHAOS_SEED: "7",
      KANBAN_RUNTIME_BIN: "/repo/dist/runtime/bin",
      SOME_TOOL_SETTING: "kept",
    });
    const env = cleanChildEnv(["CHAOS_"]);
    expect(Object.keys(env).filter((k) => /^(KANBAN_|HERMES_|CHAOS_)/.test(k))).toEqual(["KANBAN_RUNTIME_BIN"]);
    expect(env.KANBAN_RUNTIME_BIN).toBe("/repo/dist/runtime/bin");
    expect(env.SOME_TOOL_SETTING).toBe("kept");
    expect(env.PATH).toBe(process.env.PATH);
    expect(cleanChildEnv().CHAOS_SEED).toBe("7");
  });
});
