import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { bundledScript } from "@kanban/db/testing-scripts";
import { afterEach, describe, expect, it, onTestFinished } from "vitest";
import { type ClaimerBoard, claimerLaunch, openClaimerBoard } from "../test/claimer-board.ts";
import { boardInternals, createTestBoard, rawSql, type TestBoard } from "./testing/index.ts";
import { testBoardAddress } from "./testing/test-board.ts";
import { settleTestSchemas, testStore } from "./testing/test-store.ts";

// Claim walks (claimNext, the dispatcher's path) in several OS processes on one board. On
// PostgreSQL walks run side by side, each locking the row it takes with FOR UPDATE SKIP LOCKED
// (store/pg/shared-writers.ts) instead of taking the board's one writer; on SQLite they take turns.
// Either way: no task claimed twice, none lost, and a live reader following the event log from a
// cursor meanwhile sees every claim exactly once, although on PostgreSQL the walks commit their
// event ids out of order.

const worker = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "test", "claim-next-worker.ts");
let board: TestBoard | undefined;
const children: { kill(): void }[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) c.kill();
  board?.cleanup();
  board = undefined;
  await settleTestSchemas();
});

interface Walker {
  ready: Promise<void>;
  done: Promise<{ name: string; won: string[] }>;
  go(): void;
}

async function walker(where: ClaimerBoard, name: string): Promise<Walker> {
  const { arg, env } = claimerLaunch(where);
  const child = spawn(process.execPath, [await bundledScript({ file: worker }), arg, name], {
    stdio: ["pipe", "pipe", "inherit"],
    env,
  });
  children.push({
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    },
  });
  let out = "";
  let markReady = () => {};
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });
  const done = new Promise<{ name: string; won: string[] }>((resolve, reject) => {
    child.stdout.on("data", (d) => {
      out += d;
      if (out.startsWith("ready\n")) markReady();
    });
    child.on("error", reject);
    child.on("exit", (code) =>
      code === 0 ? resolve(JSON.parse(out.slice("ready\n".length))) : reject(new Error(`${name} exited ${code}`)),
    );
  });
  return { ready: Promise.race([ready, done.then(() => {})]), done, go: () => child.stdin.end("go\n") };
}

/** A guard against a hung race, not a speed bound. */
const RACE_TIMEOUT_MS = 300_000;

