import fs from "node:fs";
import path from "node:path";
import { nudgeDispatcher } from "@kanban/db";
import type { Board, Task } from "@kanban/kernel";
import { isPidAlive, scanRunProcesses } from "@kanban/process";
import { RUN_TREE_SCRIPT, waitForRunTree } from "@kanban/process/testing";
import { afterEach, describe, expect, it } from "vitest";
import { killAll, makeHome, startBin, type TestHome, track, trackPool, waitFor } from "../../test/helpers.ts";
import { createDispatcher, type Dispatcher } from "../dispatcher.ts";
import { targetKey } from "./run-sweep.ts";

/**
 * Containment, the dispatcher path: every worker is `run-tree.sh` (worker → child → grandchild
 * ignoring SIGTERM, and a setsid escapee ignoring SIGTERM with its own child). However its run ends,
 * ended by someone who never signals anything (the kernel's verbs, as the API and the CLI call them
 * when a dispatcher serves the board), within 5 s no process carrying that run id is left.
 */
const CONFIG = {
  kanban: {
    terminate_grace_seconds: 1,
    crash_grace_seconds: 0,
    failure_limit: 1,
    dispatch_interval_seconds: 60,
    max_spawn: 20,
    max_in_progress: 20,
    max_in_progress_per_profile: 20,
  },
  profiles: { tree: { command: ["sh", RUN_TREE_SCRIPT] } },
};

let home: TestHome | null = null;
const loops: Dispatcher[] = [];
afterEach(async () => {
  for (const d of loops.splice(0)) d.stop();
  await killAll();
  home?.cleanup();
  home = null;
});

interface Running {
  id: string;
  run: number;
  pids: number[];
}

async function spawnedTree(b: Board, h: TestHome, id: string): Promise<Running> {
  const task = await waitFor(async () => {
    const t = await b.getTask(id);
    return t?.status === "running" && t.worker_pid !== null ? t : null;
  }, `${id} running`);
  const pids = await waitForRunTree(path.join(h.home, "kanban", "workspaces", id, "run-tree.pids"));
  for (const pid of pids) track(pid);
  return { id, run: task.current_run_id as number, pids };
}

/** Bounded poll: no process of the run (by its identity) and none of the tree's pids is alive. */
async function treeGone(b: Board, r: Running, label: string): Promise<void> {
  const identity = { runId: r.run, boardKey: targetKey({ slug: "default", dbPath: b.path }) };
  await waitFor(
    // The tree's own pids first (cheap); then one look for anything else carrying the run (shared by
    // the concurrent waits: each look reads every process's environment).
    () =>
      r.pids.every((p) => !isPidAlive(p)) &&
      scanRunProcesses({ boardKeys: new Set([identity.boardKey]), maxAgeMs: 200 }).every(
        (p) => p.runId !== identity.runId,
      ),
    `${label}: no process of run ${r.run} left`,
    // A hang guard, not a speed bound (speed belongs in the benchmark): the sweep runs every tick, and
    // the whole tree goes within a few seconds on an idle machine; 5 s was too short on a loaded one.
    30_000,
    100,
  );
}

type Ending = [name: string, end: (b: Board, r: Running, h: TestHome) => Promise<unknown>, extra?: Partial<Task>];

const ENDINGS: Ending[] = [
  [
    "the worker completes its task (fenced by its run)",
    (b, r) => b.completeTask(r.id, { summary: "done", expected_run_id: r.run }),
  ],
  ["a person completes the card", (b, r) => b.completeTask(r.id, { summary: "done by hand" })],
  ["block", (b, r) => b.blockTask(r.id, { reason: "needs a human" })],
  ["archive", (b, r) => b.archiveTask(r.id)],
  ["delete", (b, r) => b.deleteTask(r.id)],
  ["reclaim", (b, r) => b.reclaimTask(r.id, { reason: "test" })],
  ["reassign with reclaim", (b, r) => b.reassignTask(r.id, "nobody", { reclaimFirst: true })],
  ["cancel (runs.terminate)", (b, r) => b.terminateRun(r.run, { reason: "cancelled" })],
  [
    "the breaker (the worker crashes at failure_limit 1; its escapees stay behind)",
    async (_b, r) => process.kill(r.pids[0] as number, "SIGKILL"),
  ],
  // The dispatcher's own timeout: max runtime 1 s, seen by the tick a nudge starts.
  ["timeout (max runtime)", async (_b, _r, h) => nudgeDispatcher(h.home), { max_runtime_seconds: 1 }],
];

