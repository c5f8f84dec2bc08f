import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { waitFor } from "../support/env.ts";
import { callWithToken } from "./harness.ts";
import { lateReports, timeToConsistent } from "./ledger.ts";
import { ScenarioRecorder } from "./report.ts";
import { closeBooks, remoteScenarios, startHosts } from "./scenario.ts";

/**
 * Fencing: a host cut off past its lease loses its run (the server's sweep reclaims it, another host
 * finishes the task). The completion its worker made meanwhile waits in the outbox; delivered after
 * the link is back it is refused (409 STALE_RUN) and recorded on the task as one `late_report`
 * event, and a re-send records nothing more.
 */
const scenarios = remoteScenarios();

describe("remote hosts: late report", () => {
  it("a reclaimed run's late completion is refused and recorded once", async () => {
    const rec = new ScenarioRecorder("late-report", "a run reclaimed during a cut, its completion delivered late");
    rec.tasks = 1;
    const workerEnv = { FAKE_MIN_MS: "2000", FAKE_MAX_MS: "2000" };
    const cluster = await scenarios.start({
      leaseSeconds: 6,
      hosts: [
        { name: "cut-off", labels: [], capacity: 1, workerEnv },
        { name: "rescuer", labels: [], capacity: 1, workerEnv },
      ],
    });
    const cutOff = cluster.host("cut-off");
    const rescuer = cluster.host("rescuer");
    let reachedEnd = false;
    try {
      const task = await cluster.createTask({ title: "outlives its lease" });
      await startHosts(cluster, [cutOff]);
      const first = await waitFor(
        () => cutOff.workers().find((r) => r.event === "start" && r.task === task),
        "the first worker to start",
        120_000,
      );
      const cutAt = Date.now();
      cutOff.proxy.cut();
      const queued = await waitFor(
        () => cutOff.workers().find((r) => r.event === "complete" && r.run === first.run),
        "the first worker's kanban complete",
        120_000,
      );
      expect(queued.stdout).toMatch(/queued/);
      const db = cluster.reader();
      await waitFor(
        () => db.prepare("SELECT outcome FROM task_runs WHERE id = ?").pluck().get(first.run) === "reclaimed",
        "the server to reclaim the silent host's run",
        120_000,
        200,
      );
      await startHosts(cluster, [rescuer]);
      await waitFor(
        () => db.prepare("SELECT status FROM tasks WHERE id = ?").pluck().get(task) === "done",
        "the rescuer to finish the task",
        120_000,
        100,
      );
      const second = db
        .prepare("SELECT id FROM task_runs WHERE task_id = ? AND outcome = 'completed'")
        .pluck()
        .all(task);
      expect(second).toHaveLength(1);
      expect(second[0]).not.toBe(first.run);

      cutOff.proxy.restore();
      const restoredAt = Date.now();
      rec.fault("cut", cutOff.name, cutAt, restoredAt);
      const delivered = await waitFor(
        () => cutOff.delivered().find((e) => e.run_id === first.run),
        "the late completion to be delivered",
        120_000,
        100,
      );
      expect(delivered.answer).toMatchObject({ ok: false, code: "STALE_RUN" });
      const late = lateReports(db).filter((l) => l.run_id === first.run);
      expect(late).toEqual([{ task_id: task, run_id: first.run, verb: "complete" }]);
      rec.reconnects.push(await timeToConsistent(cluster, cutOff, restoredAt));

      // The same call again (what a host re-sends after a lost answer): refused, nothing new written.
      const entry = JSON.parse(fs.readFileSync(path.join(cutOff.outbox, "delivered", delivered.file), "utf8")) as {
        verb: string;
        token: string;
        input: unknown;
        board?: string;
      };
      const again = await callWithToken(cluster.url, "tasks.complete", "mutation", entry.input, entry.token);
      expect(again.status).toBe(409);
      expect(lateReports(db).filter((l) => l.run_id === first.run)).toHaveLength(1);
      expect(
        db.prepare("SELECT count(*) FROM task_events WHERE task_id = ? AND kind = 'completed'").pluck().get(task),
      ).toBe(1);
      rec.notes.push("re-sent late completion: 409, no second late_report");
      reachedEnd = true;
    } finally {
      const { books, doubles } = closeBooks(cluster, rec, reachedEnd);
      if (reachedEnd) {
        expect(books.lost).toEqual([]);
        expect(books.late).toBe(1);
        expect(doubles).toEqual([]);
      }
    }
  }, 420_000);
});
