import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { readDispatcherStatus } from "@kanban/db";
import type { Board } from "@kanban/kernel";
import {
  cgroup2Mount,
  cgroupOf,
  cgroupPids,
  isPidAlive,
  probeCgroups,
  processTree,
  removeEmptyRunCgroups,
  scanRunProcesses,
} from "@kanban/process";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import {
  fakeProfile,
  killAll,
  makeHome,
  runBin,
  startBin,
  type TestHome,
  track,
  trackPool,
  waitFor,
} from "../../test/helpers.ts";
import { createDispatcher, type Dispatcher } from "../dispatcher.ts";
import { memAvailableBytes } from "./meminfo.ts";

/**
 * Admission control and containment with real boards, real workers and this host's real
 * /proc/meminfo and cgroups: dispatchers ticked by hand in this process (two of them, on two homes,
 * for the host cap across dispatchers).
 */
const ALLOC_TREE = fileURLToPath(new URL("../../../process/test/alloc-tree.mjs", import.meta.url));
const MB = 1024 * 1024;
const homes: TestHome[] = [];
const dirs: string[] = [];
const strays: number[] = [];
let logs: string[] = [];
const mount = cgroup2Mount();
const cgroupRoot = mount === null ? null : path.join(mount, `kanban-dispatcher-test-${process.pid}`);

afterEach(async () => {
  for (const pid of strays.splice(0)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone
    }
  }
  await killAll();
  for (const h of homes.splice(0)) h.cleanup();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  logs = [];
});
afterAll(() => {
  if (cgroupRoot !== null && fs.existsSync(cgroupRoot)) {
    removeEmptyRunCgroups(cgroupRoot, 0);
    try {
      fs.rmdirSync(cgroupRoot);
    } catch (err) {
      // A worker's cgroup still populated here would be a leak of this suite: say which.
      throw new Error(
        `${cgroupRoot} left behind: ${fs
          .readdirSync(cgroupRoot)
          .filter((n) => n.startsWith("run-"))
          .join(", ")} (${(err as Error).message})`,
      );
    }
  }
});

function tempDir(prefix: string): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  dirs.push(d);
  return d;
}

function home(config: Record<string, unknown>): TestHome {
  const h = makeHome(config);
  homes.push(h);
  return h;
}

function dispatcher(h: TestHome): Dispatcher {
  const d = createDispatcher(h.config(), { log: (l) => logs.push(l) });
  trackPool(d.pool);
  return d;
}

async function state(b: Board, id: string) {
  const t = await b.requireTask(id);
  const kinds = (await b.listEvents(id)).map((e) => e.kind);
  return {
    status: t.status,
    claim_lock: t.claim_lock,
    failures: t.consecutive_failures,
    runs: (await b.listRuns(id)).length,
    claimed: kinds.includes("claimed"),
  };
}

const UNCLAIMED = { status: "ready", claim_lock: null, failures: 0, runs: 0, claimed: false };

describe("admission: memory floor", { timeout: 60_000 }, () => {
  it("with an impossible floor, ready cards are held with the reason, never claimed, and no failure is counted", async () => {
    const available = memAvailableBytes();
    expect(available).toEqual(expect.any(Number)); // this host has /proc/meminfo
    const floor = 64 * 1024 * 1024; // 64 TiB in MiB: no host has that much free
    const h = home({
      kanban: { memory_floor_mb: floor, host_state_dir: tempDir("kanban-host-") },
      profiles: { alice: fakeProfile("complete") },
    });
    const b = h.board();
    const ids = [
      (await b.createTask({ title: "a", assignee: "alice" })).id,
      (await b.createTask({ title: "b", assignee: "alice" })).id,
    ];
    const d = dispatcher(h);
    for (let i = 0; i < 3; i++) {
      const r = await d.tick();
      expect(r.spawned).toBe(0);
    }
    for (const id of ids) expect(await state(b, id)).toEqual(UNCLAIMED);
    const holds = d.status().holds ?? [];
    expect(holds.map((x) => [x.task_id, x.board, x.code])).toEqual(ids.map((id) => [id, "default", "memory_floor"]));
    expect(holds[0]?.detail).toEqual({ available_mb: expect.any(Number), floor_mb: floor, profile: "alice" });
    expect(Number(holds[0]?.detail.available_mb)).toBeLessThan(floor);
    // Said in the log once (not every tick), naming the card and the numbers.
    const said = logs.filter((l) => l.startsWith("admission:"));
    expect(said).toHaveLength(1);
    expect(said[0]).toContain(`${ids[0]} held:`);
    expect(said[0]).toContain(`under the floor of ${floor} MB (profile alice)`);
    // `kanban dispatch` (a one-shot tick) says so as well.
    const once = await d.once();
    expect(once.held.map((x) => x.code)).toEqual(["memory_floor", "memory_floor"]);
    expect(once.spawned).toEqual([]);
  });

  it("a profile's own floor wins over the default: a profile with floor 0 starts while the others are held", async () => {
    const h = home({
      kanban: { memory_floor_mb: 64 * 1024 * 1024, host_state_dir: tempDir("kanban-host-") },
      profiles: { alice: fakeProfile("complete"), light: { ...fakeProfile("complete"), memory_floor_mb: 0 } },
    });
    const b = h.board();
    const held = (await b.createTask({ title: "heavy", assignee: "alice", priority: 5 })).id;
    const light = (await b.createTask({ title: "light", assignee: "light" })).id;
    const d = dispatcher(h);
    const r = await d.tick();
    expect(r.boards[0]?.spawned.map((s) => s.task_id)).toEqual([light]);
    expect(await state(b, held)).toEqual(UNCLAIMED);
    expect((d.status().holds ?? []).map((x) => [x.task_id, x.code])).toEqual([[held, "memory_floor"]]);
    await waitFor(async () => (await b.getTask(light))?.status === "done", "the light task to complete");
  });
});