describe("containment: the dispatcher stops every process of a run that ended", { timeout: 120_000 }, () => {
  it("a worker that settled its own card gets a moment to exit by itself: never signalled, nothing to record", async () => {
    // The worker waits for the test's go, lingers 0.8 s after its card is completed (as a CLI call
    // still answering it would), and notes whether SIGTERM reached it.
    const polite = [
      "sh",
      "-c",
      'trap \'echo signalled >> "$KANBAN_WORKSPACE/out"; exit 143\' TERM; while [ ! -f "$KANBAN_WORKSPACE/go" ]; do sleep 0.1; done; sleep 0.8; echo exited-by-itself >> "$KANBAN_WORKSPACE/out"',
    ];
    const h = makeHome({ ...CONFIG, profiles: { polite: { command: polite } } });
    home = h;
    const b = h.board();
    const { id } = await b.createTask({ title: "settles itself", assignee: "polite" });
    const d = createDispatcher(h.config(), { log: () => {} });
    trackPool(d.pool);
    loops.push(d);
    void d.run();
    const task = await waitFor(async () => {
      const t = await b.getTask(id);
      return t?.status === "running" && t.worker_pid !== null ? t : null;
    }, `${id} running`);
    const ws = path.join(h.home, "kanban", "workspaces", id);
    await b.completeTask(id, { summary: "done", expected_run_id: task.current_run_id as number });
    fs.writeFileSync(path.join(ws, "go"), "");
    await waitFor(() => !isPidAlive(task.worker_pid as number), "the worker to exit", 5000);
    // Two more sweeps pass over the board, and nothing was signalled or recorded.
    await new Promise((r) => setTimeout(r, 2100));
    expect(fs.readFileSync(path.join(ws, "out"), "utf8").trim()).toBe("exited-by-itself");
    expect((await b.listEvents(id)).map((e) => e.kind)).not.toContain("terminal_worker_reaped");
  });

  it("a worker that settled its own card and lingers past that moment is stopped", async () => {
    const stubborn = ["sh", "-c", 'trap "" TERM; while :; do sleep 0.2; done'];
    const h = makeHome({ ...CONFIG, profiles: { stubborn: { command: stubborn } } });
    home = h;
    const b = h.board();
    const { id } = await b.createTask({ title: "lingers", assignee: "stubborn" });
    const d = createDispatcher(h.config(), { log: () => {} });
    trackPool(d.pool);
    loops.push(d);
    void d.run();
    const task = await waitFor(async () => {
      const t = await b.getTask(id);
      return t?.status === "running" && t.worker_pid !== null ? t : null;
    }, `${id} running`);
    await b.completeTask(id, { summary: "done", expected_run_id: task.current_run_id as number });
    await waitFor(() => !isPidAlive(task.worker_pid as number), "the lingering worker to be stopped", 8000);
    const reaped = await waitFor(
      async () => (await b.listEvents(id)).find((e) => e.kind === "terminal_worker_reaped"),
      "terminal_worker_reaped",
    );
    expect(reaped.payload).toMatchObject({ run_id: task.current_run_id, run_outcome: "completed", sigkill: true });
  });

  it("for every way a run ends, no process carrying its run id is left; the events say what was stopped", async () => {
    const h = makeHome(CONFIG);
    home = h;
    const b = h.board();
    const ids: string[] = [];
    for (const [name, , extra] of ENDINGS)
      ids.push((await b.createTask({ title: name, assignee: "tree", ...(extra ?? {}) })).id);
    const logs: string[] = [];
    const t0 = Date.now();
    const d = createDispatcher(h.config(), { log: (l) => logs.push(`+${Date.now() - t0} ms ${l}`) });
    trackPool(d.pool);
    loops.push(d);
    const loop = d.run();
    const runs = await Promise.all(ids.map((id) => spawnedTree(b, h, id)));
    // The timeout case needs its second of runtime to pass before the nudge's tick.
    await new Promise((r) => setTimeout(r, 1100));
    await Promise.all(
      ENDINGS.map(async ([name, end], i) => {
        const r = runs[i] as Running;
        logs.push(`+${Date.now() - t0} ms test: ${name} (run ${r.run})`);
        await end(b, r, h);
        await treeGone(b, r, name).catch((err: Error) => {
          throw new Error(`${err.message}\n${logs.join("\n")}`);
        });
      }),
    );
    for (const [i, [name]] of ENDINGS.entries()) {
      const r = runs[i] as Running;
      if (name === "delete") continue; // no task left to tell
      const reaped = await waitFor(
        async () => (await b.listEvents(r.id)).find((e) => e.kind === "terminal_worker_reaped" && e.run_id === r.run),
        `${name}: terminal_worker_reaped on ${r.id}`,
      );
      expect(reaped.payload, `${name}\n${logs.join("\n")}`).toMatchObject({ run_id: r.run, sigkill: true });
      const payload = reaped.payload as { pids: number[]; count: number; killed: number[] };
      expect(payload.count, name).toBe(payload.pids.length);
      // The setsid escapee (4th) and its child (5th) were found by the run's marker, and killed.
      expect(payload.killed, `${name}: ${JSON.stringify(payload)}\n${logs.join("\n")}`).toEqual(
        expect.arrayContaining([r.pids[3], r.pids[4]]),
      );
    }
    expect((await b.requireTask(runs[8]?.id as string)).status, "breaker tripped").toBe("blocked");
    d.stop();
    await loop;
  });

  it("SIGKILL the dispatcher while workers run, finish their tasks meanwhile, restart: the orphans are stopped on its first tick", async () => {
    const h = makeHome(CONFIG);
    home = h;
    const b = h.board();
    const ids = [
      (await b.createTask({ title: "one", assignee: "tree" })).id,
      (await b.createTask({ title: "two", assignee: "tree" })).id,
    ];
    const first = startBin([], h.env);
    const runs = await Promise.all(ids.map((id) => spawnedTree(b, h, id)));
    first.child.kill("SIGKILL");
    await first.exited;
    // Nobody serves the board now: the workers settle their tasks (their trees stay behind).
    for (const r of runs) await b.completeTask(r.id, { summary: "done", expected_run_id: r.run });
    for (const r of runs) expect(r.pids.every(isPidAlive)).toBe(true);
    const second = startBin([], h.env);
    // Starting the bin (tsx) takes seconds on a loaded host; the 5 s count from its first sweep.
    await waitFor(() => /stopping run/.test(second.stderr()), "the restarted dispatcher's first sweep", 30_000);
    await Promise.all(runs.map((r) => treeGone(b, r, `orphans of ${r.id}`))).catch((err: Error) => {
      throw new Error(`${err.message}\n${second.stderr()}`);
    });
    // The record follows the stop: its log line may come a moment after the last process went.
    await waitFor(
      () =>
        (second.stderr().match(/run \d+ of t_[0-9a-f]+ \(completed\): stopped 5 process\(es\), \d with SIGKILL/g) ?? [])
          .length === 2,
      `both stops recorded:\n${second.stderr()}`,
    );
    second.child.kill("SIGTERM");
    await second.exited;
  });
});
