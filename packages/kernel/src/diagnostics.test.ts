import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { BoardContext } from "./context.ts";
import { createTask } from "./create.ts";
import {
  boardDiagnostics,
  computeTaskDiagnostics,
  type Diagnostic,
  type DiagnosticOptions,
  SEVERITY_RANK,
  summariseDiagnostics,
} from "./diagnostics.ts";
import { KernelError } from "./errors.ts";
import { taskFromRow } from "./rows.ts";
import { createTestContext, type TestContext } from "./testing/helpers.ts";
import type { TestClock } from "./testing/test-clock.ts";
import type { Task, TaskEvent, TaskRun } from "./types.ts";

const T0 = 1_750_000_000;
const HOUR = 3600;

function task(overrides: Record<string, unknown> = {}): Task {
  return taskFromRow({
    id: "t_0000aaaa",
    title: "A task",
    status: "todo",
    assignee: "coder",
    created_at: T0 - 10 * HOUR,
    ...overrides,
  });
}

let nextEventId = 1;
function ev(
  kind: string,
  createdAt: number,
  payload: Record<string, unknown> | null = null,
  runId: number | null = null,
): TaskEvent {
  return { id: nextEventId++, task_id: "t_0000aaaa", run_id: runId, kind, payload, created_at: createdAt };
}

let nextRunId = 1;
function run(outcome: string | null, endedAt: number | null, fields: Partial<TaskRun> = {}): TaskRun {
  return {
    id: nextRunId++,
    task_id: "t_0000aaaa",
    profile: "coder",
    step_key: null,
    status: outcome ?? "running",
    claim_lock: null,
    claim_expires: null,
    worker_pid: null,
    max_runtime_seconds: null,
    last_heartbeat_at: null,
    started_at: (endedAt ?? T0) - 60,
    ended_at: endedAt,
    outcome,
    summary: null,
    metadata: null,
    error: null,
    ...fields,
  };
}

function diagnose(
  t: Task,
  events: TaskEvent[] = [],
  runs: TaskRun[] = [],
  opts: Partial<DiagnosticOptions> = {},
): Diagnostic[] {
  return computeTaskDiagnostics(t, events, runs, { now: T0, ...opts });
}

function only(diags: Diagnostic[], kind: string): Diagnostic | undefined {
  return diags.find((d) => d.kind === kind);
}

function cliCommands(d: Diagnostic | undefined): unknown[] {
  return (d?.actions ?? []).filter((a) => a.kind === "cli_hint").map((a) => a.payload?.command);
}

describe("hallucinated_cards", () => {
  it("fires as an error on a completion refused for phantom cards, listing the phantom ids", () => {
    const e = ev(
      "completion_blocked_hallucination",
      T0 - 100,
      { phantom_cards: ["t_11111111", "t_22222222"], verified_cards: ["t_33333333"] },
      7,
    );
    const d = only(diagnose(task(), [e]), "hallucinated_cards");
    expect(d?.severity).toBe("error");
    expect(d?.data.phantom_cards).toEqual(["t_11111111", "t_22222222"]);
    expect(d?.data.verified_cards).toEqual(["t_33333333"]);
    expect(d?.run_id).toBe(7);
    expect(d?.count).toBe(1);
    expect(d?.last_seen_at).toBe(T0 - 100);
  });

  it("merges repeated refusals into one diagnostic spanning first to last", () => {
    const events = [
      ev("completion_blocked_hallucination", T0 - 300, { phantom_cards: ["t_11111111"] }),
      ev("completion_blocked_hallucination", T0 - 100, { phantom_cards: ["t_11111111", "t_44444444"] }),
    ];
    const d = only(diagnose(task(), events), "hallucinated_cards");
    expect(d).toMatchObject({ count: 2, first_seen_at: T0 - 300, last_seen_at: T0 - 100 });
    expect(d?.data.phantom_cards).toEqual(["t_11111111", "t_44444444"]);
  });

  it("is superseded by a later successful completion", () => {
    const events = [
      ev("completion_blocked_hallucination", T0 - 100, { phantom_cards: ["t_11111111"] }),
      ev("completed", T0 - 50, {}),
    ];
    expect(only(diagnose(task(), events), "hallucinated_cards")).toBeUndefined();
  });

  it("is superseded by a later edit of the result", () => {
    const events = [
      ev("completion_blocked_hallucination", T0 - 100, { phantom_cards: ["t_11111111"] }),
      ev("edited", T0 - 100, null),
    ];
    expect(only(diagnose(task(), events), "hallucinated_cards")).toBeUndefined();
  });

  it("is still reported when the only completion came before the refusal", () => {
    const events = [
      ev("completed", T0 - 500, {}),
      ev("completion_blocked_hallucination", T0 - 100, { phantom_cards: ["t_11111111"] }),
    ];
    expect(only(diagnose(task(), events), "hallucinated_cards")).toBeDefined();
  });
});

