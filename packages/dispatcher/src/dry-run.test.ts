import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { boardInternals, TestClock } from "@kanban/kernel/testing";
import { afterEach, describe, expect, it } from "vitest";
import { fakeProfile, killAll, makeHome, type TestHome, trackPool } from "../test/helpers.ts";
import { createDispatcher } from "./dispatcher.ts";
import { formatText } from "./format.ts";

/**
 * `kanban dispatch --dry-run` is Hermes' dry run: the recovery sweeps (stale claims, stale running,
 * crashed workers, max runtime) and promotion really run; only claiming and spawning are simulated.
 */
let home: TestHome | null = null;

afterEach(async () => {
  await killAll();
  home?.cleanup();
  home = null;
});

/** The pid of a process that has already exited (and been reaped). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ["-e", ""]);
  if (r.pid === undefined) throw new Error("could not start a process");
  return r.pid;
}

describe("dry run", { timeout: 30_000 }, () => {
  it("recovers and promotes like a real tick, but claims and spawns nothing", async () => {
    home = makeHome({
      kanban: { crash_grace_seconds: 0, failure_limit: 5 },
      profiles: { alice: fakeProfile("complete") },
    });
    const b = home.board();
    // A running task whose worker is dead: the crash sweep requeues it.
    const crashed = (await b.createTask({ title: "worker died", assignee: "bob" })).id;
    const run = (await b.claimTask(crashed))?.current_run_id as number;
    expect(await b.recordSpawn(crashed, deadPid(), run)).toBe(true);
    // A claim whose lease ran out with no worker: the stale-claim sweep requeues it.
    const expired = (await b.createTask({ title: "lease ran out", assignee: "bob" })).id;
    expect(await b.claimTask(expired, { ttl_seconds: 1 })).not.toBeNull();
    // A todo child whose parent is done (written behind the kernel's back): promotion makes it ready.
    const parent = (await b.createTask({ title: "parent", assignee: "bob" })).id;
    const child = (await b.createTask({ title: "child", assignee: "bob", parents: [parent] })).id;
    expect((await b.requireTask(child)).status).toBe("todo");
    boardInternals(b).sqlite.prepare("UPDATE tasks SET status = 'done', completed_at = 1 WHERE id = ?").run(parent);
    const ready = (await b.createTask({ title: "would run", assignee: "alice" })).id;

    const clock = new TestClock(Math.floor(Date.now() / 1000) + 60);
    const d = createDispatcher(home.config(), { log: () => {}, clock });
    trackPool(d.pool);
    const r = await d.once({ dryRun: true });

    expect(r.crashed).toEqual([crashed]);
    expect(r.reclaimed).toBe(1);
    expect(r.promoted).toBe(1);
    expect(r.spawned).toEqual([{ task_id: ready, assignee: "alice", workspace: "", pid: null }]);
    expect(await b.requireTask(crashed)).toMatchObject({ status: "ready", claim_lock: null, consecutive_failures: 1 });
    expect(await b.requireTask(expired)).toMatchObject({ status: "ready", claim_lock: null });
    expect((await b.requireTask(child)).status).toBe("ready");
    // The spawn itself was only simulated.
    expect(await b.requireTask(ready)).toMatchObject({ status: "ready", claim_lock: null, current_run_id: null });
    expect(await b.listRuns(ready)).toEqual([]);
    expect(d.pool.running()).toEqual([]);
    expect(formatText(r, { dryRun: true })).toContain(
      "Dry run: recovery and promotion ran; nothing was claimed or spawned.",
    );
  });

  it("names a ready task's assignee that is not a Hermes profile on this host (no profiles configured)", async () => {
    home = makeHome({});
    const profileDir = path.join(home.home, "hermes-home", "profiles", "writer");
    fs.mkdirSync(profileDir, { recursive: true });
    fs.writeFileSync(path.join(profileDir, "config.yaml"), "model: x\n");
    const b = home.board();
    const writer = (await b.createTask({ title: "for writer", assignee: "writer" })).id;
    const ghost = (await b.createTask({ title: "for nobody", assignee: "ghost" })).id;
    const r = await createDispatcher(home.config(), { log: () => {} }).once({ dryRun: true });
    expect(r.spawned.map((s) => s.task_id)).toEqual([writer]);
    expect(r.skipped_nonspawnable).toEqual([ghost]);
    expect(r.not_a_profile).toEqual([{ task_id: ghost, assignee: "ghost" }]);
    expect(formatText(r, { dryRun: true })).toContain(
      `Skipped (assignee is not a spawnable profile): ${ghost}  @ghost is not a profile on this host; reassign it`,
    );
  });

  it("the loop's tick warns once that a ready task waits for a name that is not a profile", async () => {
    home = makeHome({});
    const b = home.board();
    const ghost = (await b.createTask({ title: "for nobody", assignee: "ghost" })).id;
    const d = createDispatcher(home.config(), { log: () => {} });
    const summary = (await d.tick()).boards[0];
    expect(summary?.not_a_profile).toEqual([{ task_id: ghost, assignee: "ghost" }]);
    await d.tick();
    const warnings = d.status().warnings.map((w) => w.message);
    expect(warnings).toEqual([
      `board default: ${ghost} is assigned to 'ghost', which is not a profile on this host (Hermes profiles: default); it stays in ready until it is reassigned`,
    ]);
  });
});
