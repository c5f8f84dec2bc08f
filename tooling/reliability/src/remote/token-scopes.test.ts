import fs from "node:fs";
import { describe, expect, it } from "vitest";
import { waitFor } from "../support/env.ts";
import { callWithToken } from "./harness.ts";
import { ScenarioRecorder } from "./report.ts";
import { closeBooks, remoteScenarios, startHosts, tokenLeaks } from "./scenario.ts";

/**
 * The three token kinds, checked against live processes: the run token a real host handed its real
 * worker (read from the worker's /proc/<pid>/environ) acts on its own task and nothing else; the
 * host token claims and renews and nothing else; the admin token is not a host. The worker's
 * environment never holds the host token, and no token is ever printed.
 */
const scenarios = remoteScenarios();

function environOf(pid: number): Record<string, string> {
  const env: Record<string, string> = {};
  for (const kv of fs.readFileSync(`/proc/${pid}/environ`, "utf8").split("\0")) {
    const i = kv.indexOf("=");
    if (i > 0) env[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return env;
}

describe("remote hosts: token scopes", () => {
  it("a run token acting on another task → 403, a host token completing → 403, neither reaches the other's calls", async () => {
    const rec = new ScenarioRecorder("token-scopes", "run, host and admin tokens against live processes");
    const cluster = await scenarios.start({
      leaseSeconds: 30,
      hosts: [{ name: "cpu-1", labels: [], capacity: 1, workerEnv: { FAKE_HANG: "1" } }],
    });
    const host = cluster.host("cpu-1");
    let reachedEnd = false;
    try {
      const own = await cluster.createTask({ title: "the worker's own task" });
      // A label no host has keeps the other task ready, out of every worker's reach.
      const other = await cluster.createTask({ title: "someone else's task", requires: ["elsewhere"] });
      rec.tasks = 2;
      await startHosts(cluster);
      const worker = await waitFor(
        () => host.workers().find((r) => r.event === "hang" && r.task === own),
        "the worker to start",
        120_000,
      );
      const env = environOf(worker.pid);
      const runToken = env.KANBAN_TOKEN ?? "";
      expect(runToken.startsWith("kbr1.")).toBe(true);
      expect(env.KANBAN_URL).toBe(host.proxy.url);
      expect(env.KANBAN_TASK).toBe(own);
      expect(env.KANBAN_RUN_ID).toBe(String(worker.run));
      expect(env.KANBAN_OUTBOX).toBeTruthy();
      expect(
        Object.values(env).some((v) => v.includes(host.token)),
        "the host token is in a worker's environment",
      ).toBe(false);
      expect(Object.values(env).some((v) => v.includes(cluster.adminToken))).toBe(false);

      const as = (token: string, procedure: string, type: "query" | "mutation", input: unknown) =>
        callWithToken(cluster.url, procedure, type, input, token).then((r) => r.status);
      const fence = { expected_run_id: worker.run };
      // The run token: its own task yes, any other no: 403 FORBIDDEN, for a verb outside its list
      // and for its own verbs aimed at another task alike, and for an id that does not exist too (so
      // the answer tells a worker nothing about which other tasks exist: run-scope.ts).
      expect(await as(runToken, "tasks.heartbeat", "mutation", { id: own, ...fence })).toBe(200);
      expect(await as(runToken, "comments.add", "mutation", { task_id: own, body: "mine", ...fence })).toBe(200);
      expect(await as(runToken, "tasks.patch", "mutation", { id: other, title: "taken over" })).toBe(403);
      expect(await as(runToken, "tasks.cancel", "mutation", { id: other, reason: "not mine" })).toBe(403);
      expect(await as(runToken, "tasks.reassign", "mutation", { id: other, assignee: "someone" })).toBe(403);
      expect(await as(runToken, "tasks.delete", "mutation", { id: other })).toBe(403);
      expect(await as(runToken, "comments.add", "mutation", { task_id: other, body: "not mine" })).toBe(403);
      expect(await as(runToken, "tasks.heartbeat", "mutation", { id: other })).toBe(403);
      expect(await as(runToken, "tasks.complete", "mutation", { id: other, summary: "not mine" })).toBe(403);
      expect(await as(runToken, "tasks.get", "query", { id: other })).toBe(403);
      expect(await as(runToken, "tasks.get", "query", { id: "t_00000000" })).toBe(403);
      expect(await as(runToken, "hosts.heartbeat", "mutation", { host_id: host.hostId(), running: 0, runs: [] })).toBe(
        403,
      );
      // The host token: hosts.* only.
      expect(await as(host.token, "tasks.complete", "mutation", { id: own, summary: "host" })).toBe(403);
      expect(await as(host.token, "tasks.block", "mutation", { id: own, reason: "host" })).toBe(403);
      expect(await as(host.token, "tasks.create", "mutation", { title: "host" })).toBe(403);
      expect(await as(host.token, "tasks.list", "query", {})).toBe(403);
      expect(await as(host.token, "comments.add", "mutation", { task_id: own, body: "host" })).toBe(403);
      // The admin token is not a host.
      expect(
        await as(cluster.adminToken, "hosts.claim", "mutation", { host_id: host.hostId(), max: 1, profiles: null }),
      ).toBe(403);
      const db = cluster.reader();
      expect(db.prepare("SELECT status FROM tasks WHERE id = ?").pluck().get(other)).toBe("ready");
      expect(db.prepare("SELECT count(*) FROM task_comments WHERE task_id = ?").pluck().get(other)).toBe(0);
      expect(db.prepare("SELECT title, assignee FROM tasks WHERE id = ?").get(other)).toEqual({
        title: "someone else's task",
        assignee: "fake",
      });

      // The run token dies with its run.
      const cancelled = await cluster.call("tasks.cancel", "mutation", { id: own, reason: "scope test done" });
      expect(cancelled.status, cancelled.text).toBe(200);
      expect(await as(runToken, "comments.add", "mutation", { task_id: own, body: "after", ...fence })).not.toBe(200);
      expect(tokenLeaks(cluster)).toEqual([]);
      rec.notes.push(
        "run token: own task 200; another task 403 through verbs outside its list (4 calls), 404 through its own verbs (4); hosts.* 403. Host token: 5 calls outside hosts.* 403. Admin token: hosts.claim 403",
      );
      reachedEnd = true;
    } finally {
      closeBooks(cluster, rec, reachedEnd);
    }
  }, 360_000);
});