describe("prose_phantom_refs", () => {
  it("fires as a warning after a completion whose summary names unknown task ids", () => {
    const events = [
      ev("completed", T0 - 100, {}),
      ev("suspected_hallucinated_references", T0 - 100, { phantom_refs: ["t_99999999"], source: "completion_summary" }),
    ];
    const d = only(diagnose(task({ status: "done" }), events), "prose_phantom_refs");
    expect(d?.severity).toBe("warning");
    expect(d?.data.phantom_refs).toEqual(["t_99999999"]);
  });

  it("is superseded by a later edit", () => {
    const events = [
      ev("completed", T0 - 100, {}),
      ev("suspected_hallucinated_references", T0 - 100, { phantom_refs: ["t_99999999"] }),
      ev("edited", T0 - 10, {}),
    ];
    expect(only(diagnose(task({ status: "done" }), events), "prose_phantom_refs")).toBeUndefined();
  });
});

describe("repeated_failures", () => {
  it("is silent below the failure limit", () => {
    expect(
      only(diagnose(task({ consecutive_failures: 1 }), [], [run("crashed", T0 - 60)]), "repeated_failures"),
    ).toBeUndefined();
  });

  it("fires as an error at the default limit of 2, matching the dispatcher's breaker", () => {
    const t = task({ consecutive_failures: 2, status: "blocked" });
    const d = only(diagnose(t, [], [run("crashed", T0 - 600), run("crashed", T0 - 60)]), "repeated_failures");
    expect(d?.severity).toBe("error");
    expect(d?.count).toBe(2);
    expect(d?.first_seen_at).toBe(T0 - 600);
    expect(d?.last_seen_at).toBe(T0 - 60);
    expect(cliCommands(d)).toContain(`kanban reassign ${t.id} <profile> --reclaim`);
    expect(d?.actions.map((a) => a.kind)).toContain("unblock");
  });

  it("escalates to critical at twice the limit", () => {
    expect(
      only(diagnose(task({ consecutive_failures: 4 }), [], [run("crashed", T0)]), "repeated_failures")?.severity,
    ).toBe("critical");
  });

  it("uses the failure limit it is given", () => {
    const t = task({ consecutive_failures: 2 });
    expect(only(diagnose(t, [], [], { failureLimit: 3 }), "repeated_failures")).toBeUndefined();
    expect(only(diagnose(t, [], [], { failureLimit: 1 }), "repeated_failures")?.severity).toBe("critical");
  });

  it("points spawn failures at the profile's command and credentials", () => {
    const t = task({ consecutive_failures: 2, last_failure_error: "executable not found: claude" });
    const d = only(diagnose(t, [], [run("spawn_failed", T0 - 60, { profile: "coder" })]), "repeated_failures");
    expect(d?.title).toMatch(/spawn/i);
    const suggested = d?.actions.find((a) => a.suggested);
    expect(suggested?.kind).toBe("cli_hint");
    expect(suggested?.label).toMatch(/coder.*command.*credentials/);
  });

  it("suggests reading the log for a timeout loop", () => {
    const t = task({ consecutive_failures: 2 });
    const d = only(diagnose(t, [], [run("timed_out", T0 - 60)]), "repeated_failures");
    expect(d?.title).toMatch(/timed out/);
    expect(d?.actions.find((a) => a.suggested)?.payload?.command).toBe(`kanban log ${t.id}`);
  });

  it("suggests reassigning after crashes, and reclaiming while a worker still holds the task", () => {
    const t = task({ consecutive_failures: 2, status: "running", claim_lock: "host:1" });
    const d = only(diagnose(t, [], [run("crashed", T0 - 60)]), "repeated_failures");
    expect(d?.actions.find((a) => a.suggested)?.kind).toBe("reassign");
    expect(d?.actions.map((a) => a.kind)).toContain("reclaim");
  });

  it("leads the title with the first line of the last error", () => {
    const t = task({ consecutive_failures: 2, last_failure_error: "429 rate limit exceeded\nTraceback..." });
    const d = only(diagnose(t, [], [run("crashed", T0 - 60)]), "repeated_failures");
    expect(d?.title).toBe("2 consecutive failed attempts: 429 rate limit exceeded");
    expect(d?.data.last_outcome).toBe("crashed");
  });
});

