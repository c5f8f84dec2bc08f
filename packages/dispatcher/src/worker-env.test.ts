import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { runTokenVerifier } from "@kanban/db";
import { afterEach, describe, expect, it } from "vitest";
import { fakeProfile, killAll, makeHome, type TestHome, trackPool, trackRecorded, waitFor } from "../test/helpers.ts";
import { createDispatcher } from "./dispatcher.ts";
import { boundedText, buildWorkerArgv, buildWorkerEnv, PREVIOUS_RUN_TEXT_MAX, type WorkerRuntime } from "./worker.ts";

/**
 * What a worker finds in its environment: never the admin token; in API mode a token for its own
 * run only and no board file; in local mode the board file it needs.
 */
const ADMIN = "admin-token-0123456789abcdef";

let home: TestHome | null = null;
afterEach(async () => {
  await killAll();
  home?.cleanup();
  home = null;
});

const runtime: WorkerRuntime = {
  kind: "profiles",
  profiles: { alice: { command: ["/x"], env: { KANBAN_TOKEN: ADMIN, OPENAI_KEY: "k" }, skills: [] } },
};

function input(h: string, apiUrl: string | null) {
  return {
    runtime,
    baseEnv: {
      PATH: "/bin",
      KANBAN_TOKEN: ADMIN,
      KANBAN_URL: "http://elsewhere:1",
      KANBAN_DB: "/pinned.db",
      KANBAN_WORKSPACES_ROOT: "/ws",
    },
    task: { id: "t_0123abcd", tenant: "acme", max_runtime_seconds: null, model_override: null },
    profile: "alice",
    runId: 7,
    claimLock: "host:1",
    workspace: "/w",
    branch: null,
    dbPath: path.join(h, "kanban.db"),
    board: "default",
    home: h,
    workspacesRoot: path.join(h, "kanban", "workspaces"),
    apiUrl,
  };
}

describe("buildWorkerEnv: what a worker gets", () => {
  it("local mode: the board file and home, never a token or a URL (not even one set in the profile's env)", () => {
    const h = fs.mkdtempSync(path.join(os.tmpdir(), "kanban-workerenv-"));
    try {
      const env = buildWorkerEnv(input(h, null));
      expect(env.KANBAN_TOKEN).toBeUndefined();
      expect(env.KANBAN_URL).toBeUndefined();
      expect(env).toMatchObject({
        KANBAN_DB: path.join(h, "kanban.db"),
        KANBAN_HOME: h,
        KANBAN_TASK: "t_0123abcd",
        OPENAI_KEY: "k",
      });
      expect(Object.values(env)).not.toContain(ADMIN);
    } finally {
      fs.rmSync(h, { recursive: true, force: true });
    }
  });

  it("API mode: the URL and a token for this run only; no board file, home or workspaces root", () => {
    const h = fs.mkdtempSync(path.join(os.tmpdir(), "kanban-workerenv-"));
    try {
      const env = buildWorkerEnv(input(h, "http://127.0.0.1:4100"));
      expect(env.KANBAN_URL).toBe("http://127.0.0.1:4100");
      for (const key of ["KANBAN_DB", "KANBAN_HOME", "KANBAN_WORKSPACES_ROOT"]) expect(env[key]).toBeUndefined();
      expect(Object.values(env)).not.toContain(ADMIN);
      const token = env.KANBAN_TOKEN ?? "";
      expect(runTokenVerifier(h).verify(token)).toEqual({ board: "default", task: "t_0123abcd", run: 7 });
    } finally {
      fs.rmSync(h, { recursive: true, force: true });
    }
  });
});

