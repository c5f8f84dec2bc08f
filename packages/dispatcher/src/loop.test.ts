import { nudgeDispatcher, readDispatcherStatus } from "@kanban/db";
import { describe, expect, it } from "vitest";
import { fakeProfile, firstTick, recordingEnv, startBin, useBinHomes, waitFor } from "../test/helpers.ts";

/**
 * The loop of the real `kanban-dispatcher` bin reacting between ticks: to its own workers' exits
 * and to edits of config.json. Every dispatcher here ticks every 60 s (the default), so anything
 * that happens before the next tick was done by the reaction under test, not by a sweep.
 */
const setup = useBinHomes();
const env = recordingEnv;

describe("kanban-dispatcher loop", { timeout: 120_000 }, () => {
  it("a worker that exits at once is recorded as crashed when it exits, not after the crash grace", async () => {
    // The default crash grace (30 s) and interval (60 s): only the exit itself can explain a crash seen early.
    const h = setup({ kanban: { failure_limit: 5 }, profiles: { crasher: fakeProfile("crash") } });
    const b = h.board();
    const t = (await b.createTask({ title: "dies at once", assignee: "crasher" })).id;
    const d = startBin([], env(h));
    await waitFor(async () => (await b.requireTask(t)).consecutive_failures === 1, "the crash to be recorded", 45_000);
    expect(readDispatcherStatus(h.home)?.ticks).toBe(1);
    const crashed = (await b.listEvents(t)).filter((e) => e.kind === "crashed");
    expect(crashed).toHaveLength(1);
    expect(crashed[0]?.payload).toMatchObject({ exit_code: 3 });
    expect((await b.requireTask(t)).status).toBe("ready");
    expect((await b.listRuns(t)).map((r) => r.outcome)).toEqual(["crashed"]);
    d.child.kill("SIGTERM");
    expect((await d.exited).code).toBe(0);
  });

  it("applies an edited config.json without a restart: a newly added profile gets its card spawned", async () => {
    // No profiles: the Hermes runtime, in which "alice" is no profile at all.
    const h = setup({});
    const b = h.board();
    const t = (await b.createTask({ title: "for alice", assignee: "alice" })).id;
    const d = startBin([], env(h));
    expect((await firstTick(h.home, d)).ticks).toBe(1);
    expect(readDispatcherStatus(h.home)?.boards[0]?.skipped_nonspawnable).toEqual([t]);
    h.writeConfig({ profiles: { alice: fakeProfile("complete") } });
    await waitFor(
      async () => (await b.requireTask(t)).status === "done",
      "the card to be spawned and completed",
      20_000,
    );
    expect(readDispatcherStatus(h.home)?.config_error).toBeNull();
    expect(d.stderr()).toContain("config.json reloaded (profiles: alice");
    d.child.kill("SIGTERM");
    expect((await d.exited).code).toBe(0);
  });

  it("an invalid edit keeps the last valid config running and says why in the status file, until it is fixed", async () => {
    const h = setup({ profiles: { alice: fakeProfile("complete") } });
    const b = h.board();
    const d = startBin([], env(h));
    expect((await firstTick(h.home, d)).ticks).toBe(1);
    h.writeConfig({ kanban: { max_spawnn: 2 }, profiles: { alice: fakeProfile("complete") } });
    const status = await waitFor(
      () => {
        const s = readDispatcherStatus(h.home);
        return s?.config_error ? s : null;
      },
      "the config error in the status file",
      20_000,
    );
    expect(status.config_error).toContain("max_spawnn");
    expect(status.config_error).toContain('did you mean "max_spawn"');
    // Still dispatching with the last valid profiles: a nudge gets a new card done.
    const t = (await b.createTask({ title: "still works", assignee: "alice" })).id;
    nudgeDispatcher(h.home);
    await waitFor(
      async () => (await b.requireTask(t)).status === "done",
      "the card to be done under the last valid config",
      20_000,
    );
    h.writeConfig({ profiles: { alice: fakeProfile("complete") } });
    await waitFor(
      () => readDispatcherStatus(h.home)?.config_error === null,
      "the error to clear once the file is fixed",
      20_000,
    );
    expect(d.child.exitCode).toBeNull();
    d.child.kill("SIGTERM");
    expect((await d.exited).code).toBe(0);
  });
});
