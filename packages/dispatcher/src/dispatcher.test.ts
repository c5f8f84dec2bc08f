import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { hasSpawnableReady } from "./dispatch-once.ts";
import { boardLocationFromEnv, createBoard } from "@kanban/db";
import { dumpRows } from "@kanban/db/testing";
import type { Board } from "@kanban/kernel";
import { boardInternals, TestClock } from "@kanban/kernel/testing";
import { afterEach, describe, expect, it } from "vitest";
import {
  fakeProfile,
  gitRepo,
  killAll,
  makeHome,
  readPids,
  type TestHome,
  trackPool,
  trackRecorded,
  waitFor,
} from "../test/helpers.ts";
import { loadConfig } from "./config.ts";
import { createDispatcher, type Dispatcher } from "./dispatcher.ts";
import { tryAcquireDispatchLock } from "./pid-lock.ts";
import { isPidAlive, processGroupAlive } from "@kanban/process";

/**
 * The dispatcher in this process, ticked by hand, spawning real fake-worker processes against real
 * board files. Workers are this process's children, so their exits are reaped and classified here.
 */
let home: TestHome | null = null;
let logs: string[] = [];

afterEach(async () => {
  await killAll();
  home?.cleanup();
  home = null;
  logs = [];
});

function setup(config: Record<string, unknown>): TestHome {
  home = makeHome(config);
  return home;
}

function dispatcher(h: TestHome, opts: { env?: Record<string, string>; clock?: TestClock } = {}): Dispatcher {
  const d = createDispatcher(h.config(opts.env), { log: (l) => logs.push(l), clock: opts.clock });
  trackPool(d.pool);
  return d;
}

function realClock(): TestClock {
  return new TestClock(Math.floor(Date.now() / 1000));
}

async function kinds(board: Board, id: string): Promise<string[]> {
  return (await board.listEvents(id)).map((e) => e.kind);
}

async function events(board: Board, id: string, kind: string) {
  return (await board.listEvents(id)).filter((e) => e.kind === kind);
}

const done = (b: Board, id: string) => async () => (await b.getTask(id))?.status === "done";

/** A task the breaker blocked after 2 failures (not sticky: a higher limit lets the tick promote it). */
async function breakerBlocked(b: Board): Promise<string> {
  const id = (await b.createTask({ title: "flaky" })).id; // unassigned: nothing spawns it once ready
  for (let i = 0; i < 2; i++) await b.recordTaskFailure(id, { error: "boom", outcome: "crashed" });
  expect(await b.requireTask(id)).toMatchObject({ status: "blocked", consecutive_failures: 2 });
  return id;
}