describe("buildWorkerEnv: a board on PostgreSQL", () => {
  const URL_WITH_SECRET = "postgres://kanban:s3cret-pw@db.internal:5432/kanban";
  const pgInput = (h: string, apiUrl: string | null) => {
    const base = input(h, apiUrl);
    return {
      ...base,
      // The dispatcher's own environment named the database (and, say, a direct URL for LISTEN).
      baseEnv: {
        ...base.baseEnv,
        KANBAN_DATABASE_URL: URL_WITH_SECRET,
        KANBAN_DATABASE_LISTEN_URL: URL_WITH_SECRET,
        KANBAN_DATABASE_LISTEN: "listen",
      },
      dbPath: "postgres://db.internal:5432/kanban#kanban_default",
      databaseUrl: URL_WITH_SECRET,
    };
  };

  it("local mode: the database URL and the home (the CLI's local mode opens the board with them), never KANBAN_DB", () => {
    const h = fs.mkdtempSync(path.join(os.tmpdir(), "kanban-workerenv-"));
    try {
      const env = buildWorkerEnv(pgInput(h, null));
      expect(env).toMatchObject({ KANBAN_DATABASE_URL: URL_WITH_SECRET, KANBAN_HOME: h, KANBAN_BOARD: "default" });
      // KANBAN_DB (even the dispatcher's own) would name a second database: the CLI refuses the pair.
      expect(env.KANBAN_DB).toBeUndefined();
      expect(env.KANBAN_TOKEN).toBeUndefined();
    } finally {
      fs.rmSync(h, { recursive: true, force: true });
    }
  });

  it("API mode: a run token and the API's URL, and no database URL at all (it would open every board)", () => {
    const h = fs.mkdtempSync(path.join(os.tmpdir(), "kanban-workerenv-"));
    try {
      const env = buildWorkerEnv(pgInput(h, "http://127.0.0.1:4100"));
      for (const key of ["KANBAN_DATABASE_URL", "KANBAN_DATABASE_LISTEN_URL", "KANBAN_DATABASE_LISTEN", "KANBAN_DB"])
        expect(env[key], key).toBeUndefined();
      expect(Object.values(env).some((v) => v.includes("s3cret-pw"))).toBe(false);
      expect(runTokenVerifier(h).verify(env.KANBAN_TOKEN ?? "")).toEqual({
        board: "default",
        task: "t_0123abcd",
        run: 7,
      });
    } finally {
      fs.rmSync(h, { recursive: true, force: true });
    }
  });

  it("a Hermes worker is given no HERMES_KANBAN_DB (its tools open an SQLite file, which this board is not)", () => {
    const h = fs.mkdtempSync(path.join(os.tmpdir(), "kanban-workerenv-"));
    try {
      const env = buildWorkerEnv({
        ...pgInput(h, null),
        runtime: { kind: "hermes", bin: "hermes", hermesHome: path.join(h, "hermes") },
      });
      expect(env.HERMES_KANBAN_DB).toBeUndefined();
      expect(env.HERMES_KANBAN_TASK).toBe("t_0123abcd");
    } finally {
      fs.rmSync(h, { recursive: true, force: true });
    }
  });
});

describe("a spawned worker's environment", { timeout: 30_000 }, () => {
  it("has no admin token whatever the dispatcher holds (local mode, the worker completes through the file)", async () => {
    home = makeHome({
      kanban: { crash_grace_seconds: 0 },
      profiles: { alice: fakeProfile("complete", { env: { KANBAN_TOKEN: ADMIN } }) },
    });
    const record = path.join(home.home, "record.jsonl");
    const b = home.board();
    const t = await b.createTask({ title: "work", assignee: "alice", tenant: "acme" });
    const d = createDispatcher(home.config({ KANBAN_TOKEN: ADMIN, FAKE_WORKER_RECORD: record }), { log: () => {} });
    trackPool(d.pool);
    await d.tick();
    await waitFor(
      async () => (await b.getTask(t.id))?.status === "done",
      "the worker to complete through the board file",
    );
    const [rec] = trackRecorded(record);
    expect(rec?.env.KANBAN_TOKEN).toBeUndefined();
    expect(rec?.env.KANBAN_DB).toBe(path.join(home.home, "kanban.db"));
    d.stop();
  });

  it("in API mode carries a run token for its own run instead of the board file", async () => {
    home = makeHome({ kanban: { crash_grace_seconds: 0 }, profiles: { alice: fakeProfile("exit0") } });
    const record = path.join(home.home, "record.jsonl");
    const b = home.board();
    const t = await b.createTask({ title: "work", assignee: "alice", tenant: "acme" });
    const d = createDispatcher(
      home.config({ KANBAN_TOKEN: ADMIN, KANBAN_URL: "http://127.0.0.1:9", FAKE_WORKER_RECORD: record }),
      { log: () => {} },
    );
    trackPool(d.pool);
    await d.tick();
    const rec = await waitFor(() => trackRecorded(record)[0], "the worker to record its environment");
    const run = (await b.getTask(t.id))?.current_run_id ?? (await b.listRuns(t.id))[0]?.id;
    expect(rec.env.KANBAN_DB).toBeUndefined();
    expect(rec.env.KANBAN_HOME).toBeUndefined();
    expect(rec.env.KANBAN_URL).toBe("http://127.0.0.1:9");
    expect(rec.env.KANBAN_TOKEN).not.toBe(ADMIN);
    expect(runTokenVerifier(home.home).verify(rec.env.KANBAN_TOKEN ?? "")).toEqual({
      board: "default",
      task: t.id,
      run,
    });
    expect(fs.statSync(path.join(home.home, "kanban", "run-token.key")).mode & 0o777).toBe(0o600);
  });
});

