import path from "node:path";
import { fileURLToPath } from "node:url";
import { boardLocationFromEnv, type RunningServer, silentLogger, startServer } from "@kanban/api";
import { openBoard } from "@kanban/kernel";
import type Database from "better-sqlite3";
import { boardInternals } from "@kanban/kernel/testing";
import { readDispatcherStatus } from "@kanban/db";
import { afterEach, describe, expect, it } from "vitest";
import { invariantViolations, openReader, taskDataHash } from "./support/board-checks.ts";
import { jitter, makeHome, type TempHome, waitFor, waitUntilNoneLeft } from "./support/env.ts";
import { ProcessTracker, type Started } from "./support/processes.ts";
import { CHAOS_WORKER, readRecords } from "./support/records.ts";

/**
 * Dispatcher chaos: the real `kanban-dispatcher` bin under load, SIGKILLed mid-tick again and
 * again and restarted each time. Claims it orphaned must come back (small claim TTL), workers it
 * left behind finish on their own, and in the end every task is done exactly once.
 */
const BIN = fileURLToPath(new URL("../../../packages/dispatcher/bin/kanban-dispatcher.mjs", import.meta.url));
const TASKS = 60;
const KILLS = 5;
// The drain after the last restart fails only when no task finishes for this long (a stall, not a
// slow machine: CI runs this beside two other suites, and the drain took 30 s idle, over 60 s there).
const DRAIN_STALL_MS = 45_000;

const procs = new ProcessTracker();
let home: TempHome | undefined;
let server: RunningServer | undefined;
let reader: Database.Database | undefined;

afterEach(async () => {
  await procs.killAll();
  reader?.close();
  await server?.close();
  home?.cleanup();
  home = undefined;
  server = undefined;
  reader = undefined;
});