describe("admission: host cap", { timeout: 60_000 }, () => {
  it("a host cap of 1 holds across two boards of one dispatcher, and across a second dispatcher of another home", async () => {
    const shared = tempDir("kanban-host-");
    const h = home({
      kanban: { max_workers_host: 1, host_state_dir: shared },
      profiles: { alice: fakeProfile("hang") },
    });
    const main = h.board();
    const second = h.board("second");
    const a = (await main.createTask({ title: "a", assignee: "alice" })).id;
    const b2 = (await second.createTask({ title: "b", assignee: "alice" })).id;
    const d = dispatcher(h);
    const r = await d.tick();
    expect(r.spawned).toBe(1);
    const [started, other] = (await main.getTask(a))?.status === "running" ? [a, b2] : [b2, a];
    const otherBoard = other === a ? main : second;
    expect(await state(otherBoard, other)).toEqual(UNCLAIMED);
    expect(d.status().holds).toEqual([
      { task_id: other, board: other === a ? "default" : "second", code: "host_cap", detail: { max: 1, running: 1 } },
    ]);
    expect(d.status().host_cap).toEqual({ max: 1, running: 1 });

    // Another home's dispatcher on this host, sharing the host state: held too.
    const h2 = home({
      kanban: { max_workers_host: 1, host_state_dir: shared },
      profiles: { alice: fakeProfile("hang") },
    });
    const elsewhere = (await h2.board().createTask({ title: "c", assignee: "alice" })).id;
    const d2 = dispatcher(h2);
    expect((await d2.tick()).spawned).toBe(0);
    expect(await state(h2.board(), elsewhere)).toEqual(UNCLAIMED);
    expect((d2.status().holds ?? []).map((x) => [x.task_id, x.code, x.detail])).toEqual([
      [elsewhere, "host_cap", { max: 1, running: 1 }],
    ]);

    // The running worker dies (SIGKILL, nothing recorded): its slot frees, and the next tick starts one more.
    const pid = (await (started === a ? main : second).getTask(started))?.worker_pid ?? 0;
    process.kill(-pid, "SIGKILL");
    await waitFor(() => !isPidAlive(pid), "the worker to die");
    // Its slot counts until the whole tree has left its cgroup, which a loaded host may take a moment
    // longer than the leader: ticks hold the card until then, and the first tick after starts it.
    const after = await waitFor(async () => {
      const r = await d2.tick();
      return r.spawned === 1 ? r : null;
    }, "a tick of the second dispatcher to start its held card");
    expect(after.spawned).toBe(1);
    expect((await h2.board().getTask(elsewhere))?.status).toBe("running");
    expect(d2.status().host_cap).toEqual({ max: 1, running: 1 });
  });
});