describe("repeated_crashes", () => {
  it("counts only the trailing streak of crashed runs", () => {
    const runs = [
      run("crashed", T0 - 900),
      run("completed", T0 - 800),
      run("crashed", T0 - 700),
      run("crashed", T0 - 600),
    ];
    const d = only(diagnose(task(), [], runs), "repeated_crashes");
    expect(d?.count).toBe(2);
    expect(d?.severity).toBe("error");
    expect(d?.first_seen_at).toBe(T0 - 700);
    expect(d?.data.run_ids).toEqual([runs[2]?.id, runs[3]?.id]);
  });

  it("is broken by a recent success", () => {
    const runs = [
      run("crashed", T0 - 900),
      run("crashed", T0 - 800),
      run("crashed", T0 - 700),
      run("completed", T0 - 600),
    ];
    expect(only(diagnose(task(), [], runs), "repeated_crashes")).toBeUndefined();
  });

  it("ignores an open run after the crashes", () => {
    const runs = [run("crashed", T0 - 900), run("crashed", T0 - 800), run(null, null)];
    expect(only(diagnose(task(), [], runs), "repeated_crashes")?.count).toBe(2);
  });

  it("escalates to critical at four crashes", () => {
    const runs = [1, 2, 3, 4].map((i) => run("crashed", T0 - 1000 + i));
    expect(only(diagnose(task(), [], runs), "repeated_crashes")?.severity).toBe("critical");
  });

  it("leads the title with the last crash's error", () => {
    const runs = [run("crashed", T0 - 900), run("crashed", T0 - 800, { error: "CUDA out of memory" })];
    expect(only(diagnose(task(), [], runs), "repeated_crashes")?.title).toBe(
      "Worker crashed 2 times in a row: CUDA out of memory",
    );
  });

  it("falls back to a plain title when no error was recorded", () => {
    const runs = [run("crashed", T0 - 900), run("crashed", T0 - 800)];
    expect(only(diagnose(task(), [], runs), "repeated_crashes")?.title).toBe("Worker crashed 2 times in a row");
  });

  it("keeps the title to one line of 160 characters and the error in the detail to 500", () => {
    const traceback = `${"E".repeat(300)}\n${"frame\n".repeat(5000)}`;
    const runs = [run("crashed", T0 - 900), run("crashed", T0 - 800, { error: traceback })];
    const d = only(diagnose(task(), [], runs), "repeated_crashes");
    expect(d?.title.length).toBeLessThanOrEqual(160);
    expect(d?.title).not.toContain("\n");
    expect(d?.detail).toContain(`${traceback.slice(0, 500)}…`);
    expect(d?.detail.length).toBeLessThan(700);
  });
});

