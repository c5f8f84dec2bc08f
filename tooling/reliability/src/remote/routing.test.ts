import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { waitFor } from "../support/env.ts";
import { KANBAN_BIN } from "../support/kanban-serve.ts";
import { PROFILE, type RemoteCluster } from "./harness.ts";
import { ScenarioRecorder } from "./report.ts";
import { closeBooks, remoteScenarios, startHosts } from "./scenario.ts";

/**
 * Label routing: cards created with `kanban create --requires gpu` (the real CLI, against the
 * server) run only on the host started with `--labels gpu`; a card needing a label no host has stays
 * ready, and `kanban why` says no connected host can take it.
 */
const scenarios = remoteScenarios();

/** The real CLI against the server, as an operator at their desk (admin token). */
function kanban(cluster: RemoteCluster, args: string[]): { code: number | null; out: string } {
  const r = spawnSync(process.execPath, [KANBAN_BIN, ...args], {
    env: { ...cluster.serverHome.env, KANBAN_URL: cluster.url, KANBAN_TOKEN: cluster.adminToken },
    encoding: "utf8",
    timeout: 120_000,
  });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

describe("remote hosts: label routing", () => {
  it("a --requires gpu card runs only on the gpu host; one no host can take stays ready", async () => {
    const rec = new ScenarioRecorder("label-routing", "4 gpu cards, 4 plain cards, 1 card no host can take");
    const workerEnv = { FAKE_MIN_MS: "200", FAKE_MAX_MS: "800" };
    const cluster = await scenarios.start({
      leaseSeconds: 30,
      hosts: [
        { name: "cpu-1", labels: ["linux"], capacity: 2, workerEnv },
        { name: "gpu-1", labels: ["gpu", "linux"], capacity: 2, workerEnv },
      ],
    });
    let reachedEnd = false;
    try {
      const created = (args: string[]) => {
        const r = kanban(cluster, ["create", ...args, "--assignee", PROFILE, "--json"]);
        expect(r.code, r.out).toBe(0);
        return (JSON.parse(r.out) as { id: string }).id;
      };
      const gpu = [0, 1, 2, 3].map((i) => created([`gpu ${i}`, "--requires", "gpu"]));
      const plain = [0, 1, 2, 3].map((i) => created([`plain ${i}`]));
      const nowhere = created(["needs a mac", "--requires", "macos"]);
      rec.tasks = gpu.length + plain.length + 1;
      await startHosts(cluster);
      const db = cluster.reader();
      const status = db.prepare("SELECT status FROM tasks WHERE id = ?").pluck();
      await waitFor(
        // Done on the board can come a moment before the CLI files its entry as delivered.
        () =>
          [...gpu, ...plain].every((id) => status.get(id) === "done") &&
          cluster.hosts.every((h) => h.pending().length === 0),
        "every gpu and plain card to be done and every outbox empty",
        150_000,
        100,
      );
      const gpuHost = cluster.host("gpu-1").hostId();
      // Who claimed each attempt: the lock of its `claimed` event is `<host id>:<pid>`.
      const claimers = db
        .prepare("SELECT json_extract(payload, '$.lock') FROM task_events WHERE task_id = ? AND kind = 'claimed'")
        .pluck();
      for (const id of gpu) {
        const locks = claimers.all(id) as string[];
        expect(locks.length, id).toBeGreaterThan(0);
        for (const lock of locks) expect(lock.split(":")[0], `${id} ran on another host`).toBe(gpuHost);
      }
      const ranOn = new Set(
        cluster
          .host("cpu-1")
          .workers()
          .map((r) => r.task),
      );
      for (const id of gpu) expect(ranOn.has(id), `${id} started a worker on cpu-1`).toBe(false);

      // Every other card is done and both hosts kept asking for work: the macos card was never taken.
      expect(status.get(nowhere)).toBe("ready");
      expect(db.prepare("SELECT count(*) FROM task_runs WHERE task_id = ?").pluck().get(nowhere)).toBe(0);
      reachedEnd = true;
    } finally {
      const { books, doubles } = closeBooks(cluster, rec, reachedEnd);
      if (reachedEnd) {
        expect(books.lost).toEqual([]);
        expect(doubles).toEqual([]);
      }
    }
  }, 360_000);

  it("kanban why on the server names the labels no connected host has", async () => {
    const cluster = await scenarios.start({
      leaseSeconds: 30,
      hosts: [{ name: "gpu-1", labels: ["gpu"], capacity: 1 }],
    });
    const r = kanban(cluster, ["create", "needs a mac", "--requires", "macos,xcode", "--assignee", PROFILE, "--json"]);
    expect(r.code, r.out).toBe(0);
    const id = (JSON.parse(r.out) as { id: string }).id;
    await startHosts(cluster);
    // The server has no profiles of its own: the hosts run the workers (as on a real deployment).
    const why = kanban(cluster, ["why", id]);
    expect(why.code, why.out).toBe(0);
    expect(why.out).toMatch(/code: no_host_for_labels/);
    expect(why.out).toMatch(/macos, xcode/);
    expect(why.out).toMatch(/no connected host/);
  }, 240_000);
});
