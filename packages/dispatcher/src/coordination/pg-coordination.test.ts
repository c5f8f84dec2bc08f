import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import readline from "node:readline";
import { fileURLToPath } from "node:url";
import { type KanbanPostgres, migrateBoardSchema, openPostgres, PG_LOCK_CLASS } from "@kanban/db";
import { createTestPgDatabase, type TestPgDatabase } from "@kanban/db/testing-pg";
import { bundledScript } from "@kanban/db/testing-scripts";
import { listPgDispatchers, nudgePgDispatchers, pgDispatcherEntries } from "@kanban/kernel";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

/**
 * Dispatchers on several hosts sharing one PostgreSQL board, each coordination in its own process
 * (test/pg-coordination-holder.ts) on a real server: the tick lock, a SIGKILLed holder, nudges,
 * the status rows and how a reader judges them.
 */
const HOLDER = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  "..",
  "..",
  "test",
  "pg-coordination-holder.ts",
);

interface Event {
  event: string;
  [key: string]: unknown;
}

class Holder {
  readonly child: ChildProcess;
  private readonly events: Event[] = [];
  private waiters: (() => void)[] = [];
  private stderr = "";

  constructor(
    url: string,
    board: string,
    readonly id: string,
  ) {
    this.child = spawn(process.execPath, [holderScript, url, board, id], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    this.child.stderr?.on("data", (d) => {
      this.stderr += String(d);
    });
    readline.createInterface({ input: this.child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
      this.events.push(JSON.parse(line) as Event);
      for (const w of this.waiters.splice(0)) w();
    });
    this.child.on("exit", () => {
      for (const w of this.waiters.splice(0)) w();
    });
  }

  /**
   * The first event of one of these kinds (earlier events of other kinds are dropped), within 45 s
   * (a hang guard: a holder process loading the kernel through tsx on a loaded CI machine took more
   * than 15 s; it runs as a bundle now, see bundledScript).
   */
  async take(kinds: string[]): Promise<Event> {
    const deadline = Date.now() + 45_000;
    for (;;) {
      const i = this.events.findIndex((e) => kinds.includes(e.event));
      if (i >= 0) return this.events.splice(0, i + 1)[i] as Event;
      if (this.child.exitCode !== null || this.child.signalCode !== null || Date.now() > deadline)
        throw new Error(
          `${this.id}: no ${kinds.join("/")} event (got ${JSON.stringify(this.events)}; stderr: ${this.stderr})`,
        );
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 250);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  next(kind: string): Promise<Event> {
    return this.take([kind]);
  }

  /** Sends a command and returns its answer. */
  ask(cmd: string, ...kinds: string[]): Promise<Event> {
    this.child.stdin?.write(`${cmd}\n`);
    return this.take(kinds);
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  exited(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => this.child.once("exit", () => resolve()));
  }
}

/** Polls `check` until it holds (at most 15 s): waiting for the server to notice a dead session. */
async function eventually<T>(what: string, check: () => Promise<T | null>): Promise<T> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const v = await check();
    if (v !== null) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

let database: TestPgDatabase;
let db: KanbanPostgres;
/** The holder as a plain Node program (see bundledScript). */
let holderScript: string;
const holders: Holder[] = [];

function holder(board: string, id: string): Holder {
  const h = new Holder(database.url, board, id);
  holders.push(h);
  return h;
}

beforeAll(async () => {
  holderScript = await bundledScript({ file: HOLDER });
  database = await createTestPgDatabase();
  db = await openPostgres(database.url, { poolSize: 2 });
  for (const board of ["shared", "lost", "clean"]) await migrateBoardSchema(db, board);
});

afterEach(async () => {
  for (const h of holders.splice(0)) {
    h.kill("SIGKILL");
    await h.exited();
  }
});

afterAll(async () => {
  await db?.close();
  await database?.drop();
});

const nowSeconds = () => Math.floor(Date.now() / 1000);

// Each test starts two or three node processes on a shared, busy machine.
describe("dispatchers on several hosts sharing one PostgreSQL board", { timeout: 90_000 }, () => {
  it("one tick-lock holder at a time; SIGKILL of the holder frees it; a nudge wakes a listener; the status lists and judges each", async () => {
    const a = holder("shared", "aaaa");
    const b = holder("shared", "bbbb");
    expect(await a.next("registered")).toMatchObject({ ok: true });
    expect(await b.next("registered")).toMatchObject({ ok: true });

    // Two processes, one board: the lock goes to one of them at a time.
    expect((await a.ask("lock", "locked", "busy")).event).toBe("locked");
    expect((await b.ask("lock", "locked", "busy")).event).toBe("busy");
    await a.ask("unlock", "unlocked");
    expect((await b.ask("lock", "locked", "busy")).event).toBe("locked");
    expect((await a.ask("lock", "locked", "busy")).event).toBe("busy");

    // Both report a tick; the board lists both, alive.
    await a.ask("beat", "beat");
    await b.ask("beat", "beat");
    const both = await pgDispatcherEntries(db, "shared", nowSeconds());
    expect(both.map((e) => [e.id, e.host, e.state]).sort()).toEqual([
      ["aaaa", "host-aaaa", "alive"],
      ["bbbb", "host-bbbb", "alive"],
    ]);
    expect(both.find((e) => e.id === "bbbb")).toMatchObject({
      pid: b.child.pid,
      ticks: 1,
      last_tick: { board: "shared", promoted: 1 },
    });

    // The holder is SIGKILLed mid-tick: the server ends its session and the lock with it.
    b.kill("SIGKILL");
    await b.exited();
    await eventually("the dead holder's lock to be free", async () =>
      (await a.ask("lock", "locked", "busy")).event === "locked" ? true : null,
    );
    expect((await a.ask("held", "held")).held).toBe(true);

    // A nudge from a third connection (the API's) wakes the listening dispatcher; one is connected.
    expect(await nudgePgDispatchers(db, "shared")).toBe(1);
    await a.next("nudged");

    // The killed one is dead at once (its session is gone), whatever its heartbeat says; the live
    // one turns stale only once it has been silent for more than three intervals (5 s → 30 s floor).
    const now = nowSeconds();
    const after = await pgDispatcherEntries(db, "shared", now);
    expect(after.find((e) => e.id === "bbbb")?.state).toBe("dead");
    expect(after.find((e) => e.id === "aaaa")?.state).toBe("alive");
    a.kill("SIGSTOP"); // hung: its session stays, its heartbeat ages
    try {
      const later = await pgDispatcherEntries(db, "shared", now + 31);
      expect(later.find((e) => e.id === "aaaa")).toMatchObject({ state: "stale" });
      expect(later.find((e) => e.id === "bbbb")).toMatchObject({ state: "dead" });
      expect((await pgDispatcherEntries(db, "shared", now + 29)).find((e) => e.id === "aaaa")?.state).toBe("alive");
    } finally {
      a.kill("SIGCONT");
    }

    // A dispatcher starting now is told of the dead one, to recover the claims it left unspawned.
    const c = holder("shared", "cccc");
    const registered = await c.next("registered");
    expect(registered.predecessors).toEqual([{ host: "host-bbbb", pid: b.child.pid }]);
  });

  it("a holder whose connection dies loses the lock (the server frees it) and comes back registered", async () => {
    const a = holder("lost", "a-lost");
    const b = holder("lost", "b-lost");
    await a.next("registered");
    await b.next("registered");
    expect((await a.ask("lock", "locked", "busy")).event).toBe("locked");
    // The connection dies under a live process (a network cut, a failover): end its backend.
    const { rows } = await db.pool.query<{ ok: boolean }>(
      "SELECT pg_terminate_backend(pid) AS ok FROM pg_locks WHERE locktype = 'advisory' AND classid = $1::int4::oid AND granted",
      [PG_LOCK_CLASS.dispatchTick],
    );
    expect(rows).toEqual([{ ok: true }]);
    await a.next("warn");
    expect((await a.ask("held", "held")).held).toBe(false);
    // pg_terminate_backend only signals: the backend lets go of its locks once it has exited, a moment
    // later on a loaded machine. B asks once the server no longer lists the lock as granted.
    for (let waited = 0; ; waited += 50) {
      const { rows: held } = await db.pool.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND classid = $1::int4::oid AND granted",
        [PG_LOCK_CLASS.dispatchTick],
      );
      if (held[0]?.n === 0) break;
      if (waited > 10_000) throw new Error("the terminated backend still holds the tick lock after 10 s");
      await new Promise((r) => setTimeout(r, 50));
    }
    expect((await b.ask("lock", "locked", "busy")).event).toBe("locked");
    // A's next call opens a new session: registered (alive) again, and the lock is B's.
    expect((await a.ask("lock", "locked", "busy")).event).toBe("busy");
    const entries = await pgDispatcherEntries(db, "lost", nowSeconds());
    expect(entries.map((e) => [e.id, e.state]).sort()).toEqual([
      ["a-lost", "alive"],
      ["b-lost", "alive"],
    ]);
  });

  it("a clean stop marks the row stopped, frees its locks, and is no predecessor to recover", async () => {
    const a = holder("clean", "a-clean");
    await a.next("registered");
    expect((await a.ask("lock", "locked", "busy")).event).toBe("locked");
    await a.ask("beat", "beat");
    await a.ask("stop", "stopped");
    await a.exited();
    const rows = await listPgDispatchers(db, "clean");
    expect(rows).toEqual([expect.objectContaining({ id: "a-clean", session_alive: false, ticks: 1 })]);
    expect(rows[0]?.stopped_at).not.toBeNull();
    expect((await pgDispatcherEntries(db, "clean", nowSeconds() + 3600))[0]?.state).toBe("stopped");
    const b = holder("clean", "b-clean");
    expect((await b.next("registered")).predecessors).toEqual([]);
    expect((await b.ask("lock", "locked", "busy")).event).toBe("locked");
    expect(await nudgePgDispatchers(db, "clean")).toBe(1);
  });
});