describe("stuck_in_blocked", () => {
  it("fires as a warning when blocked for more than 24 hours, timed from the newest block", () => {
    const t = task({ status: "blocked", created_at: T0 - 100 * HOUR });
    const events = [
      ev("blocked", T0 - 90 * HOUR, { reason: "old" }),
      ev("unblocked", T0 - 80 * HOUR),
      ev("gave_up", T0 - 25 * HOUR, { reason: "breaker" }),
    ];
    const d = only(diagnose(t, events), "stuck_in_blocked");
    expect(d?.severity).toBe("warning");
    expect(d?.data.blocked_since).toBe(T0 - 25 * HOUR);
    expect(d?.data.blocked_seconds).toBe(25 * HOUR);
    expect(d?.actions.find((a) => a.suggested)?.kind).toBe("unblock");
  });

  it("is silent within 24 hours of the block", () => {
    const t = task({ status: "blocked", created_at: T0 - 100 * HOUR });
    expect(only(diagnose(t, [ev("blocked", T0 - 23 * HOUR, { reason: "x" })]), "stuck_in_blocked")).toBeUndefined();
  });

  it("is silent when someone commented after the block", () => {
    const t = task({ status: "blocked" });
    const events = [ev("blocked", T0 - 30 * HOUR, { reason: "x" })];
    expect(
      only(diagnose(t, events, [], { comments: [{ created_at: T0 - 29 * HOUR }] }), "stuck_in_blocked"),
    ).toBeUndefined();
  });

  it("does not count the reason comment written in the same second as the block", () => {
    const t = task({ status: "blocked" });
    const events = [ev("blocked", T0 - 30 * HOUR, { reason: "x" })];
    expect(
      only(diagnose(t, events, [], { comments: [{ created_at: T0 - 30 * HOUR }] }), "stuck_in_blocked"),
    ).toBeDefined();
  });

  it("is silent when the task is not blocked", () => {
    const t = task({ status: "ready", claim_lock: "host:1" });
    expect(only(diagnose(t, [ev("blocked", T0 - 30 * HOUR)]), "stuck_in_blocked")).toBeUndefined();
  });
});

