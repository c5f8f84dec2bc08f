import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { bundledScript } from "@kanban/db/testing-scripts";
import { afterEach, describe, expect, it } from "vitest";
import { type ClaimerBoard, claimerLaunch, openClaimerBoard } from "../test/claimer-board.ts";
import { heldClaimer } from "../test/held-claimer.ts";
import { boardInternals, createTestBoard, rawSql, type TestBoard } from "./testing/index.ts";
import { testBoardAddress } from "./testing/test-board.ts";
import { settleTestSchemas, testStore } from "./testing/test-store.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const worker = path.join(here, "..", "test", "claim-worker.ts");
let board: TestBoard | undefined;
/** Claimer processes of the current test, killed after it (a timed-out test must not leave them claiming). */
const children: { kill(): void }[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) c.kill();
  board?.cleanup();
  board = undefined;
  await settleTestSchemas();
});

async function runClaimer(where: ClaimerBoard, name: string): Promise<{ name: string; won: string[]; lost: number }> {
  // The child opens the board the way this run made it (file path, or PostgreSQL URL and slug).
  const { arg, env } = claimerLaunch(where);
  const script = await bundledScript({ file: worker });
  return await new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, arg, name], {
      stdio: ["ignore", "pipe", "inherit"],
      env,
    });
    children.push({
      kill: () => {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      },
    });
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`${name} exited ${code}`))));
  });
}

/** A closed board with `total` ready tasks, and where claimer processes find it. */
async function boardOfReadyTasks(total: number): Promise<ClaimerBoard> {
  const b = createTestBoard();
  board = b;
  await boardInternals(b).ctx.tx(async () => {
    for (let i = 0; i < total; i++) await b.createTask({ title: `job ${i}`, assignee: "worker" });
  });
  await b.close();
  return testBoardAddress(b);
}

/**
 * A guard against a hung race, not a speed bound (speed belongs in the benchmark): 20,000 claims by 8
 * processes took ~4 min on SQLite and ~5 min on PostgreSQL on a loaded 2-core machine.
 */
const RACE_TIMEOUT_MS = 600_000;

describe("claims across OS processes", () => {
  it(
    "8 processes claim 20,000 tasks from one file: zero double claims, zero lost tasks",
    async () => {
      const total = 20_000;
      const file = await boardOfReadyTasks(total);

      const results = await Promise.all(["a", "b", "c", "d", "e", "f", "g", "h"].map((n) => runClaimer(file, n)));
      const all = results.flatMap((r) => r.won);
      expect(new Set(all).size).toBe(all.length); // nobody won a task twice
      expect(all.length).toBe(total); // every task was claimed by someone
      for (const r of results) expect(r.won.length).toBeGreaterThan(0);
      // It was a race: some claims found their row taken by another process.
      expect(results.reduce((n, r) => n + r.lost, 0)).toBeGreaterThan(0);

      // Read back on a board opened the way the claimers opened it (own connection, same engine).
      const { arg, env } = claimerLaunch(file);
      expect(env.KANBAN_TEST_STORE).toBe(testStore());
      const check = await openClaimerBoard(arg, {}, env);
      try {
        const stats = await rawSql(check).get(
          `SELECT count(*) AS tasks, sum(CASE WHEN status = 'running' THEN 1 ELSE 0 END) AS running,
           (SELECT count(*) FROM task_runs) AS runs, (SELECT count(*) FROM task_runs WHERE ended_at IS NULL) AS open_runs,
           (SELECT count(*) FROM task_events WHERE kind = 'claimed') AS claimed_events
         FROM tasks`,
        );
        expect(stats).toEqual({ tasks: total, running: total, runs: total, open_runs: total, claimed_events: total });
        // The lock recorded on each task is the process that reported winning it: every task, read in
        // one query (a query per task would take each its own transaction on PostgreSQL).
        const lockOf = new Map(
          (await rawSql(check).all<{ id: string; claim_lock: string | null }>("SELECT id, claim_lock FROM tasks")).map(
            (row) => [row.id, row.claim_lock],
          ),
        );
        const misattributed = results.flatMap((r) =>
          r.won.filter((id) => !lockOf.get(id)?.startsWith(`${r.name}:`)).map((id) => `${id} won by ${r.name}`),
        );
        expect(misattributed).toEqual([]);
      } finally {
        await check.close();
      }
    },
    RACE_TIMEOUT_MS,
  );

  it(
    "8 processes released at once all get a share: nobody waits out the others in SQLite's backoff",
    async () => {
      // SQLite's own busy handler sleeps up to 100 ms between tries while the last committer takes the
      // lock straight back; with it, most runs of this test left some process with no claim at all.
      const total = 4_000;
      const file = await boardOfReadyTasks(total);
      const claimers = await Promise.all(["a", "b", "c", "d", "e", "f", "g", "h"].map((n) => heldClaimer(file, n)));
      children.push(...claimers);
      await Promise.all(claimers.map((c) => c.ready));
      for (const c of claimers) c.go();
      const results = await Promise.all(claimers.map((c) => c.done));
      const counts = results.map((r) => r.won.length);
      expect(counts.reduce((a, b) => a + b, 0)).toBe(total);
      const even = total / claimers.length;
      expect(Math.min(...counts), `claims per process: ${counts.join(", ")}`).toBeGreaterThanOrEqual(0.05 * even);
    },
    RACE_TIMEOUT_MS,
  );
});