describe("retries keep context: KANBAN_PREVIOUS_RUN_* and {resume} (issue 17)", () => {
  const crashed = {
    run_id: 41,
    outcome: "crashed",
    summary: "got half way",
    error: "pid 9 exited with code 1",
    session_id: "sess-abc",
  };
  // What a dispatcher started from inside a worker (or by hand after one) may still carry.
  const stale = {
    KANBAN_PREVIOUS_RUN_ID: "3",
    KANBAN_PREVIOUS_RUN_OUTCOME: "completed",
    KANBAN_PREVIOUS_RUN_SUMMARY: "old",
    KANBAN_PREVIOUS_RUN_ERROR: "old error",
    KANBAN_PREVIOUS_RUN_SESSION: "old-session",
    KANBAN_PREVIOUS_RUN_EXTRA: "x",
    HERMES_KANBAN_PREVIOUS_RUN_ID: "3",
  };
  const previousKeys = (env: Record<string, string>) => Object.keys(env).filter((k) => k.includes("PREVIOUS_RUN_"));
  const hermes: WorkerRuntime = { kind: "hermes", bin: "hermes", hermesHome: "/nonexistent-hermes" };

  it("a first attempt gets none, and inherited ones are removed (profiles and Hermes runtimes)", () => {
    for (const rt of [runtime, hermes]) {
      const base = input("/h", null);
      for (const previousRun of [undefined, null]) {
        const env = buildWorkerEnv({ ...base, runtime: rt, baseEnv: { ...base.baseEnv, ...stale }, previousRun });
        expect(previousKeys(env), rt.kind).toEqual([]);
        expect(env.KANBAN_TASK).toBe("t_0123abcd");
      }
    }
  });

  it("a profile's env cannot pose as the previous run either", () => {
    const rt: WorkerRuntime = {
      kind: "profiles",
      profiles: { alice: { command: ["/x"], env: { KANBAN_PREVIOUS_RUN_OUTCOME: "completed" }, skills: [] } },
    };
    expect(previousKeys(buildWorkerEnv({ ...input("/h", null), runtime: rt }))).toEqual([]);
    expect(
      buildWorkerEnv({ ...input("/h", null), runtime: rt, previousRun: crashed }).KANBAN_PREVIOUS_RUN_OUTCOME,
    ).toBe("crashed");
  });

  it("a retry gets the previous run's id, outcome, summary, error and session, replacing inherited ones", () => {
    const base = input("/h", null);
    const env = buildWorkerEnv({ ...base, baseEnv: { ...base.baseEnv, ...stale }, previousRun: crashed });
    expect(Object.fromEntries(previousKeys(env).map((k) => [k, env[k]]))).toEqual({
      KANBAN_PREVIOUS_RUN_ID: "41",
      KANBAN_PREVIOUS_RUN_OUTCOME: "crashed",
      KANBAN_PREVIOUS_RUN_SUMMARY: "got half way",
      KANBAN_PREVIOUS_RUN_ERROR: "pid 9 exited with code 1",
      KANBAN_PREVIOUS_RUN_SESSION: "sess-abc",
    });
  });

  it("leaves out what the previous run did not have", () => {
    const env = buildWorkerEnv({
      ...input("/h", null),
      previousRun: { run_id: 5, outcome: "reclaimed", summary: null, error: "", session_id: null },
    });
    expect(previousKeys(env).sort()).toEqual(["KANBAN_PREVIOUS_RUN_ID", "KANBAN_PREVIOUS_RUN_OUTCOME"]);
  });

  it("a Hermes worker gets them under both KANBAN_ and HERMES_KANBAN_ names", () => {
    const env = buildWorkerEnv({ ...input("/h", null), runtime: hermes, previousRun: crashed });
    for (const prefix of ["KANBAN_", "HERMES_KANBAN_"]) {
      expect(env[`${prefix}PREVIOUS_RUN_ID`]).toBe("41");
      expect(env[`${prefix}PREVIOUS_RUN_OUTCOME`]).toBe("crashed");
      expect(env[`${prefix}PREVIOUS_RUN_ERROR`]).toBe("pid 9 exited with code 1");
      expect(env[`${prefix}PREVIOUS_RUN_SESSION`]).toBe("sess-abc");
    }
  });

  it("bounds a long summary (its start kept) and a long error (its end kept), without NUL bytes", () => {
    const summary = `GIST ${"s".repeat(10_000)}`;
    const error = `${"e".repeat(10_000)}\u0000 FINAL LINE`;
    const env = buildWorkerEnv({ ...input("/h", null), previousRun: { ...crashed, summary, error } });
    const s = env.KANBAN_PREVIOUS_RUN_SUMMARY ?? "";
    const e = env.KANBAN_PREVIOUS_RUN_ERROR ?? "";
    expect(s.length).toBe(PREVIOUS_RUN_TEXT_MAX);
    expect(s.startsWith("GIST ")).toBe(true);
    expect(s.endsWith("…")).toBe(true);
    expect(e.length).toBe(PREVIOUS_RUN_TEXT_MAX);
    expect(e.startsWith("…")).toBe(true);
    expect(e.endsWith("e FINAL LINE")).toBe(true);
    expect(e.includes("\u0000")).toBe(false);
  });

  it("boundedText never splits a character made of two UTF-16 units", () => {
    const cut = boundedText("😀".repeat(10), 4, "tail");
    expect(cut).toBe("…😀😀😀");
    expect(boundedText("😀".repeat(4), 4, "head")).toBe("😀".repeat(4));
    expect(boundedText("ab", 4, "head")).toBe("ab");
  });

  describe("{resume} in a profile command", () => {
    const rt: WorkerRuntime = {
      kind: "profiles",
      profiles: {
        alice: {
          command: ["/bin/agent", "--task", "{task_id}", "{resume}", "--resume={resume}", "--prompt", "{prompt}"],
          env: {},
          skills: [],
        },
      },
    };
    const task = { id: "t_1", skills: null, model_override: null };

    it("is replaced by the previous run's session", () => {
      expect(
        buildWorkerArgv(rt, { task, profile: "alice", workspace: "/w", previousRun: { session_id: "sess-abc" } }),
      ).toEqual(["/bin/agent", "--task", "t_1", "sess-abc", "--resume=sess-abc", "--prompt", "work kanban task t_1"]);
    });

    it("drops every element holding it when there is no session (first attempt, or a run that recorded none)", () => {
      const expected = ["/bin/agent", "--task", "t_1", "--prompt", "work kanban task t_1"];
      expect(buildWorkerArgv(rt, { task, profile: "alice", workspace: "/w" })).toEqual(expected);
      expect(buildWorkerArgv(rt, { task, profile: "alice", workspace: "/w", previousRun: null })).toEqual(expected);
      expect(
        buildWorkerArgv(rt, { task, profile: "alice", workspace: "/w", previousRun: { session_id: null } }),
      ).toEqual(expected);
    });
  });
});
