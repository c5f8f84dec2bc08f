import fs from "node:fs";
import path from "node:path";
import type { Board } from "@kanban/kernel";
import { afterEach, describe, expect, it } from "vitest";
import { fakeProfile, killAll, makeHome, type TestHome, trackPool, waitFor } from "../test/helpers.ts";
import { createDispatcher, type Dispatcher } from "./dispatcher.ts";

/**
 * Issue 17's failure classes through a real dispatcher and real worker processes: a worker that
 * exits 75 (rate limited) and one that exits 0 without settling its task (a protocol violation).
 */
let home: TestHome | null = null;

afterEach(async () => {
  await killAll();
  home?.cleanup();
  home = null;
});

async function events(b: Board, id: string, kind: string) {
  return (await b.listEvents(id)).filter((e) => e.kind === kind);
}

describe("failure classes with real workers", { timeout: 30_000 }, () => {
  it("exit 75: ready, no failure, held by the guard; exit 0 early: requeued and counted, not blocked", async () => {
    home = makeHome({});
    // A worker that meets its provider's rate limit: says so on its output and exits EX_TEMPFAIL.
    const limited = path.join(home.home, "rate-limited-worker.mjs");
    fs.writeFileSync(limited, 'console.log("provider answered 429");\nprocess.exit(75);\n');
    home.writeConfig({
      kanban: { crash_grace_seconds: 0 },
      profiles: {
        limited: { command: [process.execPath, limited, "{task_id}"], env: {}, skills: [] },
        quitter: fakeProfile("exit0"),
      },
    });
    const b = home.board();
    const rl = (await b.createTask({ title: "limited", assignee: "limited" })).id;
    const quit = (await b.createTask({ title: "quits", assignee: "quitter" })).id;
    const d: Dispatcher = createDispatcher(home.config(), { log: () => {} });
    trackPool(d.pool);

    const spawned = (await d.tick()).boards[0]?.spawned ?? [];
    expect(spawned.map((s) => s.task_id).sort()).toEqual([rl, quit].sort());
    await waitFor(() => spawned.every((s) => d.pool.exitStatus(s.pid ?? 0)), "both workers to exit");
    // A dry run recovers (classifies the exits) and walks the lane without spawning.
    const r = await d.once({ dryRun: true });
    expect(r.auto_blocked).toEqual([]);
    expect(r.crashed).toEqual([quit]);
    expect(r.respawn_guarded).toEqual([{ task_id: rl, reason: "rate_limit_cooldown" }]);

    expect(await b.requireTask(rl)).toMatchObject({ status: "ready", consecutive_failures: 0 });
    expect((await b.listRuns(rl))[0]).toMatchObject({ status: "rate_limited", outcome: "rate_limited" });
    expect((await events(b, rl, "rate_limited"))[0]?.payload).toMatchObject({ exit_code: 75 });
    expect(await b.respawnGuard(rl)).toBe("rate_limit_cooldown");

    expect(await b.requireTask(quit)).toMatchObject({ status: "ready", consecutive_failures: 1 });
    const violation = (await events(b, quit, "protocol_violation"))[0]?.payload;
    expect(violation).toMatchObject({ exit_code: 0, protocol_violation: true });
    // The worker's own last output (its log) rides on the event.
    expect(String(violation?.worker_output)).toContain("mode=exit0");
    expect(await b.respawnGuard(quit)).toBeNull();

    // The next real tick retries the violator (under the streak limit, although the board's
    // failure limit is 2) and leaves the rate-limited task cooling down.
    const again = (await d.tick()).boards[0]?.spawned ?? [];
    expect(again.map((s) => s.task_id)).toEqual([quit]);
    await waitFor(() => again.every((s) => d.pool.exitStatus(s.pid ?? 0)), "the violator to exit again");
    expect((await d.once({ dryRun: true })).auto_blocked).toEqual([]);
    expect(await b.requireTask(quit)).toMatchObject({ status: "ready", consecutive_failures: 2 });
    expect(await b.requireTask(rl)).toMatchObject({ status: "ready", consecutive_failures: 0 });
  });
});
