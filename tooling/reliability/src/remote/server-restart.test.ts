import { describe, expect, it } from "vitest";
import { invariantViolations } from "../support/board-checks.ts";
import { waitFor } from "../support/env.ts";
import { completionBooks, doubleRuns, timeToConsistent } from "./ledger.ts";
import { ScenarioRecorder } from "./report.ts";
import { closeBooks, drain, remoteScenarios, sleep, startHosts, tokenLeaks } from "./scenario.ts";

/**
 * The server SIGKILLed under remote work and restarted on its port: hosts ride it out (their
 * workers keep running, completions made meanwhile wait in the outbox), reconnect by themselves,
 * and every task ends done once. And the narrow case on its own: one completion made while the
 * server is down is delivered after it is back.
 */
const scenarios = remoteScenarios();
const DOWN_MS = 8000;

describe("remote hosts: server restart", () => {
  it("kanban serve SIGKILLed mid-run and restarted: hosts reconnect, every task done once", async () => {
    const TASKS = 12;
    const rec = new ScenarioRecorder(
      "server-sigkill",
      `${TASKS} tasks, server SIGKILLed mid-run, restarted after ${DOWN_MS / 1000} s`,
    );
    rec.tasks = TASKS;
    const workerEnv = { FAKE_MIN_MS: "2000", FAKE_MAX_MS: "6000" };
    const cluster = await scenarios.start({
      leaseSeconds: 30,
      hosts: [
        { name: "cpu-1", labels: [], capacity: 2, workerEnv },
        { name: "cpu-2", labels: [], capacity: 2, workerEnv },
      ],
    });
    let reachedEnd = false;
    try {
      for (let i = 0; i < TASKS; i++) await cluster.createTask({ title: `restart ${i}` });
      await startHosts(cluster);
      const db = cluster.reader();
      const running = db.prepare("SELECT count(*) FROM tasks WHERE status = 'running'").pluck();
      await waitFor(() => (running.get() as number) >= 3, "three tasks running on the hosts", 120_000, 100);

      const killedAt = Date.now();
      await cluster.killServer();
      await sleep(DOWN_MS);
      await cluster.startServer();
      const backAt = Date.now();
      rec.fault("sigkill-server", "kanban serve", killedAt, backAt);
      const times = await Promise.all(cluster.hosts.map((h) => timeToConsistent(cluster, h, backAt)));
      rec.reconnects.push(...times);

      await drain(cluster, TASKS, 180_000);
      const queued = cluster.hosts
        .flatMap((h) => h.workers())
        .filter((r) => r.event === "complete" && /queued/.test(r.stdout ?? ""));
      rec.notes.push(`${queued.length} completions were queued while the server was down`);
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

  it("a completion made while the server is down is delivered once it is back", async () => {
    const rec = new ScenarioRecorder("completion-while-server-down", "1 completion made while the server is down");
    rec.tasks = 1;
    const cluster = await scenarios.start({
      leaseSeconds: 30,
      hosts: [{ name: "cpu-1", labels: [], capacity: 1, workerEnv: { FAKE_MIN_MS: "3000", FAKE_MAX_MS: "3000" } }],
    });
    const host = cluster.host("cpu-1");
    let reachedEnd = false;
    try {
      const task = await cluster.createTask({ title: "finish while the server is away" });
      await startHosts(cluster);
      const started = await waitFor(
        () => host.workers().find((r) => r.event === "start" && r.task === task),
        "the worker to start",
        120_000,
      );
      const killedAt = Date.now();
      await cluster.killServer();
      // The worker finishes meanwhile: the CLI queues its completion in the host's outbox and exits 0.
      const done = await waitFor(
        () => host.workers().find((r) => r.event === "complete" && r.run === started.run),
        "the worker's kanban complete",
        120_000,
      );
      expect(done.exit, done.stderr).toBe(0);
      expect(done.stdout).toMatch(/queued/);
      expect(host.pending().map((e) => e.run_id)).toEqual([started.run]);

      await cluster.startServer();
      const backAt = Date.now();
      rec.fault("sigkill-server", "kanban serve", killedAt, backAt);
      const delivered = await waitFor(
        () => host.delivered().find((e) => e.run_id === started.run),
        "the host to deliver the queued completion",
        120_000,
        100,
      );
      rec.notes.push(`the queued completion was delivered ${Date.now() - backAt} ms after the server was back`);
      expect(delivered.answer).toMatchObject({ ok: true });
      const db = cluster.reader();
      expect(db.prepare("SELECT status FROM tasks WHERE id = ?").pluck().get(task)).toBe("done");
      expect(
        db.prepare("SELECT id FROM task_runs WHERE task_id = ? AND outcome = 'completed'").pluck().all(task),
      ).toEqual([started.run]);
      expect(
        db.prepare("SELECT count(*) FROM task_events WHERE task_id = ? AND kind = 'completed'").pluck().get(task),
      ).toBe(1);
      rec.reconnects.push(await timeToConsistent(cluster, host, backAt));
      reachedEnd = true;
    } finally {
      const { books, doubles } = closeBooks(cluster, rec, reachedEnd);
      if (reachedEnd) {
        expect(books.lost).toEqual([]);
        expect(doubles).toEqual([]);
        expect(completionBooks(cluster.reader(), cluster.hosts).accepted).toBe(1);
        expect(doubleRuns(cluster.reader())).toEqual([]);
      }
    }
  }, 360_000);
});