describe("admission: host cap across dispatcher processes", { timeout: 120_000 }, () => {
  it("three one-shot dispatcher processes of three homes, started at once with one ready task each and a host cap of 1: one worker starts, the others say host_cap", async () => {
    const shared = tempDir("kanban-host-");
    const hs = [0, 1, 2].map(() =>
      home({ kanban: { max_workers_host: 1, host_state_dir: shared }, profiles: { alice: fakeProfile("hang") } }),
    );
    const ids: string[] = [];
    for (const h of hs) ids.push((await h.board().createTask({ title: "t", assignee: "alice" })).id);
    // Each pauses 1.5 s between its claim and its spawn: without the host's admission lock, all three
    // would count 0 workers and start one each.
    const runs = await Promise.all(
      hs.map((h) => runBin(["--once", "--json"], { ...h.env, KANBAN_DISPATCHER_TEST_CLAIM_DELAY_MS: "1500" })),
    );
    const outs = runs.map((r) => {
      expect(r.code).toBe(0);
      return JSON.parse(r.stdout) as { spawned: unknown[]; held: { task_id: string; code: string }[] };
    });
    for (const h of hs) track((await h.board().listTasks({ status: "running" }))[0]?.worker_pid);
    expect(outs.map((o) => o.spawned.length).sort()).toEqual([0, 0, 1]);
    expect(outs.filter((o) => o.spawned.length === 0).map((o) => o.held.map((x) => x.code))).toEqual([
      ["host_cap"],
      ["host_cap"],
    ]);
    // The held tasks are untouched: still ready, never claimed.
    for (const [i, h] of hs.entries()) {
      if (outs[i]?.spawned.length === 0) expect(await state(h.board(), ids[i] as string)).toEqual(UNCLAIMED);
    }
  });
});