describe("spawn and complete", { timeout: 30_000 }, () => {
  it("claims a ready task, spawns its worker in a scratch workspace, and the worker completes it", async () => {
    const h = setup({ kanban: { crash_grace_seconds: 0 }, profiles: { alice: fakeProfile("complete") } });
    const record = path.join(h.home, "record.jsonl");
    const b = h.board();
    const t = await b.createTask({ title: "write it", assignee: "alice", tenant: "acme" });
    const d = dispatcher(h, { env: { FAKE_WORKER_RECORD: record } });
    const report = await d.tick();
    const workspace = path.join(h.home, "kanban", "workspaces", t.id);
    expect(report.boards).toHaveLength(1);
    const [summary] = report.boards;
    expect(summary?.spawned).toEqual([{ task_id: t.id, assignee: "alice", workspace, pid: expect.any(Number) }]);
    const pid = summary?.spawned[0]?.pid ?? 0;
    await waitFor(done(b, t.id), "the worker to complete the task");

    const task = await b.requireTask(t.id);
    expect(task.result).toBe(workspace); // the worker ran in its workspace
    expect(task.workspace_path).toBe(workspace);
    const runs = await b.listRuns(t.id);
    expect(runs.map((r) => [r.status, r.outcome, r.profile])).toEqual([["done", "completed", "alice"]]);
    expect(await kinds(b, t.id)).toEqual(
      expect.arrayContaining(["claimed", "spawned", "heartbeat", "commented", "completed"]),
    );
    expect((await events(b, t.id, "spawned"))[0]?.payload).toEqual({ pid });

    const [rec] = trackRecorded(record);
    expect(rec?.argv).toEqual(["complete", t.id]);
    expect(rec?.cwd).toBe(workspace);
    expect(rec?.env).toMatchObject({
      KANBAN_TASK: t.id,
      KANBAN_RUN_ID: String(runs[0]?.id),
      KANBAN_CLAIM_LOCK: `${os.hostname()}:${process.pid}`,
      KANBAN_WORKSPACE: workspace,
      KANBAN_TENANT: "acme",
      KANBAN_DB: path.join(h.home, "kanban.db"),
      KANBAN_BOARD: "default",
      KANBAN_HOME: h.home,
      KANBAN_PROFILE: "alice",
    });
    const log = fs.readFileSync(path.join(h.home, "kanban", "logs", `${t.id}.log`), "utf8");
    expect(log).toContain(`run ${runs[0]?.id} of ${t.id}`);
    expect(log).toContain("completed");

    await waitFor(() => d.pool.exitStatus(pid), "the worker to be reaped");
    expect(d.pool.exitStatus(pid)).toEqual({ code: 0, signal: null });
    // The next tick removes the finished task's scratch workspace.
    expect(fs.existsSync(workspace)).toBe(true);
    const next = await d.tick();
    expect(next.boards[0]?.spawned).toEqual([]);
    expect(fs.existsSync(workspace)).toBe(false);
  });

  it("runs dir and worktree workspaces in place, and turns a relative path into a spawn failure", async () => {
    const h = setup({ kanban: { crash_grace_seconds: 0 }, profiles: { alice: fakeProfile("complete") } });
    const b = h.board();
    const dir = path.join(h.home, "projects", "site");
    const repo = gitRepo(path.join(fs.realpathSync(h.home), "repo"));
    const inDir = await b.createTask({ title: "dir", assignee: "alice", workspace_kind: "dir", workspace_path: dir });
    const inTree = await b.createTask({
      title: "tree",
      assignee: "alice",
      workspace_kind: "worktree",
      workspace_path: repo,
    });
    const relative = await b.createTask({
      title: "rel",
      assignee: "alice",
      workspace_kind: "dir",
      workspace_path: "/placeholder",
    });
    // The kernel refuses relative paths at create; rows written by other tools may still hold one.
    boardInternals(b).sqlite.prepare("UPDATE tasks SET workspace_path = 'rel/dir' WHERE id = ?").run(relative.id);
    const d = dispatcher(h);
    const r = (await d.tick()).boards[0];
    const tree = path.join(repo, ".worktrees", inTree.id);
    expect(r?.spawned.map((s) => [s.task_id, s.workspace])).toEqual([
      [inDir.id, dir],
      [inTree.id, tree],
    ]);
    await waitFor(async () => (await done(b, inDir.id)()) && (await done(b, inTree.id)()), "both workers to complete");
    expect((await b.requireTask(inDir.id)).result).toBe(dir);
    expect((await b.requireTask(inTree.id)).result).toBe(tree);
    expect((await b.requireTask(inTree.id)).branch_name).toBe(`wt/${inTree.id}`);
    const rel = await b.requireTask(relative.id);
    expect(rel.status).toBe("ready");
    expect(rel.consecutive_failures).toBe(1);
    expect((await events(b, relative.id, "spawn_failed"))[0]?.payload?.error).toBe(
      `workspace: task ${relative.id} has non-absolute workspace_path 'rel/dir'; use an absolute path (relative paths are ambiguous against the dispatcher's CWD)`,
    );
    // dir and worktree workspaces are never cleaned up.
    await d.tick();
    expect(fs.existsSync(dir) && fs.existsSync(tree)).toBe(true);
  });

  it("launches Hermes workers with Hermes' command line and HERMES_* environment when no profiles are configured", async () => {
    const h = setup({ kanban: { crash_grace_seconds: 0 } });
    const hermesHome = path.join(h.home, "hermes-home");
    fs.mkdirSync(path.join(hermesHome, "profiles", "coder"), { recursive: true });
    fs.writeFileSync(path.join(hermesHome, "profiles", "coder", "config.yaml"), "model: x\n");
    const fakeHermes = path.join(h.home, "hermes");
    const worker = fakeProfile("complete").command[1] ?? "";
    fs.writeFileSync(fakeHermes, `#!/bin/sh\nexec "${process.execPath}" "${worker}" "$@"\n`);
    fs.chmodSync(fakeHermes, 0o755);
    const record = path.join(h.home, "record.jsonl");
    const b = h.board();
    const t = await b.createTask({ title: "h", assignee: "coder", skills: ["review"], model_override: "gpt-x" });
    const nobody = await b.createTask({ title: "n", assignee: "ghost" });
    const d = dispatcher(h, {
      env: { KANBAN_HERMES_BIN: fakeHermes, FAKE_WORKER_MODE: "complete", FAKE_WORKER_RECORD: record },
    });
    const r = (await d.tick()).boards[0];
    expect(r?.spawned.map((s) => s.task_id)).toEqual([t.id]);
    expect(r?.skipped_nonspawnable).toEqual([nobody.id]);
    await waitFor(done(b, t.id), "the hermes worker to complete");
    const [rec] = trackRecorded(record);
    expect(rec?.argv).toEqual([
      "-p",
      "coder",
      "--accept-hooks",
      "--skills",
      "kanban-worker",
      "--skills",
      "review",
      "-m",
      "gpt-x",
      "chat",
      "-q",
      `work kanban task ${t.id}`,
    ]);
    expect(rec?.env).toMatchObject({
      HERMES_KANBAN_TASK: t.id,
      HERMES_KANBAN_WORKSPACE: path.join(h.home, "kanban", "workspaces", t.id),
      HERMES_KANBAN_RUN_ID: String((await b.listRuns(t.id))[0]?.id),
      HERMES_KANBAN_CLAIM_LOCK: `${os.hostname()}:${process.pid}`,
      HERMES_KANBAN_DB: path.join(h.home, "kanban.db"),
      HERMES_KANBAN_BOARD: "default",
      HERMES_PROFILE: "coder",
      KANBAN_TASK: t.id,
    });
  });
});

