import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { closestName, editDistance } from "./edit-distance.ts";
import { KanbanDbError } from "./errors.ts";
import { homeConfigReader, loadHomeConfig, parseHomeConfig, readHomeConfigSnapshot } from "./home-config.ts";
import { locateJsonError } from "./json-syntax.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function home(config?: unknown): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kanban-home-config-"));
  dirs.push(dir);
  if (config !== undefined) write(dir, typeof config === "string" ? config : JSON.stringify(config));
  return dir;
}

function write(dir: string, text: string): void {
  fs.writeFileSync(path.join(dir, "config.json"), text);
}

function loadError(dir: string): KanbanDbError {
  try {
    loadHomeConfig(dir);
  } catch (err) {
    if (err instanceof KanbanDbError) return err;
    throw err;
  }
  throw new Error("expected loadHomeConfig to throw");
}

const TOKEN_A = "acme-secret-token-0123456789";
const TOKEN_B = "globex-secret-token-abcdefgh";

describe("config.json keys", () => {
  it("refuses a misspelt key with the key it probably meant, as CONFIG_INVALID", () => {
    const err = loadError(home({ kanban: { failure_limt: 3 } }));
    expect(err.code).toBe("CONFIG_INVALID");
    expect(err.message).toContain('kanban.failure_limt: unknown key; did you mean "failure_limit"?');
    expect(err.details.key).toBe("kanban.failure_limt");

    expect(loadError(home({ profile: {} })).message).toContain('profile: unknown key; did you mean "profiles"?');
    expect(loadError(home({ tenant_token: {} })).message).toContain('did you mean "tenant_tokens"?');
    expect(loadError(home({ profiles: { coder: { command: ["a"], skils: [] } } })).message).toContain(
      'profiles.coder.skils: unknown key; did you mean "skills"?',
    );
    expect(loadError(home({ kanban: { "workspace-roots": [] } })).message).toContain('did you mean "workspace_roots"?');
  });

  it("names an unknown key without a near miss together with the known keys, and hides one that may be a token", () => {
    expect(loadError(home({ colours: 1 })).message).toContain(
      '(root): unknown key "colours"; known keys: kanban, profiles, tenant_tokens, dashboard',
    );
    const err = loadError(home({ [TOKEN_A]: "acme" }));
    expect(err.message).toContain("unknown key of 28 characters (not shown: it may be a token)");
    expect(err.message).not.toContain(TOKEN_A);
  });

  it("accepts the dashboard section as it is and Hermes-only kanban keys with a warning", () => {
    const dir = home({
      dashboard: { kanban: { lane_by_profile: false, whatever: 1 } },
      kanban: { auto_decompose: false, failure_limit: 4 },
    });
    const snap = readHomeConfigSnapshot(dir);
    expect(snap.error).toBeNull();
    expect(snap.config.dashboard).toEqual({ kanban: { lane_by_profile: false, whatever: 1 } });
    expect(snap.config.kanban.failure_limit).toBe(4);
    expect(snap.warnings).toEqual([
      "kanban.auto_decompose is a Hermes setting this implementation does not use; ignored",
    ]);
    expect(loadHomeConfig(dir).kanban).not.toHaveProperty("auto_decompose");
  });

  it("names a bad value's key without quoting the value", () => {
    const err = loadError(home({ kanban: { max_spawn: "lots-of-workers-please" } }));
    expect(err.message).toMatch(/kanban\.max_spawn: /);
    expect(err.message).not.toContain("lots-of-workers-please");
  });

  it("reads kanban.labels (a local dispatcher's offered labels) lower-cased, default none; a bad one names its key", () => {
    expect(loadHomeConfig(home()).kanban.labels).toEqual([]);
    expect(loadHomeConfig(home({ kanban: { labels: [" GPU ", "cuda-12"] } })).kanban.labels).toEqual([
      "gpu",
      "cuda-12",
    ]);
    const err = loadError(home({ kanban: { labels: ["gpu", "no spaces"] } }));
    expect(err.message).toContain("kanban.labels.1: a label is 1-64 of a-z");
    expect(loadError(home({ kanban: { labels: "gpu" } })).message).toContain("kanban.labels");
  });

  it("reads kanban.workspace_roots as absolute, normalised directories (default none)", () => {
    expect(loadHomeConfig(home()).kanban.workspace_roots).toEqual([]);
    expect(
      loadHomeConfig(home({ kanban: { workspace_roots: ["/srv/repos/", "/tmp/a/../b"] } })).kanban.workspace_roots,
    ).toEqual(["/srv/repos", "/tmp/b"]);
    const err = loadError(home({ kanban: { workspace_roots: ["repos"] } }));
    expect(err.message).toContain("kanban.workspace_roots.0: must be an absolute directory path");
  });

  it("locates a JSON syntax error by line and column without quoting the file (which may hold tokens)", () => {
    const text = `{\n  "tenant_tokens": { "${TOKEN_A}": acme }\n}`;
    const dir = home(text);
    const snap = readHomeConfigSnapshot(dir);
    expect(snap.error).toBe("invalid config.json: not JSON (line 2, column 54: expected a value)");
    expect(snap.tenantTokensDeclared).toBe(true);
    const err = loadError(dir);
    expect(err.code).toBe("CONFIG_INVALID");
    expect(err.message).toContain(path.join(dir, "config.json"));
    expect(err.message).not.toContain(TOKEN_A);
    // The scanner agrees with JSON.parse about what is valid.
    for (const ok of ['{"a":[1,-2.5e3,true,null,"x\\u00e9"]}', "[]", " 0 "])
      expect(locateJsonError(ok).expected).toBe("invalid JSON");
    expect(locateJsonError('{"a":1,}')).toEqual({ offset: 7, expected: "expected a double-quoted key" });
    expect(locateJsonError('{"a":1').expected).toBe("expected ',' or '}', but the file ends");
  });

  it("still parses values handed to parseHomeConfig and throws CONFIG_INVALID", () => {
    expect(parseHomeConfig(undefined).kanban.failure_limit).toBe(2);
    expect(() => parseHomeConfig({ nope: 1 })).toThrow(expect.objectContaining({ code: "CONFIG_INVALID" }));
  });
});

