import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Board } from "@kanban/kernel";
import { afterEach, describe, expect, it } from "vitest";
import { killAll, makeHome, type TestHome, trackPool, trackRecorded, waitFor } from "../test/helpers.ts";
import { dispatchOnce, type SpawnContext } from "./dispatch-once.ts";
import { createDispatcher, type Dispatcher } from "./dispatcher.ts";
import { buildWorkerArgv, buildWorkerEnv, HERMES_REVIEW_SKILL } from "./worker.ts";

/**
 * The review lane with real worker processes: an implementer hands its task to a reviewer profile,
 * the dispatcher spawns the reviewer as a review run (KANBAN_REVIEW=1), the reviewer sends it back,
 * the implementer tries again, the reviewer approves.
 */
const REVIEWER = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "test", "fake-reviewer.mjs");
let home: TestHome | null = null;

afterEach(async () => {
  await killAll();
  home?.cleanup();
  home = null;
});

function profile() {
  return { command: [process.execPath, REVIEWER, "{task_id}"], env: {}, skills: [] };
}

function dispatcher(h: TestHome, env: Record<string, string>): Dispatcher {
  const d = createDispatcher(h.config(env), { log: () => {} });
  trackPool(d.pool);
  return d;
}

const statusIs = (b: Board, id: string, status: string) => async () => (await b.getTask(id))?.status === status;

describe("the review lane", { timeout: 90_000 }, () => {
  it("implementer → reviewer (changes) → implementer → reviewer (approve) → done", async () => {
    home = makeHome({ kanban: { crash_grace_seconds: 0 }, profiles: { coder: profile(), critic: profile() } });
    const record = path.join(home.home, "record.jsonl");
    const b = home.board();
    const t = await b.createTask({ title: "parse it", assignee: "coder" });
    const d = dispatcher(home, { FAKE_WORKER_RECORD: record, FAKE_REVIEWER: "critic" });

    await d.tick();
    await waitFor(statusIs(b, t.id, "review"), "the implementer to request review");
    expect((await b.requireTask(t.id)).assignee).toBe("critic");

    const second = await d.tick();
    expect(second.boards[0]?.spawned).toEqual([
      expect.objectContaining({ task_id: t.id, assignee: "critic", pid: expect.any(Number) }),
    ]);
    await waitFor(statusIs(b, t.id, "ready"), "the reviewer to request changes");
    expect((await b.requireTask(t.id)).assignee).toBe("coder");

    await d.tick();
    await waitFor(statusIs(b, t.id, "review"), "the second round's review request");
    await d.tick();
    await waitFor(statusIs(b, t.id, "done"), "the reviewer to approve");

    const lines = trackRecorded(record) as unknown as { role: string; review: string | null }[];
    expect(lines.map((r) => [r.role, r.review])).toEqual([
      ["implementer", null],
      ["reviewer", "1"],
      ["implementer", null],
      ["reviewer", "1"],
    ]);
    const runs = await b.listRuns(t.id);
    expect(runs.map((r) => [r.profile, r.outcome])).toEqual([
      ["coder", "review_requested"],
      ["critic", "changes_requested"],
      ["coder", "review_requested"],
      ["critic", "completed"],
    ]);
    const claimed = (await b.listEvents(t.id)).filter((e) => e.kind === "claimed").map((e) => e.payload?.source_status);
    expect(claimed).toEqual([undefined, "review", undefined, "review"]);
  });

  it("kanban.review_dispatch false leaves review tasks to people", async () => {
    home = makeHome({ kanban: { review_dispatch: false }, profiles: { coder: profile(), critic: profile() } });
    const b = home.board();
    const t = await b.createTask({ title: "t", assignee: "coder" });
    await b.requestReview(t.id, { reviewer: "critic", summary: "by hand" });
    const report = await dispatcher(home, {}).tick();
    expect(report.boards[0]?.spawned).toEqual([]);
    expect((await b.requireTask(t.id)).status).toBe("review");
  });
});

