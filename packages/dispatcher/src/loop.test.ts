import path from "node:path";
import { readDispatcherStatus } from "@kanban/db";
import { afterEach, describe, expect, it } from "vitest";
import { fakeProfile, killAll, makeHome, startBin, type TestHome, trackRecorded, waitFor } from "../test/helpers.ts";

/**
 * The loop of the real `kanban-dispatcher` bin reacting between ticks: to its own workers' exits
 * and to edits of config.json. Every dispatcher here ticks every 60 s (the default), so anything
 * that happens before the next tick was done by the reaction under test, not by a sweep.
 */
let home: TestHome | null = null;

afterEach(async () => {
  if (home) trackRecorded(path.join(home.home, "record.jsonl"));
  await killAll();
  home?.cleanup();
  home = null;
});

function setup(config: Record<string, unknown>): TestHome {
  home = makeHome(config);
  return home;
}

function env(h: TestHome, extra: Record<string, string> = {}): Record<string, string> {
  return { ...h.env, FAKE_WORKER_RECORD: path.join(h.home, "record.jsonl"), ...extra };
}

describe("kanban-dispatcher loop", { timeout: 60_000 }, () => {
  it("a worker that exits at once is recorded as crashed when it exits, not after the crash grace", async () => {
    // The default crash grace (30 s) and interval (60 s): only the exit itself can explain a crash seen early.
    const h = setup({ kanban: { failure_limit: 5 }, profiles: { crasher: fakeProfile("crash") } });
    const b = h.board();
    const t = b.createTask({ title: "dies at once", assignee: "crasher" }).id;
    const d = startBin([], env(h));
    await waitFor(() => b.requireTask(t).consecutive_failures === 1, "the crash to be recorded", 20_000);
    expect(readDispatcherStatus(h.home)?.ticks).toBe(1);
    const crashed = b.listEvents(t).filter((e) => e.kind === "crashed");
    expect(crashed).toHaveLength(1);
    expect(crashed[0]?.payload).toMatchObject({ exit_code: 3 });
    expect(b.requireTask(t).status).toBe("ready");
    expect(b.listRuns(t).map((r) => r.outcome)).toEqual(["crashed"]);
    d.child.kill("SIGTERM");
    expect((await d.exited).code).toBe(0);
  });
});