describe("stranded_in_ready", () => {
  it("fires as a warning for an assigned, unclaimed task ready for over 30 minutes, suggesting a reassign", () => {
    const t = task({ status: "ready", created_at: T0 - 45 * 60 });
    const d = only(diagnose(t, [ev("created", T0 - 45 * 60, {})]), "stranded_in_ready");
    expect(d?.severity).toBe("warning");
    expect(d?.title).toContain("@coder");
    expect(d?.data.age_seconds).toBe(45 * 60);
    expect(d?.actions.find((a) => a.suggested)?.kind).toBe("reassign");
  });

  it("is silent below 30 minutes", () => {
    const t = task({ status: "ready", created_at: T0 - 10 * 60 });
    expect(only(diagnose(t, [ev("created", T0 - 10 * 60, {})]), "stranded_in_ready")).toBeUndefined();
  });

  it("ages from the most recent transition into ready", () => {
    const t = task({ status: "ready", created_at: T0 - 6 * HOUR });
    const events = [
      ev("created", T0 - 6 * HOUR, {}),
      ev("claimed", T0 - 5 * HOUR, {}),
      ev("reclaimed", T0 - 20 * 60, {}),
    ];
    expect(only(diagnose(t, events), "stranded_in_ready")).toBeUndefined();
  });

  it("ages from a breaker's auto-revive or a Hermes reconcile too, as flow's ready queue does", () => {
    for (const kind of ["auto_revived", "reconciled"]) {
      const t = task({ status: "ready", created_at: T0 - 6 * HOUR });
      const events = [ev("created", T0 - 6 * HOUR, {}), ev("gave_up", T0 - 5 * HOUR, {}), ev(kind, T0 - 20 * 60, {})];
      expect(only(diagnose(t, events), "stranded_in_ready")).toBeUndefined();
    }
  });

  it("falls back to the creation time when no ready transition is on record", () => {
    const t = task({ status: "ready", created_at: T0 - 2 * HOUR });
    expect(only(diagnose(t, []), "stranded_in_ready")?.data.ready_since).toBe(T0 - 2 * HOUR);
  });

  it("skips claimed tasks and tasks that are not ready", () => {
    expect(
      only(diagnose(task({ status: "ready", claim_lock: "host:1", created_at: T0 - 5 * HOUR })), "stranded_in_ready"),
    ).toBeUndefined();
    expect(only(diagnose(task({ status: "todo", created_at: T0 - 5 * HOUR })), "stranded_in_ready")).toBeUndefined();
  });

  it("flags at once, as an error, a task assigned to a name that is not a profile on this host", () => {
    const t = task({ status: "ready", assignee: "ghost", created_at: T0 - 60 });
    const d = only(
      diagnose(t, [ev("created", T0 - 60, {})], [], { knownProfiles: ["coder", "default"] }),
      "stranded_in_ready",
    );
    expect(d?.severity).toBe("error");
    expect(d?.title).toBe("Assigned to @ghost, which is not a profile on this host");
    expect(d?.detail).toContain("coder, default");
    expect(d?.data).toMatchObject({
      reason: "unknown_profile",
      assignee: "ghost",
      known_profiles: ["coder", "default"],
    });
    expect(d?.actions.find((a) => a.suggested)?.kind).toBe("reassign");
    // A known profile stays quiet below the threshold; without a list nothing is judged early.
    expect(
      only(
        diagnose(task({ status: "ready", created_at: T0 - 60 }), [], [], { knownProfiles: ["coder"] }),
        "stranded_in_ready",
      ),
    ).toBeUndefined();
    expect(only(diagnose(t, [ev("created", T0 - 60, {})]), "stranded_in_ready")).toBeUndefined();
  });

  it("says an unassigned task needs an assignee", () => {
    const t = task({ status: "ready", assignee: null, created_at: T0 - HOUR });
    const d = only(diagnose(t), "stranded_in_ready");
    expect(d?.title).toMatch(/nobody is assigned/);
    expect(d?.detail).toMatch(/needs an assignee/);
    expect(cliCommands(d)).toContain(`kanban assign ${t.id} <profile>`);
  });
});

describe("computeTaskDiagnostics", () => {
  it("lists the most severe diagnostic first", () => {
    const t = task({ status: "done", consecutive_failures: 4 });
    const events = [
      ev("completed", T0 - 100, {}),
      ev("suspected_hallucinated_references", T0 - 50, { phantom_refs: ["t_99999999"] }),
    ];
    const diags = diagnose(t, events, [run("spawn_failed", T0 - 200)]);
    expect(diags.map((d) => [d.kind, d.severity])).toEqual([
      ["repeated_failures", "critical"],
      ["prose_phantom_refs", "warning"],
    ]);
  });

  it("isolates a rule that throws so the others still report", () => {
    const poisoned: Record<string, unknown> = {};
    Object.defineProperty(poisoned, "phantom_cards", {
      enumerable: true,
      get() {
        throw new Error("boom");
      },
    });
    const errors: string[] = [];
    const diags = diagnose(
      task({ consecutive_failures: 2 }),
      [ev("completion_blocked_hallucination", T0, poisoned)],
      [run("crashed", T0)],
      {
        onRuleError: (kind) => errors.push(kind),
      },
    );
    expect(errors).toEqual(["hallucinated_cards"]);
    expect(diags.map((d) => d.kind)).toEqual(["repeated_failures"]);
  });

  it("returns nothing for a healthy task", () => {
    expect(
      diagnose(
        task({ status: "running", claim_lock: "host:1" }),
        [ev("created", T0 - 100, {})],
        [run("completed", T0 - 50)],
      ),
    ).toEqual([]);
  });
});

