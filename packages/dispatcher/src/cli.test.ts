import fs from "node:fs";
import path from "node:path";
import { dispatcherLockPath, nudgeDispatcher, readDispatcherStatus } from "@kanban/db";
import { dumpRows } from "@kanban/db/testing";
import type { Board } from "@kanban/kernel";
import { boardInternals } from "@kanban/kernel/testing";
import { describe, expect, it } from "vitest";
import {
  fakeProfile,
  firstTick,
  makeHome,
  recordingEnv,
  runBin,
  startBin,
  track,
  trackRecorded,
  useBinHomes,
  waitFor,
} from "../test/helpers.ts";
import { isPidAlive } from "@kanban/process";

/**
 * The real `kanban-dispatcher` bin in its own process: one-shot ticks, the loop, signals, the
 * singleton lock, and a dispatcher SIGKILLed in the middle of a tick.
 */
const setup = useBinHomes();
const env = recordingEnv;

/** The tasks, read at once (independent reads). */
const tasksOf = async (b: Board, ids: string[]) => await Promise.all(ids.map((id) => b.requireTask(id)));
const allDone = (b: Board, ids: string[]) => async () =>
  (await Promise.all(ids.map((id) => b.getTask(id)))).every((t) => t?.status === "done");

describe("kanban-dispatcher (one shot and usage)", { timeout: 60_000 }, () => {
  it("prints help, and refuses bad usage (exit 2) and bad configuration (exit 1) with one line", async () => {
    const h = setup({ kanban: { max_spawn: 0 } });
    const okHome = makeHome({});
    try {
      const [help, unknown, badMax, jsonLoop, badSlug, badConfig, noBoard] = await Promise.all([
        runBin(["--help"], okHome.env),
        runBin(["--frobnicate"], okHome.env),
        runBin(["--once", "--max", "0"], okHome.env),
        runBin(["--json"], okHome.env),
        runBin(["--once", "--board", "Not A Slug!"], okHome.env),
        runBin(["--once"], h.env),
        runBin(["--once", "--board", "nope"], okHome.env),
      ]);
      expect(help.code).toBe(0);
      expect(help.stdout).toContain("kanban-dispatcher --once [--board <slug>] [--dry-run]");
      expect(unknown).toMatchObject({
        code: 2,
        stderr: "kanban-dispatcher: unknown argument '--frobnicate' (see --help)\n",
      });
      expect(badMax).toMatchObject({
        code: 2,
        stderr: "kanban-dispatcher: --max must be a positive integer, got '0' (see --help)\n",
      });
      expect(jsonLoop.code).toBe(2);
      expect(jsonLoop.stderr).toContain("--json only applies to --once");
      expect(badSlug.code).toBe(2);
      expect(badSlug.stderr).toMatch(/^kanban-dispatcher: invalid board slug/);
      expect(badConfig.code).toBe(1);
      expect(badConfig.stderr).toMatch(/^kanban-dispatcher: invalid .*config\.json: kanban\.max_spawn: .*\n$/);
      expect(noBoard.code).toBe(1);
      expect(noBoard.stderr).toBe(
        "kanban-dispatcher: board 'nope' does not exist. Create it with `kanban boards create nope`.\n",
      );
    } finally {
      okHome.cleanup();
    }
  });

  it("--once --json runs one tick and prints the dispatch shape; the worker outlives the one-shot process", async () => {
    const h = setup({ kanban: { crash_grace_seconds: 0 }, profiles: { alice: fakeProfile("complete") } });
    const b = h.board();
    const t = (await b.createTask({ title: "go", assignee: "alice" })).id;
    const loose = (await b.createTask({ title: "loose" })).id;
    const ghost = (await b.createTask({ title: "ghost", assignee: "ghost" })).id;
    const r = await runBin(["--once", "--json"], env(h));
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(Object.keys(json).sort()).toEqual(
      [
        "reclaimed",
        "crashed",
        "timed_out",
        "stale",
        "auto_blocked",
        "rate_limited",
        "transient",
        "auto_revived",
        "revive_exhausted",
        "promoted",
        "spawned",
        "skipped_unassigned",
        "skipped_nonspawnable",
        "skipped_per_profile_capped",
        "auto_assigned_default",
        "respawn_guarded",
        "held",
        "skipped_locked",
      ].sort(),
    );
    expect(json).toEqual({
      reclaimed: 0,
      crashed: [],
      timed_out: [],
      stale: [],
      auto_blocked: [],
      rate_limited: [],
      transient: [],
      auto_revived: [],
      revive_exhausted: [],
      promoted: 0,
      spawned: [{ task_id: t, assignee: "alice", workspace: path.join(h.home, "kanban", "workspaces", t) }],
      skipped_unassigned: [loose],
      skipped_nonspawnable: [ghost],
      skipped_per_profile_capped: [],
      auto_assigned_default: [],
      respawn_guarded: [],
      held: [],
      skipped_locked: false,
    });
    await waitFor(allDone(b, [t]), "the worker to complete after the one-shot exited");

    const next = (await b.createTask({ title: "text", assignee: "alice" })).id;
    const text = await runBin(["--once"], env(h));
    expect(text.code).toBe(0);
    expect(text.stdout).toContain("Reclaimed: 0\n");
    expect(text.stdout).toContain(
      `Spawned: 1\n  ${next}  @alice  ${path.join(h.home, "kanban", "workspaces", next)}\n`,
    );
    expect(text.stdout).toContain(`Skipped (unassigned): ${loose}\n`);
    expect(text.stdout).toContain(`Skipped (assignee is not a spawnable profile): ${ghost}`);
    await waitFor(allDone(b, [next]), "the second worker to complete");
  });

  it("--dry-run reports what it would spawn; with nothing to recover it writes nothing", async () => {
    const h = setup({ kanban: { default_assignee: "alice" }, profiles: { alice: fakeProfile("complete") } });
    const b = h.board();
    const t = (await b.createTask({ title: "maybe", assignee: "alice" })).id;
    const loose = (await b.createTask({ title: "loose" })).id;
    const before = dumpRows(boardInternals(b).sqlite);
    // The tick lock file (a dry run takes it too: its sweeps write) is not the board's data, nor is the
    // record that the file passed its integrity check (<db>.integrity-ok, written by the first open).
    const files = () =>
      fs
        .readdirSync(h.home, { recursive: true })
        .map(String)
        .filter((f) => !f.endsWith(".dispatch.lock") && !f.endsWith(".integrity-ok"))
        .sort();
    const filesBefore = files();
    const r = await runBin(["--once", "--dry-run", "--json"], env(h));
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout) as { spawned: unknown[]; auto_assigned_default: string[] };
    expect(json.spawned).toEqual([
      { task_id: t, assignee: "alice", workspace: "" },
      { task_id: loose, assignee: "alice", workspace: "" },
    ]);
    expect(json.auto_assigned_default).toEqual([loose]);
    expect(dumpRows(boardInternals(b).sqlite)).toEqual(before);
    expect(files()).toEqual(filesBefore);
    const text = await runBin(["--once", "--dry-run"], env(h));
    expect(text.stdout).toContain("Dry run: recovery and promotion ran; nothing was claimed or spawned.\n");
    expect(text.stdout).toContain("Would spawn: 2\n");
    expect(dumpRows(boardInternals(b).sqlite)).toEqual(before);
  });
});

