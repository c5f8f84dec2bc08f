import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { liveDispatcherPid } from "@kanban/db";
import { isPidAlive, PARENT_PID_ENV } from "@kanban/process";
import { describe, expect, it } from "vitest";
import {
  BIN,
  fakeProfile,
  readPids,
  recordingEnv,
  startBin,
  type TestHome,
  track,
  trackRecorded,
  useBinHomes,
  waitFor,
} from "../test/helpers.ts";

/**
 * The loop under a supervisor: when it is told to stop (SIGTERM), or its supervisor dies, nothing it
 * started keeps working. Its workers (here a worker and a grandchild that both ignore SIGTERM) are
 * stopped like any reclaimed worker, their tasks go back to ready without a failure being counted,
 * and the home's lock is released.
 */
const setup = useBinHomes();

function stubbornHome(): TestHome {
  return setup({
    kanban: { terminate_grace_seconds: 1, failure_limit: 1 },
    profiles: { alice: fakeProfile("ignore-sigterm") },
  });
}

/** Waits until the task's worker runs and has started its grandchild; returns both pids. */
async function workerOf(h: TestHome): Promise<{ worker: number; grandchild: number }> {
  const record = path.join(h.home, "record.jsonl");
  const cwd = await waitFor(() => trackRecorded(record)[0]?.cwd, "the worker to start", 30_000);
  const pids = await waitFor(() => readPids(cwd), "the worker to start its grandchild", 15_000);
  track(pids.worker);
  return pids;
}

async function expectReclaimedNotFailed(h: TestHome, id: string): Promise<void> {
  const b = h.board();
  const task = await b.requireTask(id);
  expect(task.status).toBe("ready");
  expect(task.consecutive_failures).toBe(0);
  const kinds = (await b.listEvents(id)).map((e) => e.kind);
  expect(kinds).toContain("reclaimed");
  expect(kinds).not.toContain("crashed");
  expect((await b.listRuns(id)).map((r) => r.outcome)).toEqual(["reclaimed"]);
}

describe("kanban-dispatcher under a supervisor", { timeout: 90_000 }, () => {
  it("SIGTERM stops its workers (SIGKILL after the grace), gives their claims back and releases the lock", async () => {
    const h = stubbornHome();
    const id = (await h.board().createTask({ title: "long job", assignee: "alice" })).id;
    const d = startBin([], recordingEnv(h));
    const pids = await workerOf(h);
    d.child.kill("SIGTERM");
    expect((await d.exited).code).toBe(0);
    // Exited only after its workers were gone: no waiting needed here.
    expect(isPidAlive(pids.worker)).toBe(false);
    expect(isPidAlive(pids.grandchild)).toBe(false);
    expect(liveDispatcherPid(h.home)).toBeNull();
    expect(fs.existsSync(path.join(h.home, "kanban", ".dispatcher.lock"))).toBe(false);
    expect(d.stderr() + d.stdout()).toContain(`stopping 1 worker(s): ${id}`);
    await expectReclaimedNotFailed(h, id);
  });

  it("a dispatcher whose supervisor (KANBAN_PARENT_PID) is SIGKILLed stops by itself, workers and lock included", async () => {
    const h = stubbornHome();
    const id = (await h.board().createTask({ title: "long job", assignee: "alice" })).id;
    // A stand-in supervisor: starts the bin as npm start's does, naming itself, then idles.
    const supervisorScript = `
      const { spawn } = require("node:child_process");
      const c = spawn(process.execPath, [${JSON.stringify(BIN)}], {
        env: { ...process.env, ${PARENT_PID_ENV}: String(process.pid) }, stdio: "inherit",
      });
      console.log("child " + c.pid);
      setInterval(() => {}, 1000);`;
    const supervisor = spawn(process.execPath, ["-e", supervisorScript], {
      env: recordingEnv(h),
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    track(supervisor.pid);
    let out = "";
    supervisor.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
    });
    supervisor.stderr?.on("data", (d: Buffer) => {
      out += d.toString();
    });
    const child = Number((await waitFor(() => /child (\d+)/.exec(out), "the supervisor to start the bin"))[1]);
    track(child);
    const pids = await workerOf(h);
    expect(liveDispatcherPid(h.home)).toBe(child);

    supervisor.kill("SIGKILL");
    await waitFor(
      () => !isPidAlive(child) && !isPidAlive(pids.worker) && !isPidAlive(pids.grandchild),
      "the orphaned dispatcher and its workers to stop",
      30_000,
      100,
    );
    expect(liveDispatcherPid(h.home)).toBeNull();
    expect(fs.existsSync(path.join(h.home, "kanban", ".dispatcher.lock"))).toBe(false);
    await expectReclaimedNotFailed(h, id);
  });
});
