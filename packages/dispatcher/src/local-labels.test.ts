import { readDispatcherStatus } from "@kanban/db";
import { describe, expect, it } from "vitest";
import { loadConfig } from "./config.ts";
import { createDispatcher } from "./dispatcher.ts";
import { fakeProfile, recordingEnv, runBin, startBin, trackPool, useBinHomes, waitFor } from "../test/helpers.ts";

/**
 * A LOCAL dispatcher offers labels too (issue 15): `--labels a,b` or config.json `kanban.labels`.
 * A card created with `--requires gpu` is claimed by one that offers gpu and passed over, with the
 * kernel's motion no_host_for_labels, by one that does not; the labels show in its status.
 */
const setup = useBinHomes();

describe("a local dispatcher's labels", { timeout: 60_000 }, () => {
  it("a --requires gpu card is skipped (no_host_for_labels) without gpu and claimed with --labels gpu", async () => {
    const h = setup({ profiles: { alice: fakeProfile("complete") } });
    const b = h.board();
    const gpu = (await b.createTask({ title: "train", assignee: "alice", requires: ["gpu"] })).id;

    const plain = createDispatcher(loadConfig(recordingEnv(h)), { log: () => {} });
    trackPool(plain.pool);
    const skipped = await plain.once({});
    await plain.pool.drain();
    await plain.boards.close();
    await plain.coordination.release();
    expect(skipped.spawned).toEqual([]);
    expect(skipped.motions).toEqual([
      {
        task_id: gpu,
        code: "no_host_for_labels",
        line: "Ready, but it needs a host with labels gpu; this dispatcher does not offer gpu.",
      },
    ]);
    expect(await b.requireTask(gpu)).toMatchObject({ status: "ready", claim_lock: null });

    // The real bin with --labels: one tick claims and spawns it, and the worker completes it.
    const r = await runBin(["--once", "--json", "--labels", "GPU,cuda"], recordingEnv(h));
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as { spawned: { task_id: string }[] }).spawned.map((s) => s.task_id)).toEqual([gpu]);
    // A dispatcher process started through tsx, then a worker: a minute on a loaded CI machine.
    await waitFor(async () => (await b.getTask(gpu))?.status === "done", "the gpu card to be done", 60_000);
  }, 120_000);

  it("config.json kanban.labels is read like the other kanban settings, --labels wins, and the status shows them", async () => {
    const h = setup({ kanban: { labels: ["gpu"] }, profiles: { alice: fakeProfile("complete") } });
    expect(loadConfig(h.env).settings.labels).toEqual(["gpu"]);
    expect(loadConfig(h.env, { labels: ["b", "a"] }).settings.labels).toEqual(["a", "b"]);
    expect(loadConfig(h.env).remote).toBeNull();
    const b = h.board();
    const gpu = (await b.createTask({ title: "train", assignee: "alice", requires: ["gpu"] })).id;
    const xcode = (await b.createTask({ title: "build", assignee: "alice", requires: ["xcode"] })).id;
    startBin([], recordingEnv(h, { KANBAN_DISPATCH_INTERVAL: "0.2" }));
    // A dispatcher process started through tsx, then a worker: a minute on a loaded CI machine.
    await waitFor(async () => (await b.getTask(gpu))?.status === "done", "the gpu card to be done", 60_000);
    const status = await waitFor(
      () => {
        const s = readDispatcherStatus(h.home);
        return s !== null && s.ticks > 0 ? s : null;
      },
      "a status file",
      60_000,
    );
    expect(status.labels).toEqual(["gpu"]);
    expect(await b.requireTask(xcode)).toMatchObject({ status: "ready", claim_lock: null });
  }, 120_000);

  it("a bad label in kanban.labels or --labels is one line naming its source", async () => {
    const h = setup({ profiles: { alice: fakeProfile("complete") } });
    const bad = await runBin(["--once", "--labels", "gpu,no spaces"], h.env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe(
      "kanban-dispatcher: invalid --labels: 'no spaces': a label is 1-64 of a-z, 0-9, '.', '_' and '-', starting with a letter or digit\n",
    );
    h.writeConfig({ kanban: { labels: ["no spaces"] } });
    const badFile = await runBin(["--once"], h.env);
    expect(badFile.code).toBe(1);
    expect(badFile.stderr).toMatch(/^kanban-dispatcher: invalid .*config\.json: kanban\.labels\.0: a label is/);
  });
});
