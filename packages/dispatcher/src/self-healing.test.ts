import fs from "node:fs";
import path from "node:path";
import type { Board } from "@kanban/kernel";
import { isPidAlive } from "@kanban/process";
import { afterEach, describe, expect, it } from "vitest";
import { fakeProfile, killAll, makeHome, type TestHome, trackPool, waitFor } from "../test/helpers.ts";
import { DispatcherConfigError } from "./config.ts";
import { createDispatcher, type Dispatcher } from "./dispatcher.ts";

/**
 * Issue 17's failures that heal themselves, through a real dispatcher and real worker processes:
 * transient failures (a provider's 503 on the worker's output, the configured transient exit code),
 * a configured rate-limit exit code, the default max runtime with its respawn spread, the
 * auto-revive of a card the breaker blocked, and the comment a protocol violation leaves.
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

/** A node worker script in the home that prints `say` and exits with `code`. */
function script(h: TestHome, name: string, say: string, code: number) {
  const file = path.join(h.home, `${name}.mjs`);
  fs.writeFileSync(file, `console.log(${JSON.stringify(say)});\nprocess.exit(${code});\n`);
  return { command: [process.execPath, file, "{task_id}"], env: {}, skills: [] };
}

function dispatcher(h: TestHome): Dispatcher {
  const d = createDispatcher(h.config(), { log: () => {} });
  trackPool(d.pool);
  return d;
}