describe("the review lane's budget and skips (one tick, spawns recorded)", () => {
  it("with max_spawn 2, three ready tasks and a waiting review: one ready spawn, one review spawn", async () => {
    home = makeHome({});
    const b = home.board();
    for (const n of [1, 2, 3]) await b.createTask({ title: `ready ${n}`, assignee: "coder" });
    const r = await b.createTask({ title: "to review", assignee: "coder" });
    await b.requestReview(r.id, { reviewer: "critic", summary: "s" });
    // First in the lane (higher priority): skipped, and the budget's review slot still goes to `r`.
    const orphan = await b.createTask({ title: "no reviewer profile", assignee: "coder", priority: 5 });
    await b.requestReview(orphan.id, { reviewer: "ghost", summary: "s" });
    const spawned: SpawnContext[] = [];
    let pid = 90_000;
    const out = await dispatchOnce(
      b,
      { maxSpawn: 2, lock: false },
      {
        isSpawnable: (p) => p === "coder" || p === "critic",
        resolveWorkspace: (task) => ({ path: path.join(home?.home ?? "", task.id), branch: null }) as never,
        spawnWorker: async (ctx) => {
          spawned.push(ctx);
          return pid++;
        },
      },
    );
    expect(spawned.map((s) => [s.assignee, s.review === true])).toEqual([
      ["coder", false],
      ["critic", true],
    ]);
    expect(out.skipped_nonspawnable).toContain(orphan.id);
    expect(await b.requireTask(r.id)).toMatchObject({ status: "running", assignee: "critic" });
    expect(await b.isReviewerRun(r.id)).toBe(true);
  });

  it("a review run's worker environment says so; an inherited KANBAN_REVIEW never leaks into an ordinary run", () => {
    const base = {
      runtime: { kind: "profiles", profiles: {} } as never,
      task: { id: "t_1", tenant: null, model_override: null, max_runtime_seconds: null } as never,
      profile: "critic",
      runId: 7,
      claimLock: "h:1",
      workspace: "/tmp/w",
      branch: null,
      dbPath: "/tmp/kanban.db",
      board: "default",
      home: "/tmp",
      workspacesRoot: "/tmp/ws",
      apiUrl: null,
    };
    expect(buildWorkerEnv({ ...base, baseEnv: {}, review: true }).KANBAN_REVIEW).toBe("1");
    expect(buildWorkerEnv({ ...base, baseEnv: { KANBAN_REVIEW: "1" } }).KANBAN_REVIEW).toBeUndefined();
  });

  it("a Hermes reviewer run is loaded with the sdlc-review skill (HERMES_KANBAN_REVIEW=1); an implementer run is not", () => {
    const runtime = { kind: "hermes", bin: "hermes", hermesHome: "/tmp/h" } as const;
    const task = { id: "t_1", skills: null, model_override: null };
    const review = buildWorkerArgv(runtime, { task, profile: "critic", workspace: "/tmp/w", review: true });
    expect(review.join(" ")).toContain(`--skills ${HERMES_REVIEW_SKILL}`);
    expect(buildWorkerArgv(runtime, { task, profile: "coder", workspace: "/tmp/w" })).not.toContain(
      HERMES_REVIEW_SKILL,
    );
    const env = buildWorkerEnv({
      runtime,
      baseEnv: {},
      task: { id: "t_1", tenant: null, model_override: null, max_runtime_seconds: null },
      profile: "critic",
      runId: 7,
      claimLock: "h:1",
      workspace: "/tmp/w",
      branch: null,
      dbPath: "/tmp/kanban.db",
      board: "default",
      home: "/tmp",
      workspacesRoot: "/tmp/ws",
      apiUrl: null,
      review: true,
    });
    expect(env.HERMES_KANBAN_REVIEW).toBe("1");
  });
});
