import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { type KanbanPostgres, openPostgres } from "@kanban/db";
import { createTestPgDatabase, type TestPgDatabase } from "@kanban/db/testing-pg";
import { type Board, listPgBoards, listPgDispatchers, openPgBoard } from "@kanban/kernel";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  type FakeMode,
  fakeProfile,
  killAll,
  makeHome,
  runBin,
  startBin,
  type TestHome,
  trackRecorded,
  waitFor,
} from "../test/helpers.ts";

/**
 * The real `kanban-dispatcher` bin on boards in a real PostgreSQL database, selected by
 * KANBAN_DATABASE_URL: it serves every board schema of the database (whichever host made it), its
 * workers reach the board through the database, several dispatcher processes share one board
 * without running a task twice, a SIGKILLed one's claims are reclaimed by the survivor, and a
 * database it cannot open is one line and exit 1.
 */
let database: TestPgDatabase;
let db: KanbanPostgres;
const homes: TestHome[] = [];
const boards: Board[] = [];

beforeAll(async () => {
  database = await createTestPgDatabase();
  db = await openPostgres(database.url, { poolSize: 2 });
});

afterEach(async () => {
  for (const h of homes) trackRecorded(path.join(h.home, "record.jsonl"));
  await killAll();
  for (const b of boards.splice(0)) b.close();
  for (const h of homes.splice(0)) h.cleanup();
});

afterAll(async () => {
  await db?.close();
  await database?.drop();
});

/** A dispatcher host: its own home (config.json, workspaces, logs), the database shared. */
function host(kanban: Record<string, unknown> = {}, mode: FakeMode = "complete"): TestHome {
  const h = makeHome({ kanban, profiles: { coder: fakeProfile(mode) } });
  homes.push(h);
  return h;
}

function envOf(h: TestHome, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...h.env,
    KANBAN_DATABASE_URL: database.url,
    KANBAN_DISPATCH_INTERVAL: "0.2",
    FAKE_WORKER_RECORD: path.join(h.home, "record.jsonl"),
    ...extra,
  };
}

async function pgBoardOf(slug: string): Promise<Board> {
  const b = await openPgBoard({ url: database.url, board: slug, poolSize: 2, warn: () => {} });
  boards.push(b);
  return b;
}

function records(h: TestHome): { pid: number; env: Record<string, string> }[] {
  return trackRecorded(path.join(h.home, "record.jsonl"));
}

interface Relay {
  address: string;
  /** Completions made through the relay, per task. */
  completions: Map<string, number>;
  close(): Promise<void>;
}

/**
 * What relay-mode workers talk to (instead of each loading the kernel, which costs a second of CPU
 * per process): a loopback server in this process that completes the asking worker's task on the
 * board, fenced by the worker's run and claim, and answers `ok` once it is done.
 */