describe("self-healing failure classes with real workers", { timeout: 60_000 }, () => {
  it("transient: a 503 on the output and the configured exit code are never counted and cool down; the tick counts them", async () => {
    home = makeHome({});
    home.writeConfig({
      kanban: { crash_grace_seconds: 0, transient_exit_code: 70, rate_limit_exit_code: 64 },
      profiles: {
        outage: script(home, "outage", "calling the model\nError: 503 Service Unavailable", 1),
        unavailable: script(home, "unavailable", "provider down", 70),
        limited: script(home, "limited", "slow down", 64),
        // 69 is no longer the transient code here: an ordinary, counted crash.
        plain: script(home, "plain", "provider down", 69),
      },
    });
    const b = home.board();
    const ids = {
      outage: (await b.createTask({ title: "a", assignee: "outage" })).id,
      unavailable: (await b.createTask({ title: "b", assignee: "unavailable" })).id,
      limited: (await b.createTask({ title: "c", assignee: "limited" })).id,
      plain: (await b.createTask({ title: "d", assignee: "plain" })).id,
    };
    const d = dispatcher(home);
    const spawned = (await d.tick()).boards[0]?.spawned ?? [];
    expect(spawned).toHaveLength(4);
    await waitFor(() => spawned.every((s) => d.pool.exitStatus(s.pid ?? 0)), "the workers to exit");

    const report = (await d.tick()).boards[0];
    expect(report?.transient.sort()).toEqual([ids.outage, ids.unavailable].sort());
    expect(report?.rate_limited).toEqual([ids.limited]);
    expect(report?.crashed).toEqual([ids.plain]);
    // Nothing respawned: the transient and rate-limited cards are cooling down, the crash retries.
    expect(report?.spawned.map((s) => s.task_id)).toEqual([ids.plain]);

    for (const id of [ids.outage, ids.unavailable]) {
      expect(await b.requireTask(id)).toMatchObject({ status: "ready", consecutive_failures: 0 });
      expect(await b.respawnGuard(id)).toBe("transient_cooldown");
      const run = (await b.listRuns(id))[0];
      expect(run).toMatchObject({ outcome: "crashed" });
      expect(run?.metadata).toMatchObject({ failure_class: "transient", transient_streak: 1 });
      expect((await events(b, id, "crashed"))[0]?.payload).toMatchObject({ failure_class: "transient" });
    }
    expect(String((await events(b, ids.outage, "crashed"))[0]?.payload?.worker_output)).toContain("503");
    expect(await b.respawnGuard(ids.limited)).toBe("rate_limit_cooldown");
    expect((await b.listRuns(ids.limited))[0]?.metadata).toMatchObject({ failure_class: "rate_limited" });
    expect(await b.requireTask(ids.plain)).toMatchObject({ consecutive_failures: 1 });
  });

  it("default max runtime: hanging workers with no limit of their own time out, spread apart for their respawn", async () => {
    home = makeHome({});
    home.writeConfig({
      kanban: { default_max_runtime_seconds: 1, terminate_grace_seconds: 1 },
      profiles: {
        sleeper: { command: ["/bin/sh", "-c", "sleep 60", "{task_id}"], env: {}, skills: [] },
        sleeper2: { command: ["/bin/sh", "-c", "sleep 60", "{task_id}"], env: {}, skills: [] },
      },
    });
    const b = home.board();
    const a = (await b.createTask({ title: "a", assignee: "sleeper" })).id;
    const c = (await b.createTask({ title: "c", assignee: "sleeper2" })).id;
    const d = dispatcher(home);
    const spawned = (await d.tick()).boards[0]?.spawned ?? [];
    expect(spawned).toHaveLength(2);
    await new Promise((r) => setTimeout(r, 2500));
    const r = await d.once({ dryRun: true });
    expect(r.timed_out.sort()).toEqual([a, c].sort());
    for (const id of [a, c]) {
      const ev = (await events(b, id, "timed_out"))[0]?.payload;
      expect(ev).toMatchObject({ limit_seconds: 1, limit_source: "default", failure_class: "timed_out" });
      expect(ev?.respawn_hold).toMatchObject({ reason: "respawn_jitter" });
      const meta = (await b.listRuns(id))[0]?.metadata;
      expect(meta?.respawn_jitter_seconds).toBeGreaterThanOrEqual(0);
      expect(meta?.respawn_jitter_seconds).toBeLessThanOrEqual(60);
      expect(await b.requireTask(id)).toMatchObject({ status: "ready", consecutive_failures: 1 });
    }
    // The hanging workers were stopped.
    await waitFor(() => spawned.every((s) => !isPidAlive(s.pid ?? 0)), "the sleepers to be terminated");
  });

  it("auto-revive: a card the breaker blocked for a crash goes back to ready, once; then stays blocked", async () => {
    home = makeHome({});
    home.writeConfig({
      kanban: { crash_grace_seconds: 0, failure_limit: 1, auto_revive_cooldowns_seconds: [0], auto_revive_max: 1 },
      profiles: { crasher: script(home, "crasher", "boom", 3) },
    });
    const b = home.board();
    const id = (await b.createTask({ title: "crashes", assignee: "crasher" })).id;
    const d = dispatcher(home);

    const first = (await d.tick()).boards[0]?.spawned ?? [];
    await waitFor(() => first.every((s) => d.pool.exitStatus(s.pid ?? 0)), "the first worker to exit");
    // One tick books the crash (the breaker trips at 1) and, with a 0 s cooldown, revives the card.
    const r1 = await d.once({ dryRun: true });
    expect(r1.auto_blocked).toEqual([id]);
    expect(r1.auto_revived).toEqual([id]);
    expect((await b.requireTask(id)).status).toBe("ready");
    expect((await events(b, id, "auto_revived"))[0]?.payload).toEqual({
      attempt: 1,
      max: 1,
      cooldown_seconds: 0,
      trigger_outcome: "crashed",
    });

    const second = (await d.tick()).boards[0]?.spawned ?? [];
    expect(second.map((s) => s.task_id)).toEqual([id]);
    await waitFor(() => second.every((s) => d.pool.exitStatus(s.pid ?? 0)), "the second worker to exit");
    const r2 = await d.once({ dryRun: true });
    expect(r2.auto_blocked).toEqual([id]);
    expect(r2.auto_revived).toEqual([]);
    expect(r2.revive_exhausted).toEqual([id]);
    expect((await b.requireTask(id)).status).toBe("blocked");
    expect(await events(b, id, "auto_revive_exhausted")).toHaveLength(1);
    expect((await d.once({ dryRun: true })).revive_exhausted).toEqual([]);
  });

  it("a protocol violation leaves a comment by the dispatcher with the worker's last output and what happens next", async () => {
    home = makeHome({});
    home.writeConfig({ kanban: { crash_grace_seconds: 0 }, profiles: { quitter: fakeProfile("exit0") } });
    const b = home.board();
    const id = (await b.createTask({ title: "quits", assignee: "quitter" })).id;
    const d = dispatcher(home);
    const spawned = (await d.tick()).boards[0]?.spawned ?? [];
    await waitFor(() => spawned.every((s) => d.pool.exitStatus(s.pid ?? 0)), "the worker to exit");
    await d.once({ dryRun: true });
    const comments = await b.listComments(id);
    expect(comments).toHaveLength(1);
    expect(comments[0]?.author).toBe("dispatcher");
    expect(comments[0]?.body).toContain("mode=exit0");
    expect(comments[0]?.body).toMatch(/requeued and will be tried again/);
  });
});

describe("self-healing config keys", () => {
  it("reads the exit codes, the runtime limits and the auto-revive; refuses one code for two classes", () => {
    home = makeHome({
      kanban: {
        rate_limit_exit_code: 64,
        transient_exit_code: 70,
        default_max_runtime_seconds: 0,
        auto_revive_cooldowns_seconds: [60, 120],
        auto_revive_max: 0,
      },
      profiles: { slow: { ...fakeProfile("hang"), max_runtime_seconds: 900 } },
    });
    expect(home.config().settings).toMatchObject({
      rateLimitExitCode: 64,
      transientExitCode: 70,
      defaultMaxRuntimeSeconds: 0,
      profileMaxRuntimeSeconds: { slow: 900 },
      autoRevive: { cooldowns: [60, 120], max: 0 },
    });
    home.writeConfig({ kanban: { rate_limit_exit_code: 70, transient_exit_code: 70 } });
    const h = home;
    expect(() => h.config()).toThrow(DispatcherConfigError);
    expect(() => h.config()).toThrow(/kanban.transient_exit_code: 70 is already kanban.rate_limit_exit_code/);
  });
});