describe("claim walks across OS processes", () => {
  it(
    "8 processes walking one lane: zero double claims, zero lost tasks, and a live reader sees every claim once",
    async () => {
      const total = 1_500;
      const b = createTestBoard();
      board = b;
      await boardInternals(b).ctx.tx(async () => {
        for (let i = 0; i < total; i++) await b.createTask({ title: `job ${i}`, assignee: "worker" });
      });
      await b.close();
      const where = testBoardAddress(b);
      const { arg, env } = claimerLaunch(where);
      expect(env.KANBAN_TEST_STORE).toBe(testStore());
      const check = await openClaimerBoard(arg, {}, env);
      try {
        const walkers = await Promise.all(["a", "b", "c", "d", "e", "f", "g", "h"].map((n) => walker(where, n)));
        await Promise.all(walkers.map((w) => w.ready));
        let cursor = await check.latestEventId();
        const claimedSeen: string[] = [];
        const ids: number[] = [];
        const follow = async () => {
          for (const e of await check.liveEventRows(cursor, 500)) {
            ids.push(e.id);
            cursor = e.id;
            if (e.kind === "claimed") claimedSeen.push(e.task_id);
          }
        };
        for (const w of walkers) w.go();
        let finished = false;
        const all = Promise.all(walkers.map((w) => w.done)).finally(() => {
          finished = true;
        });
        // Follow the log while the walkers run, as a live stream does.
        while (!finished) {
          await follow();
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        const results = await all;
        for (let i = 0; i < 100 && claimedSeen.length < total; i++) {
          await follow();
          await new Promise((resolve) => setTimeout(resolve, 20));
        }

        const won = results.flatMap((r) => r.won);
        expect(new Set(won).size).toBe(won.length); // nobody won a task twice
        expect(won.length).toBe(total); // every task was claimed by someone
        expect(results.filter((r) => r.won.length > 0).length).toBeGreaterThan(1);

        const stats = await rawSql(check).get(
          `SELECT count(*) AS tasks, sum(CASE WHEN status = 'running' THEN 1 ELSE 0 END) AS running,
             (SELECT count(*) FROM task_runs) AS runs, (SELECT count(*) FROM task_runs WHERE ended_at IS NULL) AS open_runs,
             (SELECT count(*) FROM task_events WHERE kind = 'claimed') AS claimed_events
           FROM tasks`,
        );
        expect(stats).toEqual({ tasks: total, running: total, runs: total, open_runs: total, claimed_events: total });
        // Each task's lock and open run are those of the process that reported winning it.
        const rows = await rawSql(check).all<{ id: string; claim_lock: string | null; run_lock: string | null }>(
          `SELECT t.id, t.claim_lock, r.claim_lock AS run_lock FROM tasks t JOIN task_runs r ON r.id = t.current_run_id`,
        );
        const lockOf = new Map(rows.map((r) => [r.id, r]));
        const misattributed = results.flatMap((r) =>
          r.won.filter((id) => {
            const row = lockOf.get(id);
            return !row?.claim_lock?.startsWith(`${r.name}:`) || row.run_lock !== row.claim_lock;
          }),
        );
        expect(misattributed).toEqual([]);

        // The live reader: ids strictly rising, every claim seen exactly once.
        expect(ids.every((id, i) => i === 0 || id > (ids[i - 1] as number))).toBe(true);
        expect(claimedSeen.length).toBe(total);
        expect(new Set(claimedSeen).size).toBe(total);
      } finally {
        await check.close();
      }
    },
    RACE_TIMEOUT_MS,
  );
});

describe("claim walks do not wait for each other on PostgreSQL", () => {
  it("while one walk holds a task, another walk passes it over and claims the next; a completion runs too", async () => {
    const b = createTestBoard();
    board = b;
    const [first, second] = [
      await b.createTask({ title: "first", assignee: "worker", priority: 2 }),
      await b.createTask({ title: "second", assignee: "worker", priority: 1 }),
    ];
    const running = await b.createTask({ title: "running", assignee: "worker", priority: 0 });
    const { ctx } = boardInternals(b);
    const claimedRunning = await b.claimTask(running.id, { claimer: "other:1" });

    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let held = () => {};
    const holding = new Promise<void>((resolve) => {
      held = resolve;
    });
    // A walk's transaction that has locked `first` and has not committed yet.
    const open = ctx.tx(
      async () => {
        const rows = (await ctx.all(
          testStore() === "postgres"
            ? "SELECT id FROM tasks WHERE id = ? FOR UPDATE SKIP LOCKED"
            : "SELECT id FROM tasks WHERE id = ?",
          first.id,
        )) as { id: string }[];
        held();
        await gate;
        return rows.length;
      },
      { shared: true },
    );
    onTestFinished(() => release());
    await holding;

    const walk = b.claimNext(b.readyLane(), { claimer: "walker:1" }, 1);
    const completion = b.completeTask(running.id, { summary: "ok", expected_run_id: claimedRunning?.current_run_id });
    if (testStore() === "postgres") {
      // Side by side: both finish while the transaction stays open (had either waited for it, this
      // would hang until the test's timeout), and the walk passed over the locked row to the next.
      await Promise.all([walk, completion]);
      expect((await walk).claimed.map((c) => c.task_id)).toEqual([second.id]);
    } else {
      // SQLite has one writer: both wait for the open transaction (nothing can settle them before
      // the release, so the second only sets how long the test looks).
      const settled = await Promise.race([
        Promise.all([walk, completion]).then(() => "done" as const),
        new Promise<"waiting">((resolve) => setTimeout(() => resolve("waiting"), 1_000)),
      ]);
      expect(settled).toBe("waiting");
    }
    release();
    expect(await open).toBe(1);
    await walk;
    expect((await completion).task.status).toBe("done");
    if (testStore() === "sqlite") expect((await walk).claimed.map((c) => c.task_id)).toEqual([first.id]);
  });
});