describe("failures and the circuit breaker", { timeout: 30_000 }, () => {
  it("SIGKILL mid-run → crashed → retried → blocked with gave_up at the failure limit", async () => {
    const h = setup({
      kanban: { crash_grace_seconds: 0, failure_limit: 2, worker_log_rotate_bytes: 10, worker_log_backup_count: 1 },
      profiles: { alice: fakeProfile("hang") },
    });
    const b = h.board();
    const t = await b.createTask({ title: "fragile", assignee: "alice" });
    const d = dispatcher(h);
    const killWorker = async () => {
      const pid = (await b.requireTask(t.id)).worker_pid ?? 0;
      expect(isPidAlive(pid)).toBe(true);
      process.kill(pid, "SIGKILL");
      await waitFor(() => d.pool.exitStatus(pid), "the killed worker to be reaped");
      return pid;
    };
    expect((await d.tick()).boards[0]?.spawned).toHaveLength(1);
    const first = await killWorker();

    const second = (await d.tick()).boards[0];
    expect(second?.crashed).toEqual([t.id]);
    expect(second?.spawned.map((s) => s.task_id)).toEqual([t.id]); // retried at once
    expect((await b.requireTask(t.id)).consecutive_failures).toBe(1);
    // The second attempt rotated the first attempt's log aside.
    const log = path.join(h.home, "kanban", "logs", `${t.id}.log`);
    const [run1, run2] = await b.listRuns(t.id);
    expect(fs.readFileSync(`${log}.1`, "utf8")).toContain(`run ${run1?.id} of ${t.id}`);
    expect(fs.readFileSync(log, "utf8")).toContain(`run ${run2?.id} of ${t.id}`);
    const pid2 = await killWorker();

    const third = (await d.tick()).boards[0];
    expect(third?.crashed).toEqual([t.id]);
    expect(third?.auto_blocked).toEqual([t.id]);
    expect(third?.spawned).toEqual([]);
    const task = await b.requireTask(t.id);
    expect(task.status).toBe("blocked");
    expect(task.consecutive_failures).toBe(2);
    expect((await b.listRuns(t.id)).map((r) => [r.outcome, r.error])).toEqual([
      ["crashed", `pid ${first} killed by signal SIGKILL`],
      ["crashed", `pid ${pid2} killed by signal SIGKILL`],
    ]);
    expect((await events(b, t.id, "gave_up"))[0]?.payload).toMatchObject({
      failures: 2,
      effective_limit: 2,
      trigger_outcome: "crashed",
    });
    expect((await d.tick()).boards[0]?.spawned).toEqual([]); // a tripped task is never retried automatically
  });

  it("classifies exit codes: non-zero is a crash, exit 0 while still running is a (counted, not yet tripping) protocol violation", async () => {
    const h = setup({
      kanban: { crash_grace_seconds: 0, failure_limit: 3 },
      profiles: { crasher: fakeProfile("crash"), quitter: fakeProfile("exit0") },
    });
    const b = h.board();
    const crash = await b.createTask({ title: "c", assignee: "crasher" });
    const quit = await b.createTask({ title: "q", assignee: "quitter" });
    const d = dispatcher(h);
    const spawned = (await d.tick()).boards[0]?.spawned ?? [];
    await waitFor(() => spawned.every((s) => d.pool.exitStatus(s.pid ?? 0)), "both workers to exit");
    const r = (await d.tick()).boards[0];
    expect(r?.crashed.sort()).toEqual([crash.id, quit.id].sort());
    const crashPid = spawned.find((s) => s.task_id === crash.id)?.pid;
    expect((await b.listRuns(crash.id))[0]?.error).toBe(`pid ${crashPid} exited with code 3`);
    expect((await b.requireTask(crash.id)).consecutive_failures).toBe(1);
    // A protocol violation is requeued and counted; only a streak of them trips (spec 2.10 [B]).
    // The same tick requeued it and, being under the streak limit, spawned it again.
    expect(r?.auto_blocked).toEqual([]);
    expect(r?.spawned.map((s) => s.task_id)).toContain(quit.id);
    expect((await b.requireTask(quit.id)).consecutive_failures).toBe(1);
    expect((await events(b, quit.id, "protocol_violation"))[0]?.payload).toMatchObject({
      exit_code: 0,
      protocol_violation: true,
    });
  });

  it("a worker that prints its secrets leaves them out of the board: the violation's output and comment are redacted", async () => {
    const secrets = {
      OPENAI_API_KEY: "sk-proj-Abcdefghijklmnopqrstuvwx",
      BILLING_SECRET: "plain-words-no-shape",
      DEPLOY_TOKEN: "0123456789abcdefXYZ",
    };
    const h = setup({
      kanban: { crash_grace_seconds: 0, failure_limit: 3 },
      profiles: {
        leaker: fakeProfile("exit0", { env: { ...secrets, FAKE_WORKER_ECHO: Object.keys(secrets).join(",") } }),
      },
    });
    const b = h.board();
    const t = await b.createTask({ title: "leaks", assignee: "leaker" });
    const d = dispatcher(h);
    const spawned = (await d.tick()).boards[0]?.spawned ?? [];
    await waitFor(() => spawned.every((s) => d.pool.exitStatus(s.pid ?? 0)), "the worker to exit");
    expect((await d.tick()).boards[0]?.crashed).toEqual([t.id]);
    const violation = (await events(b, t.id, "protocol_violation"))[0]?.payload as Record<string, unknown>;
    const output = String(violation.worker_output);
    // The output was kept (the worker's own line is there), without any of the values.
    expect(output).toContain(`mode=exit0 task=${t.id}`);
    expect(output).toContain("OPENAI_API_KEY=[redacted]");
    expect(output).toContain("(the value of BILLING_SECRET alone: [redacted])");
    const everything = JSON.stringify({ events: await b.listEvents(t.id), comments: await b.listComments(t.id) });
    for (const value of Object.values(secrets)) expect(everything).not.toContain(value);
  });

  it("max runtime: timed_out, and the worker's whole process group is terminated", async () => {
    const h = setup({
      kanban: { crash_grace_seconds: 0, failure_limit: 1, terminate_grace_seconds: 5 },
      profiles: { alice: fakeProfile("hang") },
    });
    const b = h.board();
    const t = await b.createTask({ title: "slow", assignee: "alice", max_runtime_seconds: 60 });
    const clock = realClock();
    const d = dispatcher(h, { clock });
    const ws = (await d.tick()).boards[0]?.spawned[0]?.workspace ?? "";
    const pids = await waitFor(() => readPids(ws), "the worker to start its grandchild");
    expect(isPidAlive(pids.grandchild)).toBe(true);
    clock.advance(61);
    const r = (await d.tick()).boards[0];
    expect(r?.timed_out).toEqual([t.id]);
    expect(r?.auto_blocked).toEqual([t.id]);
    await waitFor(() => !isPidAlive(pids.worker) && !isPidAlive(pids.grandchild), "worker and grandchild to die", 4000);
    expect(processGroupAlive(pids.worker)).toBe(false);
    await waitFor(() => d.pool.exitStatus(pids.worker), "the worker to be reaped");
    expect(d.pool.exitStatus(pids.worker)).toEqual({ code: null, signal: "SIGTERM" });
    expect((await b.listRuns(t.id))[0]).toMatchObject({ outcome: "timed_out", error: "elapsed 61s > limit 60s" });
  });

  it("escalates to SIGKILL when a timed-out worker and its children ignore SIGTERM", async () => {
    const h = setup({
      kanban: { crash_grace_seconds: 0, failure_limit: 1, terminate_grace_seconds: 0.5 },
      profiles: { alice: fakeProfile("ignore-sigterm") },
    });
    const b = h.board();
    const t = await b.createTask({ title: "stubborn", assignee: "alice", max_runtime_seconds: 30 });
    const clock = realClock();
    const d = dispatcher(h, { clock });
    const ws = (await d.tick()).boards[0]?.spawned[0]?.workspace ?? "";
    const pids = await waitFor(() => readPids(ws), "the worker to start its grandchild");
    clock.advance(31);
    expect((await d.tick()).boards[0]?.timed_out).toEqual([t.id]);
    // The stop runs in the containment sweep (cgroup or process tree), which logs once it has killed.
    await d.pool.drain();
    await d.runSweep.drain();
    await waitFor(() => !isPidAlive(pids.worker) && !isPidAlive(pids.grandchild), "worker and grandchild to die", 4000);
    await waitFor(() => d.pool.exitStatus(pids.worker), "the worker to be reaped");
    expect(d.pool.exitStatus(pids.worker)?.signal).toBe("SIGKILL");
    await waitFor(
      () => logs.some((l) => l.includes(`worker pid ${pids.worker} survived SIGTERM`)),
      "the escalation to be logged",
      4000,
    );
  });

  it("requeues a silent worker after dispatch_stale_timeout_seconds without counting a failure", async () => {
    const h = setup({
      kanban: { crash_grace_seconds: 0, dispatch_stale_timeout_seconds: 100, terminate_grace_seconds: 2 },
      profiles: { alice: fakeProfile("hang") },
    });
    const b = h.board();
    const t = await b.createTask({ title: "quiet", assignee: "alice" });
    const clock = realClock();
    const d = dispatcher(h, { clock });
    const ws = (await d.tick()).boards[0]?.spawned[0]?.workspace ?? "";
    const pids = await waitFor(() => readPids(ws), "the worker to start");
    clock.advance(101);
    const r = (await d.tick()).boards[0];
    expect(r?.stale).toEqual([t.id]);
    expect(r?.spawned.map((s) => s.task_id)).toEqual([t.id]); // requeued and dispatched again
    await waitFor(
      () => !isPidAlive(pids.worker) && !isPidAlive(pids.grandchild),
      "the silent worker's group to be terminated",
      4000,
    );
    expect((await b.requireTask(t.id)).consecutive_failures).toBe(0);
    expect((await b.listRuns(t.id)).map((run) => run.outcome)).toEqual(["stale", null]);
  });

  it("reclaims an expired claim whose worker is gone, then dispatches the task again", async () => {
    const h = setup({ kanban: { crash_grace_seconds: 0 }, profiles: { alice: fakeProfile("complete") } });
    const b = h.board();
    const t = await b.createTask({ title: "orphan", assignee: "alice" });
    expect(await b.claimTask(t.id, { claimer: `${os.hostname()}:999999`, ttl_seconds: 30 })).not.toBeNull();
    const clock = realClock();
    const d = dispatcher(h, { clock });
    expect((await d.tick()).boards[0]?.reclaimed).toBe(0); // not expired yet
    clock.advance(31);
    const r = (await d.tick()).boards[0];
    expect(r?.reclaimed).toBe(1);
    expect(r?.spawned.map((s) => s.task_id)).toEqual([t.id]);
    await waitFor(done(b, t.id), "the new worker to complete");
    expect((await b.listRuns(t.id)).map((run) => run.outcome)).toEqual(["reclaimed", "completed"]);
    expect((await events(b, t.id, "reclaimed"))[0]?.payload).toMatchObject({ stale_lock: `${os.hostname()}:999999` });
  });

  // The dispatcher opens its boards with its own failure limit (`--failure-limit`, else config's
  // failure_limit, read again after a config.json reload): the board's one policy, never a per-call number.
  it("a tick judges a breaker-blocked task with --failure-limit over config's failure_limit", async () => {
    const h = setup({ kanban: { failure_limit: 2 } });
    const b = h.board();
    const t = await breakerBlocked(b);
    expect((await dispatcher(h).tick()).boards[0]?.promoted).toBe(0);
    expect((await b.requireTask(t)).status).toBe("blocked");
    const d = createDispatcher(loadConfig(h.env, { failureLimit: 3 }), { log: (l) => logs.push(l) });
    trackPool(d.pool);
    expect((await d.tick()).boards[0]?.promoted).toBe(1);
    expect((await b.requireTask(t)).status).toBe("ready");
  });

  it("a config.json reload's failure_limit judges the next tick, on a dispatcher started before it", async () => {
    const h = setup({ kanban: { failure_limit: 2 } });
    const b = h.board();
    const t = await breakerBlocked(b);
    const d = dispatcher(h);
    expect((await d.tick()).boards[0]?.promoted).toBe(0);
    h.writeConfig({ kanban: { failure_limit: 10 } });
    // The dispatcher re-reads config.json at most every 250 ms: ask until it has.
    await waitFor(() => {
      d.refreshConfig();
      return logs.some((l) => l.includes("config.json reloaded"));
    }, "the reload");
    expect((await d.tick()).boards[0]?.promoted).toBe(1);
    expect((await b.requireTask(t)).status).toBe("ready");
  });

  it("a missing worker binary is an infrastructure refusal: never counted, cooled down, never given up", async () => {
    const h = setup({
      kanban: { failure_limit: 2 },
      profiles: { alice: { command: ["/nonexistent/bin/agent", "{task_id}"] } },
    });
    const b = h.board();
    const t = await b.createTask({ title: "no binary", assignee: "alice" });
    const d = dispatcher(h);
    const first = (await d.tick()).boards[0];
    expect(first?.spawned).toEqual([]);
    expect(first?.auto_blocked).toEqual([]);
    let task = await b.requireTask(t.id);
    expect(task.status).toBe("ready");
    expect(task.consecutive_failures).toBe(0);
    expect(task.last_failure_error).toBe("worker program not found: /nonexistent/bin/agent");
    expect((await events(b, t.id, "spawn_failed"))[0]?.payload).toMatchObject({ failures: 0, infrastructure: true });
    // Issue 17: the host's refusal is not the task's failure; the respawn guard paces it instead of the breaker.
    const second = (await d.tick()).boards[0];
    expect(second?.auto_blocked).toEqual([]);
    expect(second?.spawned).toEqual([]);
    expect(await b.respawnGuard(t.id)).toBe("infrastructure_cooldown");
    task = await b.requireTask(t.id);
    expect(task.status).toBe("ready");
    expect(task.claim_lock).toBeNull();
    expect((await b.listRuns(t.id)).map((r) => r.outcome)).toEqual(["spawn_failed"]);
    expect(await events(b, t.id, "gave_up")).toEqual([]);
    expect((await d.tick()).boards[0]?.spawned).toEqual([]);
  });

  it("reports a missing hermes executable with the spec's message", async () => {
    const h = setup({});
    const b = h.board();
    const t = await b.createTask({ title: "h", assignee: "default" });
    const d = dispatcher(h, { env: { PATH: path.join(h.home, "empty-bin") } });
    await d.tick();
    expect((await b.requireTask(t.id)).last_failure_error).toBe(
      "`hermes` executable not found on PATH. Install Hermes Agent or activate its venv before running the kanban dispatcher.",
    );
  });
});