describe("dispatcher chaos", () => {
  it(`${TASKS} tasks while the dispatcher is SIGKILLed mid-tick ${KILLS} times: nothing lost, nothing completed twice`, async () => {
    const started = Date.now();
    const h = makeHome("dispatcher-chaos");
    home = h;
    const record = path.join(h.outer, "workers.jsonl");
    h.writeConfig({
      // A killed dispatcher's orphaned claims expire after 2 s; a high failure limit keeps the
      // reclaims this test provokes on purpose from tripping the breaker.
      kanban: {
        dispatch_interval_seconds: 1,
        claim_ttl_seconds: 2,
        crash_grace_seconds: 0,
        failure_limit: 20,
        max_spawn: 6,
        terminate_grace_seconds: 1,
      },
      profiles: {
        chaos: {
          command: [process.execPath, CHAOS_WORKER, "{task_id}"],
          env: { CHAOS_RECORD: record, CHAOS_MIN_MS: "50", CHAOS_MAX_MS: "400" },
        },
      },
    });
    const location = boardLocationFromEnv(h.env);
    server = await startServer({ port: 0, location, logger: silentLogger });
    const board = openBoard({ location, warn: () => {} });
    await boardInternals(board).ctx.tx(async () => {
      for (let i = 0; i < TASKS; i++) await board.createTask({ title: `load ${i}`, assignee: "chaos" });
    });
    const dbPath = board.path;
    board.close();
    reader = openReader(dbPath);
    const db = reader;

    // The claim→spawn pause widens the window in which a tick holds claims it has not yet handed to a worker.
    const env = { ...h.env, KANBAN_URL: server.url, KANBAN_DISPATCHER_TEST_CLAIM_DELAY_MS: "120" };
    const start = (): Started => procs.startNode([BIN], { env });
    // A tick is "in flight" while it holds a claim whose worker is not recorded yet. Claims orphaned
    // by an earlier kill look the same until they expire, so only attempts not seen before count.
    const unspawned = db
      .prepare("SELECT id || ':' || current_run_id FROM tasks WHERE status = 'running' AND worker_pid IS NULL")
      .pluck();
    const freshClaim = (known: Set<string>) => (unspawned.all() as string[]).some((k) => !known.has(k));
    const remaining = db.prepare("SELECT count(*) FROM tasks WHERE status != 'done'").pluck();
    let midTickKills = 0;
    const orphans = new Set<string>();
    for (let i = 0; i < KILLS; i++) {
      const d = start();
      // Its loop is running once its pid is in the status file (written before the first tick): a
      // kill before that would only interrupt module loading, which takes seconds on a busy machine.
      await waitFor(() => readDispatcherStatus(h.home)?.pid === d.pid, "the dispatcher to start", 30_000);
      await jitter(200, 1200);
      // Kill at the worst moment when one comes up soon; otherwise wherever the loop is.
      const known = new Set(unspawned.all() as string[]);
      const caught = await waitFor(() => freshClaim(known), "a tick between claim and spawn", 2500, 5).then(
        () => true,
        () => false,
      );
      process.kill(d.pid, "SIGKILL");
      const exit = await d.exited;
      expect(exit.signal).toBe("SIGKILL");
      if (caught) midTickKills++;
      // The claims the dead dispatcher took and never handed to a recorded worker.
      for (const k of unspawned.all() as string[]) if (!known.has(k)) orphans.add(k);
      // Workers the dead dispatcher started run on, in their own process groups: track them for cleanup.
      for (const r of readRecords(record)) procs.adoptPid(r.pid);
    }
    expect(remaining.get() as number, "the kills must land while work is still pending").toBeGreaterThan(0);
    const last = start();
    const drainMs = await waitUntilNoneLeft(
      () => remaining.get() as number,
      "tasks not done after the last restart",
      DRAIN_STALL_MS,
    ).catch((e: Error) => {
      const rows = db
        .prepare("SELECT id, status, current_run_id, worker_pid, claim_expires FROM tasks WHERE status != 'done'")
        .all() as {
        id: string;
        status: string;
        current_run_id: number | null;
        worker_pid: number | null;
        claim_expires: number | null;
      }[];
      const stuck = rows.map(
        (t) => `${t.id}:${t.status} run=${t.current_run_id} pid=${t.worker_pid} expires=${t.claim_expires}`,
      );
      const log = `${last.stdout()}${last.stderr()}`.slice(-3000);
      throw new Error(`${e.message}\nnot done: ${stuck.join(", ")}\n--- last dispatcher ---\n${log}`);
    });
    const records = readRecords(record);
    for (const r of records) procs.adoptPid(r.pid);
    process.kill(last.pid, "SIGTERM");
    expect((await last.exited).code).toBe(0);

    expect(invariantViolations(db)).toEqual([]);
    // Nothing lost: every task is done. Nothing twice: one completed run and one completed event each.
    expect(db.prepare("SELECT count(*) FROM tasks WHERE status = 'done'").pluck().get()).toBe(TASKS);
    const perTask = db
      .prepare(
        `SELECT t.id,
           (SELECT count(*) FROM task_runs r WHERE r.task_id = t.id AND r.outcome = 'completed') AS completed_runs,
           (SELECT count(*) FROM task_events e WHERE e.task_id = t.id AND e.kind = 'completed') AS completed_events,
           (SELECT count(*) FROM task_runs r WHERE r.task_id = t.id AND r.ended_at IS NULL) AS open_runs
         FROM tasks t`,
      )
      .all() as { id: string; completed_runs: number; completed_events: number; open_runs: number }[];
    expect(perTask.filter((t) => t.completed_runs !== 1 || t.completed_events !== 1 || t.open_runs !== 0)).toEqual([]);
    // Each acknowledged completion is the one the board kept; every refused one was a stale attempt.
    const completedRun = db.prepare("SELECT id FROM task_runs WHERE task_id = ? AND outcome = 'completed'").pluck();
    const completions = records.filter((r) => r.event === "completed");
    const stale = records.filter((r) => r.event === "stale");
    expect(records.filter((r) => r.event === "error")).toEqual([]);
    for (const r of completions) expect(completedRun.get(r.task)).toBe(r.run);
    for (const r of stale) expect(completedRun.get(r.task)).not.toBe(r.run);
    expect(new Set(completions.map((r) => r.task)).size).toBe(completions.length);
    const reclaimed = db.prepare("SELECT count(*) FROM task_events WHERE kind = 'reclaimed'").pluck().get() as number;

    // The workers of the reclaimed attempts arrive late, as real worker processes with their old run
    // and lock: every heartbeat and completion is refused with STALE_RUN, and nothing changes but the
    // one late_report event each refused completion leaves on its task.
    const runs = db.prepare("SELECT id, task_id, claim_lock FROM task_runs WHERE outcome = 'reclaimed'").all() as {
      id: number;
      task_id: string;
      claim_lock: string | null;
    }[];
    const lateRecord = path.join(h.outer, "late.jsonl");
    const snapshot = taskDataHash(db, true);
    const late = runs.map((run) =>
      procs.startNode([CHAOS_WORKER], {
        env: {
          ...h.env,
          KANBAN_URL: server?.url ?? "",
          KANBAN_TASK: run.task_id,
          KANBAN_RUN_ID: String(run.id),
          ...(run.claim_lock ? { KANBAN_CLAIM_LOCK: run.claim_lock } : {}),
          CHAOS_RECORD: lateRecord,
          CHAOS_MIN_MS: "0",
          CHAOS_MAX_MS: "0",
        },
      }),
    );
    expect(runs.length).toBeGreaterThan(0);
    for (const l of late) expect((await l.exited).code).toBe(1);
    const lateOutcomes = readRecords(lateRecord).filter((r) => r.event !== "start");
    expect(lateOutcomes.filter((r) => r.event === "stale" && r.code === "STALE_RUN")).toHaveLength(runs.length);
    expect(lateOutcomes.filter((r) => r.event === "completed" || r.event === "error")).toEqual([]);
    expect(taskDataHash(db, true)).toBe(snapshot);
    // Each reclaimed run's refused completion is on its task once (a second refusal of the same run,
    // during the chaos or now, adds nothing).
    const lateReports = db
      .prepare("SELECT count(*) FROM task_events WHERE kind = 'late_report' AND task_id = ? AND run_id = ?")
      .pluck();
    expect(runs.filter((r) => lateReports.get(r.task_id, r.id) !== 1)).toEqual([]);
    // Every claim a kill orphaned came back: its run was reclaimed by a later dispatcher (or, when the
    // kill fell between spawn and record, its worker completed it), and its task is done.
    expect(orphans.size).toBeGreaterThan(0);
    const runOutcome = db.prepare("SELECT outcome FROM task_runs WHERE id = ? AND task_id = ?").pluck();
    for (const key of orphans) {
      const [task, run] = key.split(":");
      expect(["reclaimed", "completed"], key).toContain(runOutcome.get(Number(run), task));
    }
    console.log(
      `dispatcher chaos: ${KILLS} kills (${midTickKills} between claim and spawn), ${orphans.size} claims orphaned, ${reclaimed} reclaimed, ` +
        `${stale.length} stale completions refused during the run, ${runs.length} late workers refused after it, drain ${(drainMs / 1000).toFixed(1)} s, ${((Date.now() - started) / 1000).toFixed(1)} s in all`,
    );
    expect(midTickKills).toBeGreaterThan(0);
  }, 300_000);
});