describe("kanban-dispatcher (the loop)", { timeout: 120_000 }, () => {
  it("refuses to start a second dispatcher for the same home, naming the holder's pid", async () => {
    const h = setup({});
    const first = startBin([], env(h, { KANBAN_DISPATCH_INTERVAL: "0.2" }));
    await firstTick(h.home, first);
    const second = await runBin([], env(h));
    expect(second.code).toBe(1);
    expect(second.stderr).toBe(
      `kanban-dispatcher: another dispatcher is already running for ${h.home} (pid ${first.child.pid})\n`,
    );
    first.child.kill("SIGTERM");
    expect((await first.exited).code).toBe(0);
  });

  it("SIGINT/SIGTERM finish cleanly (exit 0, lock released, stopped_at written), its workers stopped and their tasks given back", async () => {
    const h = setup({ kanban: { crash_grace_seconds: 0 }, profiles: { alice: fakeProfile("hang") } });
    const b = h.board();
    const t = (await b.createTask({ title: "long", assignee: "alice" })).id;
    const d = startBin([], env(h, { KANBAN_DISPATCH_INTERVAL: "0.2" }));
    const worker = await waitFor(async () => (await b.getTask(t))?.worker_pid, "the worker to be spawned", 45_000);
    track(worker);
    await waitFor(
      () => (readDispatcherStatus(h.home)?.running_workers ?? []).some((w) => w.pid === worker),
      "the status to list the worker",
    );
    // Ctrl-C under a supervisor: SIGINT to the group, then the supervisor's SIGTERM.
    d.child.kill("SIGINT");
    d.child.kill("SIGTERM");
    const exit = await d.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(fs.existsSync(dispatcherLockPath(h.home))).toBe(false);
    const status = readDispatcherStatus(h.home);
    expect(status?.alive).toBe(false);
    expect(status?.stopped_at).toEqual(expect.any(Number));
    expect(status?.pid).toBe(d.child.pid);
    expect(status?.ticks).toBeGreaterThan(0);
    // Nothing it started works on unsupervised (supervisor.test.ts covers workers that ignore SIGTERM).
    expect(isPidAlive(worker)).toBe(false);
    expect((await b.requireTask(t)).status).toBe("ready");
    expect((await b.requireTask(t)).consecutive_failures).toBe(0);
    expect(d.stderr()).toContain("stopped");
  });

  it("wakes up early when the API nudges it", async () => {
    const h = setup({ kanban: { crash_grace_seconds: 0 }, profiles: { alice: fakeProfile("complete") } });
    const b = h.board();
    // An hour between ticks: only the nudge can wake it before the test's own deadline.
    const d = startBin([], env(h, { KANBAN_DISPATCH_INTERVAL: "3600" }));
    expect((await firstTick(h.home, d)).ticks).toBe(1);
    const t = (await b.createTask({ title: "now please", assignee: "alice" })).id;
    expect(nudgeDispatcher(h.home)).toBe(true);
    await waitFor(allDone(b, [t]), "the nudged tick to spawn a worker that completes", 45_000);
    d.child.kill("SIGTERM");
    expect((await d.exited).code).toBe(0);
  });

  it("SIGKILL in the middle of a tick, then a restart: no task is lost or run twice", async () => {
    // A long claim TTL: the orphaned claim must come back at start-up, not after the lease expires.
    const h = setup({
      kanban: { crash_grace_seconds: 0, claim_ttl_seconds: 900, failure_limit: 5 },
      profiles: { alice: fakeProfile("heartbeat-then-complete") },
    });
    const b = h.board();
    const ids: string[] = [];
    for (const i of [1, 2, 3, 4]) ids.push((await b.createTask({ title: `t${i}`, assignee: "alice" })).id);
    // The first dispatcher pauses between each claim and its spawn: it is killed inside that window.
    const first = startBin(
      [],
      env(h, { KANBAN_DISPATCH_INTERVAL: "0.2", KANBAN_DISPATCHER_TEST_CLAIM_DELAY_MS: "1500" }),
    );
    await waitFor(
      async () => {
        const tasks = await tasksOf(b, ids);
        return (
          tasks.some((t) => t.worker_pid !== null || t.status === "done") &&
          tasks.some((t) => t.status === "running" && t.worker_pid === null)
        );
      },
      "a spawned task and a claimed-but-not-spawned task",
      20_000,
      10,
    );
    process.kill(first.child.pid ?? 0, "SIGKILL");
    expect((await first.exited).signal).toBe("SIGKILL");
    const orphan = (await tasksOf(b, ids)).find((t) => t.status === "running" && t.worker_pid === null)?.id;
    expect(orphan).toBeDefined();
    expect(fs.existsSync(`${b.path}.dispatch.lock`)).toBe(true); // left behind by the killed tick
    expect(fs.existsSync(dispatcherLockPath(h.home))).toBe(true);

    const second = startBin([], env(h, { KANBAN_DISPATCH_INTERVAL: "0.2" }));
    // A hang guard, not a speed bound: the restart reclaims the orphan, and the killed tick's worker
    // dies with its parent and is booked as a crash before it runs again; under CI load that took >25 s.
    await waitFor(allDone(b, ids), "every task to be done after the restart", 90_000);
    second.child.kill("SIGTERM");
    expect((await second.exited).code).toBe(0);

    const records = trackRecorded(path.join(h.home, "record.jsonl"));
    for (const id of ids) {
      const runs = await b.listRuns(id);
      expect(
        runs.filter((r) => r.outcome === "completed"),
        id,
      ).toHaveLength(1);
      expect(
        (await b.listEvents(id)).filter((e) => e.kind === "spawned"),
        id,
      ).toHaveLength(1);
      expect(
        records.filter((r) => r.env.KANBAN_TASK === id),
        id,
      ).toHaveLength(1);
      const completed = runs.find((r) => r.outcome === "completed");
      expect(
        (await b.listEvents(id)).filter((e) => e.kind === "heartbeat" && e.run_id === completed?.id),
        id,
      ).toHaveLength(3);
    }
    expect((await b.listRuns(orphan ?? "")).map((r) => r.outcome)).toEqual(["reclaimed", "completed"]);
    const reclaimed = (await b.listEvents(orphan ?? "")).find((e) => e.kind === "reclaimed");
    expect(reclaimed?.payload).toMatchObject({
      manual: true,
      reason: `dispatcher pid ${first.child.pid} stopped before spawning a worker`,
    });
  }, 180_000);
});