describe("containment", { timeout: 60_000 }, () => {
  const probe = probeCgroups({ root: cgroupRoot });

  it("the dispatcher says which containment it uses, once in its log and in its status (cgroup here when cgroup v2 is writable)", async () => {
    const h = home({
      kanban: { host_state_dir: tempDir("kanban-host-"), cgroup_root: cgroupRoot },
      profiles: { alice: fakeProfile("complete") },
    });
    const d = dispatcher(h);
    await d.tick();
    await d.tick();
    const status = d.status();
    expect(status.containment).toBe(probe.usable ? "cgroup" : "process-tree");
    expect(status.containment_reason).toBe(probe.reason);
    expect(logs.filter((l) => l.startsWith("containment:"))).toEqual([
      `containment: ${status.containment}${probe.usable ? ` (${cgroupRoot})` : ""}${probe.reason !== null ? `: ${probe.reason}` : ""}`,
    ]);
    // Forced fallback: said with its reason.
    h.writeConfig({
      kanban: { host_state_dir: tempDir("kanban-host-"), containment: "process-tree" },
      profiles: { alice: fakeProfile("complete") },
    });
    // config.json is looked at again at most every 250 ms: tick until the edit is applied.
    await waitFor(async () => (await d.tick()) && d.status().containment === "process-tree", "the edit to apply");
    expect([d.status().containment, d.status().containment_reason]).toEqual([
      "process-tree",
      'kanban.containment is "process-tree"',
    ]);
    expect(logs.filter((l) => l.startsWith("containment:")).at(-1)).toBe(
      'containment: process-tree: kanban.containment is "process-tree"',
    );
  });

  it("the real loop says its containment once at start-up, and its status file carries it after the first ticks", async () => {
    const h = home({
      kanban: { host_state_dir: tempDir("kanban-host-"), cgroup_root: cgroupRoot, memory_floor_mb: 64 * 1024 * 1024 },
      profiles: { alice: fakeProfile("complete") },
    });
    const id = (await h.board().createTask({ title: "held", assignee: "alice" })).id;
    const bin = startBin([], { ...h.env, KANBAN_DISPATCH_INTERVAL: "0.2" });
    const status = await waitFor(() => {
      const s = readDispatcherStatus(h.home);
      return s !== null && s.ticks >= 3 ? s : null;
    }, "three ticks");
    expect(status.containment).toBe(probe.usable ? "cgroup" : "process-tree");
    expect(status.containment_reason).toBe(probe.reason);
    expect(status.holds?.map((x) => [x.task_id, x.code])).toEqual([[id, "memory_floor"]]);
    expect(status.host_cap).toEqual({ max: null, running: 0 });
    expect(status.footprints).toEqual([]);
    bin.child.kill("SIGTERM");
    await bin.exited;
    expect(bin.stderr().match(/kanban-dispatcher: containment: /g)).toHaveLength(1);
    expect(bin.stderr().match(/kanban-dispatcher: admission: 1 card\(s\) held/g)).toHaveLength(1);
  });

  it("process-tree mode: the footprint counts a descendant that double-forked out of the tree (found by its run's marker)", async () => {
    const h = home({
      kanban: { host_state_dir: tempDir("kanban-host-"), containment: "process-tree" },
      profiles: { forker: { command: ["/bin/sh", "-c", "(setsid sleep 100000 &); exec sleep 100000"] } },
    });
    const b = h.board();
    const id = (await b.createTask({ title: "fork", assignee: "forker" })).id;
    const d = dispatcher(h);
    expect((await d.tick()).spawned).toBe(1);
    const worker = (await b.requireTask(id)).worker_pid ?? 0;
    const run = (await b.requireTask(id)).current_run_id ?? 0;
    // The orphan: a sleep of the run that is neither in the worker's group nor among its descendants.
    const orphan = await waitFor(
      () => scanRunProcesses().find((p) => p.runId === run && p.pid !== worker && !processTree(worker).includes(p.pid)),
      "the double-forked sleep",
    );
    strays.push(orphan.pid);
    await d.tick();
    expect(d.status().footprints).toEqual([
      expect.objectContaining({ run_id: run, task_id: id, pids: 2, rss_bytes: expect.any(Number) }),
    ]);
  });

  it("a worker that allocates memory and forks (a child that calls setsid): its footprint, its cgroup, and a stop through the cgroup", async () => {
    const pidsFile = path.join(tempDir("kanban-alloc-"), "pids.json");
    const h = home({
      kanban: { host_state_dir: tempDir("kanban-host-"), cgroup_root: cgroupRoot, terminate_grace_seconds: 0.3 },
      profiles: {
        alloc: {
          command: [process.execPath, ALLOC_TREE, "96", "16", "ignore-term"],
          env: { ALLOC_TREE_PIDS: pidsFile },
          memory_max: "1G",
          cpu_max: 1,
        },
      },
    });
    const b = h.board();
    const id = (await b.createTask({ title: "alloc", assignee: "alloc" })).id;
    const d = dispatcher(h);
    expect((await d.tick()).spawned).toBe(1);
    const pids = await waitFor(() => {
      try {
        return JSON.parse(fs.readFileSync(pidsFile, "utf8")) as { worker: number; child: number };
      } catch {
        return null;
      }
    }, "the worker to report its pids");
    strays.push(pids.worker, pids.child);
    const run = (await b.requireTask(id)).current_run_id;
    // The next tick samples it: two processes, the 96 + 16 MiB they hold.
    await d.tick();
    const [fp] = d.status().footprints ?? [];
    expect(fp).toEqual({
      run_id: run,
      task_id: id,
      board: "default",
      pids: 2,
      rss_bytes: expect.any(Number),
      cpu_percent: expect.any(Number),
      sampled_at: expect.any(Number),
    });
    expect(fp?.rss_bytes).toBeGreaterThan(100 * MB);
    // Published: the status file the API reads after a loop tick has the same fields (read back through @kanban/db).
    await d.coordination.publish(d.status());
    const file = readDispatcherStatus(h.home);
    expect(file?.footprints?.[0]).toMatchObject({ run_id: run, pids: 2 });
    expect(file?.containment).toBe(d.status().containment);

    if (probe.usable) {
      const dir = cgroupOf(pids.worker);
      expect(dir?.startsWith(`${cgroupRoot}/run-`)).toBe(true);
      expect(cgroupOf(pids.child)).toBe(dir);
      expect(cgroupPids(dir as string).sort()).toEqual([pids.worker, pids.child].sort());
      // memory.max / cpu.max are set where the controllers are enabled; here the status said why not.
      if (probe.controllers.includes("memory"))
        expect(fs.readFileSync(path.join(dir as string, "memory.max"), "utf8").trim()).toBe(String(1024 ** 3));
      else expect(d.status().containment_reason).toContain("memory_max");
      // Both ignore SIGTERM and the child left the process group: the cgroup stops them all.
      d.pool.terminate([{ pid: pids.worker, lock: null }], 0.3);
      await d.pool.drain();
      // Each named, so a failure says which one outlived the stop.
      expect({
        worker: isPidAlive(pids.worker),
        child: isPidAlive(pids.child),
        cgroup: fs.existsSync(dir as string),
      }).toEqual({
        worker: false,
        child: false,
        cgroup: false,
      });
      expect(
        logs.some((l) =>
          l.includes(`worker pid ${pids.worker} survived SIGTERM for 0.3s: cgroup.kill stopped its 2 process(es)`),
        ),
      ).toBe(true);
    } else {
      // The process-tree fallback: the worker's group goes; the setsid child is the run-id sweep's (helper C's) business.
      d.pool.terminate([{ pid: pids.worker, lock: null }], 0.3);
      await d.pool.drain();
      expect(isPidAlive(pids.worker)).toBe(false);
    }
  });
});
