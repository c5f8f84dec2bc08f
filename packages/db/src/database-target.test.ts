import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { databaseLabel, databaseTarget, liveEventsSettings, resolveDatabaseTarget } from "./database-target.ts";
import { KanbanDbError } from "./errors.ts";
import { parseHomeConfig } from "./home-config.ts";

const URL_A = "postgres://kanban:pw-a-secret@db-a:5432/boards";
const URL_B = "postgres://kanban:pw-b-secret@db-b:6543/other";

const homes: string[] = [];
afterEach(() => {
  for (const h of homes.splice(0)) fs.rmSync(h, { recursive: true, force: true });
});
function homeWith(configText?: string): string {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "kanban-dbtarget-"));
  homes.push(home);
  if (configText !== undefined) fs.writeFileSync(path.join(home, "config.json"), configText);
  return home;
}

function refusal(fn: () => unknown): KanbanDbError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(KanbanDbError);
    return err as KanbanDbError;
  }
  throw new Error("expected a refusal");
}

describe("databaseTarget: the one rule that picks the engine", () => {
  it("SQLite with neither the variable nor config.json's database", () => {
    expect(databaseTarget({}, null)).toEqual({ engine: "sqlite" });
    expect(databaseTarget({}, { database: "" })).toEqual({ engine: "sqlite" });
    expect(databaseTarget({}, { database: "  " })).toEqual({ engine: "sqlite" });
  });

  it("config.json's database when the variable is absent; the variable wins over it", () => {
    expect(databaseTarget({}, { database: URL_A })).toEqual({ engine: "postgres", url: URL_A, source: "config.json" });
    expect(databaseTarget({ KANBAN_DATABASE_URL: URL_B }, { database: URL_A })).toEqual({
      engine: "postgres",
      url: URL_B,
      source: "KANBAN_DATABASE_URL",
    });
  });

  it("a variable set but empty means SQLite, even when config.json names a server", () => {
    expect(databaseTarget({ KANBAN_DATABASE_URL: "" }, { database: URL_A })).toEqual({ engine: "sqlite" });
  });

  it("KANBAN_DB pins an SQLite file over config.json, and is refused beside KANBAN_DATABASE_URL without naming the URL", () => {
    expect(databaseTarget({ KANBAN_DB: "/tmp/x.db" }, { database: URL_A })).toEqual({ engine: "sqlite" });
    const err = refusal(() => databaseTarget({ KANBAN_DB: "/tmp/x.db", KANBAN_DATABASE_URL: URL_A }, null));
    expect(err.code).toBe("CONFIG_INVALID");
    expect(err.message).not.toContain("pw-a-secret");
  });
});

describe("resolveDatabaseTarget reads config.json", () => {
  it("uses the file's database, and refuses an invalid file that names one (never falling back to SQLite)", () => {
    expect(resolveDatabaseTarget({}, homeWith(JSON.stringify({ database: URL_A })))).toMatchObject({
      engine: "postgres",
      url: URL_A,
    });
    expect(resolveDatabaseTarget({}, homeWith())).toEqual({ engine: "sqlite" });
    const broken = homeWith(`{ "database": "${URL_A}", "kanban": { "failure_limt": 2 } }`);
    const err = refusal(() => resolveDatabaseTarget({}, broken));
    expect(err.code).toBe("CONFIG_INVALID");
    expect(err.message).toContain("failure_limt");
    expect(err.message).not.toContain("pw-a-secret");
    // An invalid file that names no database keeps today's behaviour: SQLite on the defaults.
    expect(resolveDatabaseTarget({}, homeWith('{ "kanban": { "failure_limt": 2 } }'))).toEqual({ engine: "sqlite" });
    // The variable decides without reading the file at all.
    expect(resolveDatabaseTarget({ KANBAN_DATABASE_URL: URL_B }, broken)).toMatchObject({ url: URL_B });
  });

  it("config.json refuses a database that is not a string, without quoting the value", () => {
    const err = refusal(() => parseHomeConfig({ database: { url: URL_A } }));
    expect(err.message).toMatch(/^invalid config\.json: database: /);
    expect(err.message).not.toContain("pw-a-secret");
  });
});

describe("what may be shown of a URL", () => {
  it("host, port and database (and the board's schema), never the user or password", () => {
    expect(databaseLabel(URL_A)).toBe("postgres://db-a:5432/boards");
    expect(databaseLabel(URL_B, "proj")).toBe("postgres://db-b:6543/other#kanban_proj");
    expect(databaseLabel("mysql://root:hunter2@x/y")).toBe("postgres://(invalid URL)");
  });

  it("KANBAN_DATABASE_LISTEN is listen (default) or poll, with an optional direct URL", () => {
    expect(liveEventsSettings({})).toEqual({ mode: "listen", url: null });
    expect(liveEventsSettings({ KANBAN_DATABASE_LISTEN: "POLL", KANBAN_DATABASE_LISTEN_URL: URL_B })).toEqual({
      mode: "poll",
      url: URL_B,
    });
    expect(refusal(() => liveEventsSettings({ KANBAN_DATABASE_LISTEN: "notify" })).code).toBe("CONFIG_INVALID");
  });
});