describe("tenant_tokens", () => {
  it("drops bad entries one by one with a warning that never holds a token, keeping the valid ones", () => {
    const dir = home({
      tenant_tokens: {
        [TOKEN_A]: "acme",
        tiny: "initech",
        "has whitespace inside 123": "umbrella",
        [TOKEN_B]: "   ",
        "another-valid-token-12345": " hooli ",
        "a-fourth-token-xxxxxxxxxx": "bad/tenant",
      },
    });
    const snap = readHomeConfigSnapshot(dir);
    expect(snap.error).toBeNull();
    expect(snap.tenantTokensDeclared).toBe(true);
    expect(snap.config.tenant_tokens).toEqual({ [TOKEN_A]: "acme", "another-valid-token-12345": "hooli" });
    expect(snap.warnings).toEqual([
      "tenant_tokens entry 2 (tenant 'initech'): token is shorter than 16 characters; ignored",
      "tenant_tokens entry 3 (tenant 'umbrella'): token contains whitespace; ignored",
      "tenant_tokens entry 4: tenant must be 1-64 letters, digits, '.', '_' or '-' (starting with a letter or digit); ignored",
      "tenant_tokens entry 6: tenant must be 1-64 letters, digits, '.', '_' or '-' (starting with a letter or digit); ignored",
    ]);
    const all = JSON.stringify(snap.warnings);
    for (const secret of [TOKEN_A, TOKEN_B, "tiny", "has whitespace", "another-valid", "a-fourth"])
      expect(all).not.toContain(secret);
    expect(loadHomeConfig(dir).tenant_tokens).toEqual(snap.config.tenant_tokens);
  });

  it("does not name a tenant that may be the token written on the wrong side", () => {
    const snap = readHomeConfigSnapshot(home({ tenant_tokens: { acme: TOKEN_A, non_string: 5 } }));
    expect(snap.config.tenant_tokens).toEqual({});
    expect(snap.warnings[0]).toBe("tenant_tokens entry 1: token is shorter than 16 characters; ignored");
    expect(JSON.stringify(snap.warnings)).not.toContain(TOKEN_A);
  });

  it("refuses a tenant_tokens that is not an object without echoing it", () => {
    const snap = readHomeConfigSnapshot(home({ tenant_tokens: TOKEN_A }));
    expect(snap.error).toBe("invalid config.json: tenant_tokens: expected an object mapping each token to its tenant");
    expect(snap.tenantTokensDeclared).toBe(true);
    expect(snap.config.tenant_tokens).toEqual({});
  });
});

