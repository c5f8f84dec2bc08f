import { describe, expect, it } from "vitest";
import { invariantViolations } from "../support/board-checks.ts";
import { waitFor } from "../support/env.ts";
import { timeToConsistent } from "./ledger.ts";
import { ScenarioRecorder } from "./report.ts";
import { closeBooks, drain, remoteScenarios, sleep, startHosts, tokenLeaks } from "./scenario.ts";

/**
 * A remote host SIGKILLed and restarted: it comes back as the same host (its id is on its disk),
 * the runs of the workers it left running are still its own (within the lease) and finish once,
 * and a completion its worker queued before the crash is delivered by the restarted host.
 */
const scenarios = remoteScenarios();

describe("remote hosts: host restart", () => {
  it("a host SIGKILLed mid-run and restarted keeps its id and every task is done once", async () => {
    const TASKS = 10;
    const rec = new ScenarioRecorder("host-sigkill", `${TASKS} tasks, a host SIGKILLed mid-run and restarted`);
    rec.tasks = TASKS;
    const workerEnv = { FAKE_MIN_MS: "2000", FAKE_MAX_MS: "5000" };
    const cluster = await scenarios.start({
      leaseSeconds: 30,
      hosts: [
        { name: "cpu-1", labels: [], capacity: 2, workerEnv },
        { name: "cpu-2", labels: [], capacity: 2, workerEnv },
      ],
    });
    const victim = cluster.host("cpu-1");
    let reachedEnd = false;
    try {
      for (let i = 0; i < TASKS; i++) await cluster.createTask({ title: `host restart ${i}` });
      await startHosts(cluster);
      const id = victim.hostId();
      await waitFor(() => victim.liveWorkers().length >= 2, "the victim to run two workers", 120_000, 100);
      const orphaned = victim.liveWorkers().map((w) => w.run);
      const killedAt = Date.now();
      await victim.kill();
      await sleep(3000);
      await startHosts(cluster, [victim]);
      const backAt = Date.now();
      rec.fault("sigkill-host", victim.name, killedAt, backAt);
      expect(victim.hostId()).toBe(id);
      rec.reconnects.push(await timeToConsistent(cluster, victim, backAt));
      await drain(cluster, TASKS, 180_000);
      const rows = cluster.reader().prepare("SELECT count(*) FROM kanban_hosts").pluck().get();
      expect(rows, "the restarted host is the same row, not a new one").toBe(2);
      // The workers outlived their host's crash and their runs stayed theirs (well within the lease).
      const outcome = cluster.reader().prepare("SELECT outcome FROM task_runs WHERE id = ?").pluck();
      expect(orphaned.map((run) => outcome.get(run))).toEqual(orphaned.map(() => "completed"));
      reachedEnd = true;
    } finally {
      const leaks = tokenLeaks(cluster);
      const violations = invariantViolations(cluster.reader());
      const { books, doubles } = closeBooks(cluster, rec, reachedEnd && leaks.length === 0 && violations.length === 0);
      if (reachedEnd) {
        expect(books.lost).toEqual([]);
        expect(doubles).toEqual([]);
        expect(violations).toEqual([]);
        expect(leaks).toEqual([]);
      }
    }
  }, 420_000);

  it("a completion queued before the host crashed is delivered by the restarted host", async () => {
    const rec = new ScenarioRecorder("outbox-across-host-restart", "1 completion queued, host SIGKILLed, restarted");
    rec.tasks = 1;
    const cluster = await scenarios.start({
      leaseSeconds: 30,
      hosts: [{ name: "cpu-1", labels: [], capacity: 1, workerEnv: { FAKE_MIN_MS: "2500", FAKE_MAX_MS: "2500" } }],
    });
    const host = cluster.host("cpu-1");
    let reachedEnd = false;
    try {
      const task = await cluster.createTask({ title: "queued across a host crash" });
      await startHosts(cluster);
      const started = await waitFor(
        () => host.workers().find((r) => r.event === "start" && r.task === task),
        "the worker to start",
        120_000,
      );
      const cutAt = Date.now();
      host.proxy.cut();
      const done = await waitFor(
        () => host.workers().find((r) => r.event === "complete" && r.run === started.run),
        "the worker's kanban complete",
        120_000,
      );
      expect(done.stdout).toMatch(/queued/);
      await host.kill();
      host.proxy.restore();
      rec.fault("cut", host.name, cutAt, Date.now());
      // The worker is gone and so is its host: nothing delivers the entry until the host is back.
      expect(host.pending().map((e) => e.run_id)).toEqual([started.run]);
      const killedAt = Date.now();
      await startHosts(cluster);
      const backAt = Date.now();
      rec.fault("sigkill-host", host.name, killedAt, backAt);
      const delivered = await waitFor(
        () => host.delivered().find((e) => e.run_id === started.run),
        "the restarted host to deliver the entry",
        120_000,
        100,
      );
      expect(delivered.answer).toMatchObject({ ok: true });
      const db = cluster.reader();
      expect(db.prepare("SELECT status FROM tasks WHERE id = ?").pluck().get(task)).toBe("done");
      expect(
        db.prepare("SELECT id FROM task_runs WHERE task_id = ? AND outcome = 'completed'").pluck().all(task),
      ).toEqual([started.run]);
      rec.reconnects.push(await timeToConsistent(cluster, host, backAt));
      reachedEnd = true;
    } finally {
      const { books, doubles } = closeBooks(cluster, rec, reachedEnd);
      if (reachedEnd) {
        expect(books.lost).toEqual([]);
        expect(doubles).toEqual([]);
      }
    }
  }, 360_000);
});