describe("budgets and assignment", { timeout: 30_000 }, () => {
  it("holds max_spawn as a live cap and max_in_progress_per_profile per assignee", async () => {
    const h = setup({
      kanban: { crash_grace_seconds: 0, max_spawn: 3, max_in_progress_per_profile: 2 },
      profiles: { alice: fakeProfile("hang"), bob: fakeProfile("hang") },
    });
    const b = h.board();
    const alices: string[] = [];
    for (const i of [1, 2, 3, 4])
      alices.push((await b.createTask({ title: `a${i}`, assignee: "alice", priority: 1 })).id);
    const [a1, a2, a3, a4] = alices;
    const bobs: string[] = [];
    for (const i of [1, 2]) bobs.push((await b.createTask({ title: `b${i}`, assignee: "bob" })).id);
    const [b1, b2] = bobs;
    const d = dispatcher(h);
    const r = (await d.tick()).boards[0];
    expect(r?.spawned.map((s) => s.task_id)).toEqual([a1, a2, b1]);
    expect(r?.skipped_per_profile_capped).toEqual([
      { task_id: a3, assignee: "alice", current: 2 },
      { task_id: a4, assignee: "alice", current: 2 },
    ]);
    expect((await d.tick()).boards[0]?.spawned).toEqual([]); // 3 running = max_spawn
    // Freeing one slot lets exactly one more start: the cap counts live workers, not spawns per tick.
    const reclaimed = await b.reclaimTask(b1 ?? "");
    expect(reclaimed.terminate?.pid).toBeGreaterThan(0);
    const r3 = (await d.tick()).boards[0];
    expect(r3?.spawned.map((s) => s.task_id)).toEqual([b1]);
    expect(r3?.skipped_per_profile_capped.map((c) => c.task_id)).toEqual([a3, a4]);
    expect((await b.listTasks({ status: "running" })).map((t) => t.id).sort()).toEqual([a1, a2, b1].sort());
    expect((await b.requireTask(b2 ?? "")).status).toBe("ready");
  });

  it("holds max_in_progress across every board of the home", async () => {
    const h = setup({
      kanban: { crash_grace_seconds: 0, max_in_progress: 3 },
      profiles: { alice: fakeProfile("hang") },
    });
    const main = h.board();
    const other = h.board("other");
    for (let i = 0; i < 2; i++) await main.createTask({ title: `m${i}`, assignee: "alice" });
    for (let i = 0; i < 2; i++) await other.createTask({ title: `o${i}`, assignee: "alice" });
    const d = dispatcher(h);
    const report = await d.tick();
    expect(report.boards.map((s) => [s.board, s.spawned.length])).toEqual([
      ["default", 2],
      ["other", 1],
    ]);
    expect((await d.tick()).spawned).toBe(0);
  });

  it("assigns the default assignee to unassigned ready tasks, and skips what no profile can run", async () => {
    const h = setup({
      kanban: { crash_grace_seconds: 0, default_assignee: "alice" },
      profiles: { alice: fakeProfile("complete") },
    });
    const b = h.board();
    const loose = (await b.createTask({ title: "loose" })).id;
    const ghost = (await b.createTask({ title: "ghost", assignee: "ghost" })).id;
    const dry = await dispatcher(h).once({ dryRun: true });
    expect(dry.auto_assigned_default).toEqual([loose]);
    expect((await b.requireTask(loose)).assignee).toBeNull(); // a dry run persists nothing
    const r = (await dispatcher(h).tick()).boards[0];
    expect(r?.auto_assigned_default).toEqual([loose]);
    expect(r?.spawned.map((s) => [s.task_id, s.assignee])).toEqual([[loose, "alice"]]);
    expect(r?.skipped_nonspawnable).toEqual([ghost]);
    expect((await events(b, loose, "assigned"))[0]?.payload).toEqual({
      assignee: "alice",
      from: null,
      source: "kanban.default_assignee",
    });
    await waitFor(done(b, loose), "the default assignee's worker to complete");

    h.writeConfig({ kanban: { default_assignee: "nobody" }, profiles: { alice: fakeProfile("complete") } });
    const stray = (await b.createTask({ title: "stray" })).id;
    expect((await dispatcher(h).tick()).boards[0]?.skipped_unassigned).toEqual([stray]);
  });

  it("holds back a ready task the respawn guard names (active PR, auth failure), records why, and spawns the rest", async () => {
    const h = setup({ kanban: { crash_grace_seconds: 0 }, profiles: { alice: fakeProfile("complete") } });
    const b = h.board();
    const pr = (await b.createTask({ title: "pr open", assignee: "alice" })).id;
    await b.addComment(pr, "alice", "PR: https://github.com/acme/app/pull/7");
    const auth = (await b.createTask({ title: "no creds", assignee: "alice" })).id;
    // One failure, under the board's limit (2): the task stays ready, held back by the guard alone.
    await b.recordTaskFailure(auth, { error: "401 Unauthorized: invalid api key", outcome: "crashed" });
    const free = (await b.createTask({ title: "free", assignee: "alice" })).id;
    const dry = await dispatcher(h).once({ dryRun: true });
    expect(dry.respawn_guarded).toEqual([
      { task_id: pr, reason: "active_pr" },
      { task_id: auth, reason: "blocker_auth" },
    ]);
    expect(await events(b, pr, "respawn_guarded")).toHaveLength(0); // a dry run writes nothing
    const r = await dispatcher(h).once({});
    expect(r.spawned.map((s) => s.task_id)).toEqual([free]);
    expect((await events(b, pr, "respawn_guarded"))[0]?.payload).toEqual({ reason: "active_pr" });
    expect((await events(b, auth, "respawn_guarded"))[0]?.payload).toEqual({ reason: "blocker_auth" });
    expect([(await b.requireTask(pr)).status, (await b.requireTask(auth)).status]).toEqual(["ready", "ready"]);
    await waitFor(done(b, free), "the free task's worker to complete");
    // Held-back tasks wait on purpose: they do not make the ready queue look stuck.
    expect(await hasSpawnableReady(b, { isSpawnable: () => true })).toBe(false);
  });

  it("skips a board whose tick lock another process holds, writing nothing", async () => {
    const h = setup({ profiles: { alice: fakeProfile("complete") } });
    const b = h.board();
    await b.createTask({ title: "t", assignee: "alice" });
    const before = dumpRows(boardInternals(b).sqlite);
    const held = tryAcquireDispatchLock(`${b.path}.dispatch.lock`);
    const d = dispatcher(h);
    try {
      const r = (await d.tick()).boards[0];
      expect(r?.skipped_locked).toBe(true);
      expect(r?.spawned).toEqual([]);
      expect(dumpRows(boardInternals(b).sqlite)).toEqual(before);
    } finally {
      if (held.ok) held.lock.release();
    }
    expect((await d.tick()).boards[0]?.spawned).toHaveLength(1);
  });
});

