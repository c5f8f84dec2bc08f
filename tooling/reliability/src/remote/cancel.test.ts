import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { waitFor } from "../support/env.ts";
import { KANBAN_BIN } from "../support/kanban-serve.ts";
import { isPidAlive } from "../support/processes.ts";
import { timeToConsistent } from "./ledger.ts";
import { ScenarioRecorder } from "./report.ts";
import { closeBooks, remoteScenarios, startHosts } from "./scenario.ts";

/**
 * Cancel: a hung remote worker (a child and a grandchild under it) is cancelled with the real
 * `kanban cancel`; its host stops the whole tree (checked in /proc), reports it, and the task is
 * blocked rather than run again. The host itself keeps running.
 */
const scenarios = remoteScenarios();

describe("remote hosts: cancel", () => {
  it("a cancelled remote task's whole process tree is gone and the task stays blocked", async () => {
    const rec = new ScenarioRecorder("cancel", "a hung remote worker (3 processes) cancelled");
    const cluster = await scenarios.start({
      leaseSeconds: 30,
      hosts: [{ name: "cpu-1", labels: [], capacity: 1, workerEnv: { FAKE_HANG: "1" } }],
    });
    const host = cluster.host("cpu-1");
    let reachedEnd = false;
    try {
      const task = await cluster.createTask({ title: "hangs forever" });
      rec.tasks = 1;
      await startHosts(cluster);
      const hung = await waitFor(
        () => host.workers().find((r) => r.event === "hang" && r.task === task),
        "the worker to hang",
        120_000,
      );
      const tree = hung.tree ?? [];
      expect(tree).toHaveLength(3);
      for (const pid of tree) expect(isPidAlive(pid), `pid ${pid} of the tree`).toBe(true);

      const cancelledAt = Date.now();
      const cli = spawnSync(process.execPath, [KANBAN_BIN, "cancel", task, "--reason", "hung in the test"], {
        env: { ...cluster.serverHome.env, KANBAN_URL: cluster.url, KANBAN_TOKEN: cluster.adminToken },
        encoding: "utf8",
        timeout: 120_000,
      });
      expect(cli.status, `${cli.stdout}${cli.stderr}`).toBe(0);
      await waitFor(() => tree.every((pid) => !isPidAlive(pid)), "the whole tree to be gone", 120_000, 100);
      rec.notes.push(`tree of ${tree.length} gone ${Date.now() - cancelledAt} ms after kanban cancel`);
      const db = cluster.reader();
      expect(db.prepare("SELECT status FROM tasks WHERE id = ?").pluck().get(task)).toBe("blocked");
      // The reason is on the task's events (Hermes' tasks table has no reason column).
      const payloads = db.prepare("SELECT payload FROM task_events WHERE task_id = ?").pluck().all(task) as string[];
      expect(payloads.some((p) => p?.includes("cancelled: hung in the test"))).toBe(true);
      await waitFor(
        () =>
          db
            .prepare("SELECT count(*) FROM task_events WHERE task_id = ? AND kind = 'terminal_worker_reaped'")
            .pluck()
            .get(task),
        "the host to report the stopped tree",
        120_000,
        100,
      );
      rec.reconnects.push(await timeToConsistent(cluster, host, cancelledAt));

      // The host itself is untouched by the stop.
      expect(host.process?.child.exitCode).toBeNull();
      reachedEnd = true;
    } finally {
      closeBooks(cluster, rec, reachedEnd);
    }
  }, 360_000);
});
