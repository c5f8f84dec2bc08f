import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { killAll, makeHome, type TestHome, trackPool, waitFor } from "../test/helpers.ts";
import { createDispatcher, type Dispatcher } from "./dispatcher.ts";

/**
 * Issue 17, "retries keep context", end to end: a real dispatcher spawns a real worker script; the
 * attempt after a failed one finds the failed run in KANBAN_PREVIOUS_RUN_* and, when that run recorded
 * an agent session, in its `{resume}` argument.
 */
let home: TestHome | null = null;
afterEach(async () => {
  await killAll();
  home?.cleanup();
  home = null;
});

// Plain node (no kernel, no tsx), so an attempt costs one process start: it writes its argv and
// KANBAN_* environment to attempt-<n>.json, says why it fails, and exits 1 (a crash).
const WORKER = `import fs from "node:fs";
import path from "node:path";
const dir = process.env.RETRY_TEST_DIR;
const n = fs.readdirSync(dir).filter((f) => /^attempt-\\d+\\.json$/.test(f)).length + 1;
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith("KANBAN_")));
fs.writeFileSync(path.join(dir, "tmp.json"), JSON.stringify({ argv: process.argv.slice(2), env }));
fs.renameSync(path.join(dir, "tmp.json"), path.join(dir, "attempt-" + n + ".json"));
console.error("attempt " + n + " failed on purpose");
process.exit(1);
`;

interface Attempt {
  argv: string[];
  env: Record<string, string>;
}

/** Temporary directories (the worker script and its records), removed after each test. */
const roots: string[] = [];
afterEach(() => {
  for (const root of roots.splice(0)) fs.rmSync(root, { recursive: true, force: true });
});

function setup(): { h: TestHome; d: Dispatcher; attempt: (n: number) => Attempt | null } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "kanban-retry-"));
  roots.push(root);
  const dir = path.join(root, "attempts");
  fs.mkdirSync(dir);
  const script = path.join(root, "retry-worker.mjs");
  fs.writeFileSync(script, WORKER);
  home = makeHome({
    // A high failure limit: the breaker stays out of the way of the second attempt.
    kanban: { crash_grace_seconds: 0, failure_limit: 5 },
    profiles: {
      alice: {
        command: [process.execPath, script, "--task", "{task_id}", "--resume={resume}", "{resume}"],
        env: { RETRY_TEST_DIR: dir },
        skills: [],
      },
    },
  });
  const d = createDispatcher(
    // A stale previous run in the dispatcher's own environment must never reach a first attempt.
    home.config({ KANBAN_PREVIOUS_RUN_OUTCOME: "completed", KANBAN_PREVIOUS_RUN_SESSION: "stale" }),
    { log: () => {} },
  );
  trackPool(d.pool);
  const attempt = (n: number): Attempt | null => {
    const file = path.join(dir, `attempt-${n}.json`);
    return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as Attempt) : null;
  };
  return { h: home, d, attempt };
}

const previousVars = (env: Record<string, string>) =>
  Object.fromEntries(Object.entries(env).filter(([k]) => k.startsWith("KANBAN_PREVIOUS_RUN_")));

describe("a retry keeps the previous run's context", { timeout: 30_000 }, () => {
  it("the attempt after a crash sees KANBAN_PREVIOUS_RUN_OUTCOME=crashed and its error; the first saw none", async () => {
    const { h, d, attempt } = setup();
    const b = h.board();
    const t = await b.createTask({ title: "flaky", assignee: "alice" });

    const first = (await d.tick()).boards[0]?.spawned[0];
    expect(first?.task_id).toBe(t.id);
    const one = await waitFor(() => attempt(1), "the first attempt's record");
    await waitFor(() => d.pool.exitStatus(first?.pid ?? 0), "the first attempt to exit");
    expect(previousVars(one.env)).toEqual({});
    expect(one.argv).toEqual(["--task", t.id]); // nothing to resume: both {resume} elements dropped

    const next = (await d.tick()).boards[0];
    expect(next?.crashed).toEqual([t.id]);
    expect(next?.spawned.map((s) => s.task_id)).toEqual([t.id]);
    const two = await waitFor(() => attempt(2), "the second attempt's record");
    const [run1, run2] = await b.listRuns(t.id);
    expect(two.env.KANBAN_RUN_ID).toBe(String(run2?.id));
    expect(previousVars(two.env)).toEqual({
      KANBAN_PREVIOUS_RUN_ID: String(run1?.id),
      KANBAN_PREVIOUS_RUN_OUTCOME: "crashed",
      KANBAN_PREVIOUS_RUN_ERROR: `pid ${first?.pid} exited with code 1`,
    });
    // A crash records no agent session, so there is still nothing to resume.
    expect(two.argv).toEqual(["--task", t.id]);
  });

  it("a run that recorded a session hands it to the next attempt's {resume} and KANBAN_PREVIOUS_RUN_SESSION", async () => {
    const { h, d, attempt } = setup();
    const b = h.board();
    const t = await b.createTask({ title: "review", assignee: "alice" });
    // An earlier attempt (by hand here) completed with its agent session in the run's metadata, and was reopened.
    const claim = await b.claimTask(t.id);
    await b.completeTask(t.id, { summary: "drafted the plan", metadata: { session_id: "sess-42" } });
    await b.moveTask(t.id, { status: "ready" });

    expect((await d.tick()).boards[0]?.spawned.map((s) => s.task_id)).toEqual([t.id]);
    const one = await waitFor(() => attempt(1), "the attempt's record");
    expect(one.argv).toEqual(["--task", t.id, "--resume=sess-42", "sess-42"]);
    expect(previousVars(one.env)).toEqual({
      KANBAN_PREVIOUS_RUN_ID: String(claim?.current_run_id),
      KANBAN_PREVIOUS_RUN_OUTCOME: "completed",
      KANBAN_PREVIOUS_RUN_SUMMARY: "drafted the plan",
      KANBAN_PREVIOUS_RUN_SESSION: "sess-42",
    });
  });
});