describe("health", { timeout: 30_000 }, () => {
  it("quarantines a corrupt board until its file changes or the timer expires, while other boards dispatch", async () => {
    const h = setup({ kanban: { crash_grace_seconds: 0 }, profiles: { alice: fakeProfile("complete") } });
    const good = h.board("good");
    const t = await good.createTask({ title: "fine", assignee: "alice" });
    const loc = boardLocationFromEnv(h.env);
    createBoard(loc, "bad");
    const badDb = path.join(h.home, "kanban", "boards", "bad", "kanban.db");
    fs.writeFileSync(badDb, "this is not a database at all".repeat(10));
    const clock = realClock();
    const d = dispatcher(h, { clock });
    const quarantineWarnings = () =>
      d.status().warnings.filter((w) => w.message.includes("is not a valid SQLite database")).length;

    const r1 = await d.tick();
    const bad = r1.boards.find((s) => s.board === "bad");
    expect(bad?.quarantined).toBe(true);
    expect(bad?.error).toContain("file is not a database");
    expect(r1.boards.find((s) => s.board === "good")?.spawned.map((s) => s.task_id)).toEqual([t.id]);
    expect(quarantineWarnings()).toBe(1);

    await d.tick();
    expect(quarantineWarnings()).toBe(1); // skipped silently while the file is unchanged
    fs.appendFileSync(badDb, "more garbage");
    await d.tick();
    expect(quarantineWarnings()).toBe(2); // the file changed: tried again, still corrupt
    clock.advance(301);
    await d.tick();
    expect(quarantineWarnings()).toBe(3); // the timer expired: tried again

    fs.rmSync(badDb);
    const fixed = await d.tick();
    expect(fixed.boards.find((s) => s.board === "bad")).toMatchObject({ quarantined: false, error: null });
    await waitFor(done(good, t.id), "the good board's worker to complete");
  });

  it("warns once per 300 s when spawnable ready work has not been spawned for 6 ticks", async () => {
    const h = setup({
      kanban: { crash_grace_seconds: 0, max_in_progress_per_profile: 1 },
      profiles: { alice: fakeProfile("hang") },
    });
    const b = h.board();
    await b.createTask({ title: "one", assignee: "alice" });
    await b.createTask({ title: "two", assignee: "alice" });
    const clock = realClock();
    const d = dispatcher(h, { clock });
    const stuck = () => d.status().warnings.filter((w) => w.message.includes("dispatcher stuck"));
    expect((await d.tick()).spawned).toBe(1);
    for (let i = 0; i < 5; i++) await d.tick();
    expect(stuck()).toHaveLength(0);
    await d.tick();
    expect(stuck()).toHaveLength(1);
    expect(stuck()[0]?.message).toContain("ready queue non-empty for 6 consecutive ticks but 0 workers spawned");
    expect(stuck()[0]?.message).toContain("default:skipped_per_profile_capped=1");
    for (let i = 0; i < 3; i++) await d.tick();
    expect(stuck()).toHaveLength(1);
    clock.advance(300);
    await d.tick();
    expect(stuck()).toHaveLength(2);
  });

  it("defers scratch cleanup of a parent until its children finish, and never deletes outside the managed root", async () => {
    const h = setup({ profiles: {} });
    const b = h.board();
    const parent = await b.createTask({ title: "parent" });
    const child = await b.createTask({ title: "child", parents: [parent.id] });
    const parentWs = path.join(h.home, "kanban", "workspaces", parent.id);
    fs.mkdirSync(parentWs, { recursive: true });
    await b.setWorkspace(parent.id, parentWs);
    const outside = path.join(h.home, "my-project");
    fs.mkdirSync(outside);
    // Create refuses a caller-chosen scratch path; a Hermes-written or older row can still hold one.
    const rogue = await b.createTask({ title: "rogue", workspace_kind: "scratch" });
    await b.setWorkspace(rogue.id, outside);
    const d = dispatcher(h);
    await d.tick();
    await b.completeTask(parent.id, { result: "handoff.md written" });
    await b.completeTask(rogue.id, { result: "x" });
    await d.tick();
    expect(fs.existsSync(parentWs)).toBe(true); // the child may still read the parent's handoff files
    expect(fs.existsSync(outside)).toBe(true);
    // The rogue's recorded path is never even looked at: only <root>/<rogue id> would be removed.
    expect(d.status().warnings).toEqual([]);
    await b.completeTask(child.id, { result: "y" });
    await d.tick();
    expect(fs.existsSync(parentWs)).toBe(false);
    expect(fs.existsSync(outside)).toBe(true);
  });
});