describe("summariseDiagnostics", () => {
  it("is null without diagnostics", () => {
    expect(summariseDiagnostics([])).toBeNull();
  });

  it("counts diagnostics per kind and reports the newest time and the worst severity", () => {
    const t = task({ status: "blocked", consecutive_failures: 2 });
    const diags = diagnose(
      t,
      [ev("blocked", T0 - 30 * HOUR)],
      [run("crashed", T0 - 40 * HOUR), run("crashed", T0 - 35 * HOUR)],
    );
    expect(summariseDiagnostics(diags)).toEqual({
      count: 3,
      kinds: { repeated_failures: 1, repeated_crashes: 1, stuck_in_blocked: 1 },
      latest_at: T0 - 30 * HOUR,
      highest_severity: "error",
    });
  });

  it("ranks critical above error above warning", () => {
    expect(SEVERITY_RANK.critical).toBeGreaterThan(SEVERITY_RANK.error);
    expect(SEVERITY_RANK.error).toBeGreaterThan(SEVERITY_RANK.warning);
  });
});

describe("boardDiagnostics", () => {
  let db: TestContext["db"];
  let clock: TestClock;
  let ctx: BoardContext;

  beforeEach(() => {
    ({ db, clock, ctx } = createTestContext(T0));
  });

  afterEach(() => {
    db.cleanup();
  });

  function insertRun(taskId: string, outcome: string, endedAt: number, error: string | null = null): void {
    db.sqlite
      .prepare(
        "INSERT INTO task_runs (task_id, profile, status, started_at, ended_at, outcome, error, summary) VALUES (?, 'coder', ?, ?, ?, ?, ?, ?)",
      )
      .run(taskId, outcome, endedAt - 60, endedAt, outcome, error, "x".repeat(100_000));
  }

  function insertEvent(taskId: string, kind: string, payload: Record<string, unknown> | null, createdAt: number): void {
    db.sqlite
      .prepare("INSERT INTO task_events (task_id, kind, payload, created_at) VALUES (?, ?, ?, ?)")
      .run(taskId, kind, payload === null ? null : JSON.stringify(payload), createdAt);
  }

  function update(taskId: string, sql: string, ...args: unknown[]): void {
    db.sqlite.prepare(`UPDATE tasks SET ${sql} WHERE id = ?`).run(...args, taskId);
  }

  /** A stranded warning, a critical failure loop, an erroring hallucination and a healthy task. */
  async function seedBoard(): Promise<{ stranded: string; looping: string; phantom: string; healthy: string }> {
    const stranded = (await createTask(ctx, { title: "Stranded", assignee: "coder" })).id;
    const looping = (await createTask(ctx, { title: "Looping", assignee: "coder" })).id;
    const phantom = (await createTask(ctx, { title: "Phantom", assignee: "coder" })).id;
    const healthy = (await createTask(ctx, { title: "Healthy", assignee: "coder" })).id;
    clock.advance(HOUR);
    update(looping, "status = 'blocked', consecutive_failures = 4");
    for (const offset of [400, 300, 200, 100]) insertRun(looping, "spawn_failed", T0 + offset);
    update(phantom, "status = 'running', claim_lock = 'host:1'");
    insertEvent(phantom, "completion_blocked_hallucination", { phantom_cards: ["t_12345678"] }, T0 + 500);
    update(healthy, "status = 'running', claim_lock = 'host:2'");
    return { stranded, looping, phantom, healthy };
  }

  it("reports only tasks with diagnostics, naming each task", async () => {
    const ids = await seedBoard();
    const entries = await boardDiagnostics(ctx);
    expect(entries.map((e) => e.task_id).sort()).toEqual([ids.stranded, ids.looping, ids.phantom].sort());
    expect(entries.find((e) => e.task_id === ids.looping)).toMatchObject({
      task_title: "Looping",
      task_status: "blocked",
      task_assignee: "coder",
    });
  });

  it("sorts by highest severity, then by most recent diagnostic", async () => {
    const ids = await seedBoard();
    const later = (await createTask(ctx, { title: "Later phantom" })).id;
    update(later, "status = 'running', claim_lock = 'host:3'");
    insertEvent(later, "completion_blocked_hallucination", { phantom_cards: ["t_87654321"] }, T0 + 900);
    expect((await boardDiagnostics(ctx)).map((e) => e.task_id)).toEqual([
      ids.looping,
      later,
      ids.phantom,
      ids.stranded,
    ]);
  });

  it("filters to diagnostics at or above a minimum severity", async () => {
    const ids = await seedBoard();
    expect((await boardDiagnostics(ctx, { severity: "error" })).map((e) => e.task_id)).toEqual([
      ids.looping,
      ids.phantom,
    ]);
    const critical = await boardDiagnostics(ctx, { severity: "critical" });
    expect(critical.map((e) => e.task_id)).toEqual([ids.looping]);
    expect(critical[0]?.diagnostics.every((d) => d.severity === "critical")).toBe(true);
  });

  it("finds a fresh ready task whose assignee is no known profile, only when the known profiles are given", async () => {
    const ghost = (await createTask(ctx, { title: "For nobody", assignee: "ghost" })).id;
    await createTask(ctx, { title: "For coder", assignee: "coder" });
    expect(await boardDiagnostics(ctx)).toEqual([]);
    const entries = await boardDiagnostics(ctx, { knownProfiles: ["coder"] });
    expect(entries.map((e) => e.task_id)).toEqual([ghost]);
    expect(entries[0]?.diagnostics[0]).toMatchObject({
      kind: "stranded_in_ready",
      severity: "error",
      data: { reason: "unknown_profile" },
    });
  });

  it("limits the report to one task when asked", async () => {
    const ids = await seedBoard();
    expect((await boardDiagnostics(ctx, { taskId: ids.phantom })).map((e) => e.task_id)).toEqual([ids.phantom]);
    expect(await boardDiagnostics(ctx, { taskId: ids.healthy })).toEqual([]);
  });

  it("leaves out archived tasks", async () => {
    const ids = await seedBoard();
    update(ids.looping, "status = 'archived'");
    expect((await boardDiagnostics(ctx)).map((e) => e.task_id)).not.toContain(ids.looping);
  });

  it("passes the failure limit to the rules", async () => {
    const t = (await createTask(ctx, { title: "Twice failed" })).id;
    update(t, "status = 'running', claim_lock = 'host:1', consecutive_failures = 2");
    insertRun(t, "timed_out", T0 - 10);
    expect((await boardDiagnostics(ctx)).map((e) => e.task_id)).toEqual([t]);
    expect(await boardDiagnostics(ctx, { failureLimit: 3 })).toEqual([]);
  });

  it("reads comments from the board, so a blocked task with a later reply is not stuck", async () => {
    const t = (await createTask(ctx, { title: "Waiting", initial_status: "blocked" })).id;
    clock.advance(30 * HOUR);
    expect((await boardDiagnostics(ctx)).map((e) => e.diagnostics[0]?.kind)).toEqual(["stuck_in_blocked"]);
    db.sqlite
      .prepare("INSERT INTO task_comments (task_id, author, body, created_at) VALUES (?, 'alice', 'on it', ?)")
      .run(t, T0 + HOUR);
    expect(await boardDiagnostics(ctx)).toEqual([]);
  });

  it("reads the board in a fixed number of queries, not one per task", async () => {
    for (let i = 0; i < 25; i++) {
      const id = (await createTask(ctx, { title: `t${i}`, assignee: "coder" })).id;
      insertRun(id, "crashed", T0 + i);
      insertRun(id, "crashed", T0 + 100 + i);
    }
    clock.advance(HOUR);
    const queries = [vi.spyOn(ctx, "all"), vi.spyOn(ctx, "get")];
    const entries = await boardDiagnostics(ctx);
    expect(entries).toHaveLength(25);
    expect(queries.reduce((n, q) => n + q.mock.calls.length, 0)).toBeLessThanOrEqual(4);
  });

  it("refuses an unknown severity", async () => {
    await expect(boardDiagnostics(ctx, { severity: "fatal" as never })).rejects.toThrow(KernelError);
  });
});