describe("host_tokens", () => {
  it("keeps valid hosts (name and tenant optional) and drops bad entries with a warning that never holds a token", () => {
    const dir = home({
      tenant_tokens: { [TOKEN_A]: "acme" },
      host_tokens: {
        [TOKEN_B]: { name: " mac-1 ", tenant: "acme" },
        "a-plain-host-token-xyz": {},
        qz7: { name: "tiny" },
        [TOKEN_A]: { name: "twice" },
        "a-host-token-with-bad-tenant": { tenant: "bad/tenant" },
        "a-host-token-with-extra-key": { name: "x", labels: ["macos"] },
      },
      kanban: { host_lease_seconds: 12 },
    });
    const snap = readHomeConfigSnapshot(dir);
    expect(snap.error).toBeNull();
    expect(snap.config.host_tokens).toEqual({
      [TOKEN_B]: { name: "mac-1", tenant: "acme" },
      "a-plain-host-token-xyz": { name: null, tenant: null },
    });
    expect(snap.config.tenant_tokens).toEqual({ [TOKEN_A]: "acme" });
    expect(snap.config.kanban.host_lease_seconds).toBe(12);
    expect(snap.warnings).toEqual([
      "host_tokens entry 3 (host 'tiny'): token is shorter than 16 characters; ignored",
      "host_tokens entry 4 (host 'twice'): token is also a tenant token; ignored",
      `host_tokens entry 5: expected {"name"?: <host name>, "tenant"?: <tenant>}, names of 1-64 letters, digits, '.', '_' or '-'; ignored`,
      `host_tokens entry 6: expected {"name"?: <host name>, "tenant"?: <tenant>}, names of 1-64 letters, digits, '.', '_' or '-'; ignored`,
    ]);
    for (const secret of [TOKEN_A, TOKEN_B, "a-plain-host", "qz7", "a-host-token"])
      expect(JSON.stringify(snap.warnings)).not.toContain(secret);
  });

  it("refuses a host_tokens that is not an object without echoing it, and defaults the lease to 30 s", () => {
    const snap = readHomeConfigSnapshot(home({ host_tokens: TOKEN_B }));
    expect(snap.error).toBe("invalid config.json: host_tokens: expected an object mapping each token to its host");
    expect(snap.config.host_tokens).toEqual({});
    expect(readHomeConfigSnapshot(home({})).config.kanban.host_lease_seconds).toBe(30);
  });
});

describe("config snapshots", () => {
  it("gives defaults and version 'missing' for a missing file, and tells whether tenant_tokens is declared", () => {
    const dir = home();
    expect(readHomeConfigSnapshot(dir)).toMatchObject({
      error: null,
      warnings: [],
      tenantTokensDeclared: false,
      version: "missing",
    });
    write(dir, JSON.stringify({ kanban: {} }));
    expect(readHomeConfigSnapshot(dir).tenantTokensDeclared).toBe(false);
    write(dir, JSON.stringify({ tenant_tokens: {}, nope: 1 }));
    const snap = readHomeConfigSnapshot(dir);
    expect(snap.error).toContain("nope");
    expect(snap.tenantTokensDeclared).toBe(true);
  });

  it("serves the last valid config across an invalid edit", () => {
    const dir = home({ tenant_tokens: { [TOKEN_A]: "acme" }, kanban: { failure_limit: 5 } });
    const first = readHomeConfigSnapshot(dir);
    write(dir, "{ broken");
    const broken = readHomeConfigSnapshot(dir, first.config);
    expect(broken.error).toContain("not JSON");
    expect(broken.config).toEqual(first.config);
    expect(broken.version).not.toBe(first.version);
    expect(readHomeConfigSnapshot(dir).config.kanban.failure_limit).toBe(2); // no last valid: defaults
  });

  it("rereads only after the interval and only when the file changed, keeping the last valid config", () => {
    const dir = home({ tenant_tokens: { [TOKEN_A]: "acme" } });
    let t = 0;
    const reader = homeConfigReader(dir, { minIntervalMs: 250, now: () => t });
    const a = reader.get();
    expect(a.config.tenant_tokens).toEqual({ [TOKEN_A]: "acme" });
    expect(reader.get()).toBe(a);

    write(dir, JSON.stringify({ tenant_tokens: { [TOKEN_B]: "globex" } }));
    t = 100;
    expect(reader.get()).toBe(a); // within the interval: cached
    t = 300;
    const b = reader.get();
    expect(b.config.tenant_tokens).toEqual({ [TOKEN_B]: "globex" });
    t = 600;
    expect(reader.get()).toBe(b); // unchanged file: same snapshot

    write(dir, '{"tenant_tokens": {');
    t = 900;
    const c = reader.get();
    expect(c.error).toContain("not JSON");
    expect(c.config.tenant_tokens).toEqual({ [TOKEN_B]: "globex" });
    expect(c.tenantTokensDeclared).toBe(true);

    fs.rmSync(path.join(dir, "config.json"));
    t = 1200;
    expect(reader.get()).toMatchObject({ version: "missing", error: null, config: { tenant_tokens: {} } });
  });
});

describe("edit distance", () => {
  it("counts edits and finds near names only", () => {
    expect(editDistance("kitten", "sitting")).toBe(3);
    expect(editDistance("", "abc")).toBe(3);
    expect(closestName("max_spwan", ["max_spawn", "max_in_progress"])).toBe("max_spawn");
    expect(closestName("Failure-Limit", ["failure_limit"])).toBe("failure_limit");
    expect(closestName("colours", ["kanban", "profiles"])).toBeNull();
  });
});