describe("the flow ledger", () => {
  it("is brought up to the newest event by every tick, so a flow read finds it current", async () => {
    const h = setup({ profiles: { alice: fakeProfile("complete") } });
    const b = h.board();
    const { ctx } = boardInternals(b);
    const state = async () => {
      const row = (await ctx.get("SELECT event_id FROM kanban_flow_state")) as { event_id: number } | undefined;
      const newest = (await ctx.get("SELECT max(id) AS id FROM task_events")) as { id: number };
      return { ledger: row === undefined ? null : Number(row.event_id), newest: Number(newest.id) };
    };
    // Unassigned cards: nothing spawns; two are done by hand.
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await b.createTask({ title: `t${i}` })).id);
    for (const id of ids.slice(0, 2)) await b.completeTask(id, { summary: "by hand" });
    expect((await state()).ledger).toBeNull();
    const clock = realClock();
    const d = dispatcher(h, { clock });
    await d.tick();
    const first = await state();
    expect(first.ledger).toBe(first.newest);
    const rows = (await ctx.all("SELECT task_id FROM kanban_flow_cards ORDER BY task_id")) as { task_id: string }[];
    expect(rows.map((r) => r.task_id)).toEqual(ids.slice(0, 2).sort());
    // Later events: a tick within 10 s of the last advance leaves them (a nudged dispatcher ticks
    // many times a second); the next one takes them in.
    await b.completeTask(ids[2] as string, { summary: "by hand" });
    await b.addComment(ids[0] as string, "user", "a note");
    clock.advance(9);
    await d.tick();
    expect((await state()).ledger).toBe(first.newest);
    expect(first.newest).toBeLessThan((await state()).newest);
    clock.advance(1);
    await d.tick();
    const second = await state();
    expect(second.ledger).toBe(second.newest);
    expect(((await ctx.all("SELECT task_id FROM kanban_flow_cards")) as unknown[]).length).toBe(3);
  });
});