async function startRelay(board: Board): Promise<Relay> {
  const completions = new Map<string, number>();
  const server = net.createServer((socket) => {
    let buf = "";
    socket.on("error", () => {});
    socket.on("data", (d) => {
      buf += String(d);
      const nl = buf.indexOf("\n");
      if (nl < 0) return;
      const req = JSON.parse(buf.slice(0, nl)) as { task: string; run: number; lock: string; pid: number };
      buf = "";
      board
        .completeTask(req.task, {
          expected_run_id: req.run,
          claim_lock: req.lock,
          result: "relayed",
          summary: `worker ${req.pid} done`,
        })
        .then(
          () => {
            completions.set(req.task, (completions.get(req.task) ?? 0) + 1);
            socket.end("ok\n");
          },
          (err: unknown) => socket.end(`error ${String((err as Error).message).split("\n")[0]}\n`),
        );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    completions,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function password(url: string): string {
  return decodeURIComponent(new URL(url).password);
}

describe("kanban-dispatcher on PostgreSQL (real processes, real server)", { timeout: 240_000 }, () => {
  it("a bad URL, an unreachable server or a wrong password is one line and exit 1; nothing is started", async () => {
    const h = host();
    const wrong = new URL(database.url);
    wrong.password = "wrong-secret-4321";
    const [badUrl, unreachable, badPassword] = await Promise.all([
      runBin([], envOf(h, { KANBAN_DATABASE_URL: "postgres://user:pw-in-a-bad-url@[not-a-host/x" })),
      runBin([], envOf(h, { KANBAN_DATABASE_URL: "postgres://kanban:unreachable-pw@127.0.0.1:1/kanban" })),
      runBin(["--once"], envOf(h, { KANBAN_DATABASE_URL: wrong.toString() })),
    ]);
    for (const [r, code, secret] of [
      [badUrl, "invalid", "pw-in-a-bad-url"],
      [unreachable, "127.0.0.1:1", "unreachable-pw"],
      [badPassword, "password", "wrong-secret-4321"],
    ] as const) {
      expect(r.code).toBe(1);
      expect(r.stdout).toBe("");
      expect(r.stderr).toMatch(/^kanban-dispatcher: cannot open the board database: [^\n]+\n$/);
      expect(r.stderr.toLowerCase()).toContain(code);
      expect(r.stderr).not.toContain(secret);
      expect(r.stderr).not.toContain(password(database.url));
    }
    // Nothing started: no status file, no lock file, no board schema made.
    expect(fs.existsSync(path.join(h.home, "kanban", "dispatcher.json"))).toBe(false);
    expect(fs.existsSync(path.join(h.home, "kanban", ".dispatcher.lock"))).toBe(false);
    expect(await listPgBoards(db)).toEqual([]);
  });

  it("serves every board schema of the database, runs their ready tasks to done through local-mode workers, and stops cleanly", async () => {
    const h = host();
    const main = await pgBoardOf("default");
    // Made in the database only (another host's `kanban boards create`): no board.json in this home.
    const side = await pgBoardOf("side");
    const a = (await main.createTask({ title: "on default", assignee: "coder" })).id;
    const b = (await side.createTask({ title: "on side", assignee: "coder" })).id;

    // A typo in --board is refused, and creates no schema.
    const typo = await runBin(["--once", "--board", "nope"], envOf(h));
    expect(typo).toMatchObject({ code: 1, stdout: "" });
    expect(typo.stderr).toMatch(/^kanban-dispatcher: board 'nope' does not exist in postgres:\/\/[^\n]+\n$/);
    expect(typo.stderr).not.toContain(password(database.url));

    // One tick on the board made elsewhere (what `kanban dispatch --board side` runs).
    const once = await runBin(["--once", "--board", "side", "--json"], envOf(h));
    expect(once.stderr).toBe("");
    expect(once.code).toBe(0);
    expect((JSON.parse(once.stdout) as { spawned: { task_id: string }[] }).spawned.map((x) => x.task_id)).toEqual([b]);

    const run = startBin([], envOf(h));
    await waitFor(
      async () => (await main.getTask(a))?.status === "done" && (await side.getTask(b))?.status === "done",
      "both boards' tasks to be done",
      60_000,
    ).catch((err) => {
      throw new Error(`${err.message}; dispatcher stderr: ${run.stderr()}`);
    });
    expect(await listPgBoards(db)).toEqual(["default", "side"]);
    for (const [board, id] of [
      [main, a],
      [side, b],
    ] as const) {
      const runs = await board.listRuns(id);
      expect(runs.map((r) => r.outcome)).toEqual(["completed"]);
    }
    // What a local-mode worker on PostgreSQL holds: the database URL and its board, no board file.
    const seen = records(h);
    expect(seen).toHaveLength(2);
    for (const r of seen) {
      expect(r.env.KANBAN_DATABASE_URL).toBe(database.url);
      expect(r.env.KANBAN_DB).toBeUndefined();
      expect(r.env.HERMES_KANBAN_DB).toBeUndefined();
      expect(r.env.KANBAN_TOKEN).toBeUndefined();
    }
    expect(seen.map((r) => r.env.KANBAN_BOARD).sort()).toEqual(["default", "side"]);
    // Both boards list this dispatcher, alive; SIGTERM stops it cleanly and marks the rows stopped.
    for (const slug of ["default", "side"]) {
      const rows = await waitFor(async () => {
        const r = await listPgDispatchers(db, slug);
        return r.length === 1 && r[0]?.ticks !== undefined && r[0].ticks >= 1 ? r : null;
      }, `the dispatcher's row on ${slug}`);
      expect(rows[0]).toMatchObject({ pid: run.child.pid, session_alive: true, stopped_at: null });
    }
    run.child.kill("SIGTERM");
    expect(await run.exited).toEqual({ code: 0, signal: null });
    for (const slug of ["default", "side"]) {
      const [row] = await listPgDispatchers(db, slug);
      expect(row?.session_alive).toBe(false);
      expect(row?.stopped_at).not.toBeNull();
    }
    // The database is where it coordinated: none of the home's files, and its log never shows the password.
    expect(fs.existsSync(path.join(h.home, "kanban", "dispatcher.json"))).toBe(false);
    expect(run.stderr()).not.toContain(password(database.url));
    expect(run.stderr()).toContain("started for postgres://");
  });

  it("two dispatcher processes on one board with 200 ready tasks: every task runs exactly once, and both are in the status rows", async () => {
    const slug = "pair";
    const board = await pgBoardOf(slug);
    const ids: string[] = [];
    for (let i = 0; i < 200; i++) ids.push((await board.createTask({ title: `t${i}`, assignee: "coder" })).id);
    const relay = await startRelay(board);
    // Two hosts (their own homes); max_spawn counts the board's running tasks, whoever runs them.
    const h1 = host({ max_spawn: 8 }, "relay");
    const h2 = host({ max_spawn: 8 }, "relay");
    const d1 = startBin([], envOf(h1, { FAKE_WORKER_RELAY: relay.address }));
    const d2 = startBin([], envOf(h2, { FAKE_WORKER_RELAY: relay.address }));
    // One read of the board a second (200 reads at once queued on the test's small pool, and under
    // CI's load one waited past the pool's connect timeout).
    const statuses = async () => new Map((await board.listTasks({})).map((t) => [t.id, t.status]));
    await waitFor(
      async () => {
        const now = await statuses();
        return ids.every((id) => now.get(id) === "done");
      },
      "all 200 tasks to be done",
      200_000,
      1000,
    ).catch(async (err) => {
      const now = await statuses();
      const counts: Record<string, number> = {};
      for (const id of ids) {
        const st = now.get(id) ?? "missing";
        counts[st] = (counts[st] ?? 0) + 1;
      }
      throw new Error(
        `${err.message}: ${JSON.stringify(counts)}; d1: ${d1.stderr().slice(-1500)}; d2: ${d2.stderr().slice(-1500)}`,
      );
    });
    // Exactly once: one run per task, and one worker process per task across both hosts.
    for (const id of ids) {
      const runs = await board.listRuns(id);
      expect(
        runs.map((r) => r.outcome),
        id,
      ).toEqual(["completed"]);
    }
    const workers = [...records(h1), ...records(h2)];
    const perTask = new Map<string, number>();
    for (const w of workers) perTask.set(w.env.KANBAN_TASK ?? "", (perTask.get(w.env.KANBAN_TASK ?? "") ?? 0) + 1);
    expect(workers).toHaveLength(200);
    expect([...perTask.keys()].sort()).toEqual([...ids].sort());
    expect([...perTask.values()].every((n) => n === 1)).toBe(true);
    expect([...relay.completions.values()].every((n) => n === 1)).toBe(true);
    expect(relay.completions.size).toBe(200);
    await relay.close();
    // Both dispatchers are on the board's status rows, alive and ticking.
    const rows = await listPgDispatchers(db, slug);
    expect(rows.map((r) => r.pid).sort()).toEqual([d1.child.pid, d2.child.pid].sort());
    for (const r of rows) expect(r).toMatchObject({ session_alive: true, stopped_at: null });
    for (const r of rows) expect(r.ticks).toBeGreaterThanOrEqual(1);
    const [by1, by2] = [d1, d2].map(
      (d) => workers.filter((w) => w.env.KANBAN_CLAIM_LOCK?.endsWith(`:${d.child.pid}`)).length,
    );
    // Every worker was spawned by one of the two (its claim lock names it). How the work split is
    // informative only: which one ticks first is up to the lock.
    console.log(`200 tasks split between the two dispatchers: ${by1} + ${by2}`);
    expect((by1 ?? 0) + (by2 ?? 0)).toBe(200);
    d1.child.kill("SIGTERM");
    d2.child.kill("SIGTERM");
    expect(await d1.exited).toEqual({ code: 0, signal: null });
    expect(await d2.exited).toEqual({ code: 0, signal: null });
  });

  it("a dispatcher SIGKILLed between claim and spawn: the other one reclaims its claims after the claim TTL and they end done", async () => {
    const slug = "crash";
    const board = await pgBoardOf(slug);
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push((await board.createTask({ title: `c${i}`, assignee: "coder" })).id);
    // The victim claims one task per tick and then pauses 60 s before spawning it (the test hook),
    // holding the board's tick lock; its claims live 2 s.
    const victimHome = host({ claim_ttl_seconds: 2, max_spawn: 1 });
    const victim = startBin([], envOf(victimHome, { KANBAN_DISPATCHER_TEST_CLAIM_DELAY_MS: "60000" }));
    const claimed = await waitFor(
      async () => {
        for (const id of ids) {
          const t = await board.getTask(id);
          if (t?.status === "running" && t.claim_lock?.endsWith(`:${victim.child.pid}`)) return t;
        }
        return null;
      },
      "the victim's claim",
      60_000,
    );
    expect(claimed.worker_pid).toBeNull();
    // The survivor is running before the victim dies (so this is no start-up orphan recovery):
    // it waits on the board's tick lock, which the victim holds during its pause.
    const survivorHome = host({ claim_ttl_seconds: 2 });
    const survivor = startBin([], envOf(survivorHome));
    await waitFor(
      async () => (await listPgDispatchers(db, slug)).some((r) => r.pid === survivor.child.pid),
      "the survivor's registration",
      60_000,
    );
    victim.child.kill("SIGKILL");
    await victim.exited;

    await waitFor(
      async () => {
        const rows = await Promise.all(ids.map((id) => board.getTask(id)));
        return rows.every((t) => t?.status === "done");
      },
      "every task done after the reclaim",
      90_000,
      250,
    );
    // The orphaned claim ended reclaimed (no worker ever ran under it), then completed by the survivor's worker.
    const runs = await board.listRuns(claimed.id);
    expect(runs.map((r) => r.outcome)).toEqual(["reclaimed", "completed"]);
    for (const id of ids) {
      const t = await board.requireTask(id);
      expect(t.status).toBe("done");
      expect((await board.listRuns(id)).filter((r) => r.outcome === "completed")).toHaveLength(1);
    }
    // No worker ran for the victim; each task had one worker, all the survivor's.
    expect(records(victimHome)).toHaveLength(0);
    expect(
      records(survivorHome)
        .map((r) => r.env.KANBAN_TASK)
        .sort(),
    ).toEqual([...ids].sort());
    // The board shows the victim dead (its session ended with it) and the survivor alive.
    const rows = await listPgDispatchers(db, slug);
    expect(rows.find((r) => r.pid === victim.child.pid)?.session_alive).toBe(false);
    expect(rows.find((r) => r.pid === survivor.child.pid)?.session_alive).toBe(true);
    survivor.child.kill("SIGTERM");
    expect(await survivor.exited).toEqual({ code: 0, signal: null });
  });
});
