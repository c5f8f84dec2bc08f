import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, normaliseApiUrl } from "./config.ts";

describe("loadConfig", () => {
  it("reads the worker identity and the transport, blank meaning unset", () => {
    const c = loadConfig({
      KANBAN_URL: "http://127.0.0.1:4100",
      KANBAN_TOKEN: " tok ",
      KANBAN_BOARD: "ops",
      KANBAN_TASK: "t_1",
      KANBAN_RUN_ID: "7",
      KANBAN_CLAIM_LOCK: "host:1",
      KANBAN_PROFILE: "coder",
      KANBAN_TENANT: "",
    });
    expect(c).toMatchObject({
      url: "http://127.0.0.1:4100/trpc",
      token: "tok",
      board: "ops",
      task: "t_1",
      runId: 7,
      claimLock: "host:1",
      profile: "coder",
      tenant: null,
    });
    expect(loadConfig({ KANBAN_BOARD: "ops" }, { board: "dev" }).board).toBe("dev");
    expect(loadConfig({}).url).toBeNull();
    expect(Object.isFrozen(loadConfig({}))).toBe(true);
  });

  it("reports every malformed variable at once", () => {
    expect(() => loadConfig({ KANBAN_URL: "ftp://x", KANBAN_RUN_ID: "-1" })).toThrow(
      new ConfigError(
        "invalid environment: KANBAN_URL: must be an http(s) URL; KANBAN_RUN_ID: must be a positive integer",
      ),
    );
  });

  it("maps a server root to its /trpc endpoint and keeps any other path", () => {
    expect(normaliseApiUrl("http://h:1/")).toBe("http://h:1/trpc");
    expect(normaliseApiUrl("https://h/api/trpc")).toBe("https://h/api/trpc");
    expect(normaliseApiUrl("http://h:1/trpc/")).toBe("http://h:1/trpc");
  });
});
