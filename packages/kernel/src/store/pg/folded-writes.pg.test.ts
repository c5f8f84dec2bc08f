// PostgreSQL only (the kernel's "postgres" project runs *.pg.test.ts): a claim's writes (run, swap,
// event) and a completion's (swap, run close, event) are one statement each, the row lock of a
// claim walk also reads the claim's head (and a walk for one claim locks and claims in one
// statement), and a worker's fenced completion judges its head inside its one statement. Each
// statement is a round trip under the board's lock, so the count is the point; the rows they write
// must be the ones the separate writes make.
import { afterEach, describe, expect, it, vi } from "vitest";
import { useTestBoards } from "../../testing/helpers.ts";
import { boardInternals, rawSql, type TestBoard } from "../../testing/index.ts";
import { watchMessages } from "../../testing/pg-messages.ts";
import { recordTxModes } from "../../testing/writer-spies.ts";
import { openIncidentElsewhere } from "../../testing/open-incident.ts";

/** How the statement that locks the first free row of a walk's list ends (FROM_FIRST_FREE_OF_IDS). */
const FIRST_FREE_LOCK = /FOR UPDATE SKIP LOCKED\) t\s+ORDER BY k\.n NULLS LAST LIMIT 1$/;

const board = useTestBoards();

afterEach(() => {
  vi.restoreAllMocks();
});

/** Every statement the board's store runs from here on, in order (BEGIN and COMMIT are the session's own). */
function recordStatements(b: TestBoard): { take(): string[] } {
  // writeAlone included: a statement sent as a whole transaction is a statement too.
  const ctx = boardInternals(b).ctx as unknown as Record<string, (sql: string, ...args: unknown[]) => unknown>;
  let seen: string[] = [];
  for (const m of ["get", "all", "run", "insert", "tasks", "task", "writeAlone"]) {
    if (ctx[m] === undefined) continue;
    const original = (ctx[m] as (sql: string, ...args: unknown[]) => unknown).bind(ctx);
    vi.spyOn(ctx, m).mockImplementation(((sql: string, ...args: unknown[]) => {
      seen.push(sql.replace(/\s+/g, " ").trim());
      return original(sql, ...args);
    }) as never);
  }
  return {
    take() {
      const out = seen;
      seen = [];
      return out;
    },
  };
}

const isWrite = (sql: string) => /^(INSERT|UPDATE|DELETE|WITH)\b/i.test(sql);

describe("a claim and a completion on PostgreSQL", () => {
  it("a steady claimNext + fenced completeTask cycle is two statements, each one round trip", async () => {
    const b = board();
    for (let i = 0; i < 3; i++) await b.createTask({ title: `job ${i}`, assignee: "bench" });
    const lane = b.readyLane();
    // The first walk reads the lane (and re-checks it); the cycle measured is the next one, as a
    // worker's loop runs it.
    const first = (await b.claimNext(lane, { claimer: "w:1" })).claimed[0]?.task;
    await b.completeTask(first?.id ?? "", { summary: "ok", expected_run_id: first?.current_run_id });

    const statements = recordStatements(b);
    const trips = watchMessages();
    const claimed = (await b.claimNext(lane, { claimer: "w:1" })).claimed[0]?.task;
    if (!claimed) throw new Error("nothing claimed");
    const claim = statements.take();
    const claimTrips = trips.take();
    await b.completeTask(claimed.id, { summary: "ok", expected_run_id: claimed.current_run_id });
    const complete = statements.take();
    const completeTrips = trips.take();

    // Claim: one statement that locks the first free row of the lane rows judged startable and
    // claims it (run, swap, event), sent with BEGIN, the board's lock and COMMIT.
    expect(claim).toHaveLength(1);
    expect(claim[0]).toMatch(/^WITH pick AS \(SELECT t\.id/);
    // A worker's fenced completion: one statement that judges the head and writes.
    expect(complete).toHaveLength(1);
    expect(complete[0]).toMatch(/^WITH t AS \(UPDATE tasks SET status = 'done'/);
    expect(claimTrips).toBe(1);
    expect(completeTrips).toBe(1);
  });

  it("a walk for two claims: BEGIN with the incident check and the first row lock, the claim, the second lock and claim, COMMIT", async () => {
    const b = board();
    for (let i = 0; i < 5; i++) await b.createTask({ title: `job ${i}`, assignee: "bench" });
    const lane = b.readyLane();
    expect((await b.claimNext(lane, { claimer: "w:1" })).claimed).toHaveLength(1);
    const statements = recordStatements(b);
    const trips = watchMessages();
    expect((await b.claimNext(lane, { claimer: "w:1" }, 2)).claimed).toHaveLength(2);
    const sent = statements.take();
    // The first lock went with BEGIN (not a store statement of its own here); the second is the walk's.
    expect(sent.filter(isWrite).map((s) => s.slice(0, 40))).toEqual([
      "WITH run AS (INSERT INTO task_runs (task",
      "WITH run AS (INSERT INTO task_runs (task",
    ]);
    expect(sent.filter((s) => FIRST_FREE_LOCK.test(s))).toHaveLength(1);
    expect(trips.take()).toBe(5);
  });

  it("the incident check that goes with BEGIN still makes a walk exclusive while an incident is open", async () => {
    const b = board();
    for (let i = 0; i < 2; i++) await b.createTask({ title: `job ${i}`, assignee: "bench" });
    const { ctx } = boardInternals(b);
    const modes = recordTxModes(ctx);
    expect((await b.claimNext(b.readyLane(), { claimer: "w:1" })).claimed).toHaveLength(1);
    expect(modes).toEqual(["shared"]);
    // An incident of another profile: it pauses nothing here, but a walk must not run beside others.
    await openIncidentElsewhere(b);
    modes.length = 0;
    expect((await b.claimNext(b.readyLane(), { claimer: "w:1" })).claimed).toHaveLength(1);
    expect(modes).toEqual(["shared", "exclusive"]);
  });

  it("a worker's one-statement completion writes what the full completion writes", async () => {
    const b = board();
    const [a, c] = [
      await b.createTask({ title: "a", assignee: "bench" }),
      await b.createTask({ title: "c", assignee: "bench" }),
    ];
    const claim = async (id: string) => {
      const t = await b.claimTask(id, { claimer: "w:1" });
      if (!t) throw new Error(`could not claim ${id}`);
      return t;
    };
    const ca = await claim(a.id);
    const cc = await claim(c.id);
    const statements = recordStatements(b);
    const handoff = {
      result: "it's 42 \\o/ $1",
      summary: "done: it's 'quoted'\nsecond line",
      metadata: { n: 1, s: "x" },
    };
    // Fenced to its run and lock: the one statement.
    const fast = await b.completeTask(a.id, { ...handoff, expected_run_id: ca.current_run_id, claim_lock: "w:1" });
    expect(statements.take()).toHaveLength(1);
    // Unfenced (a person): the full way, the head read first.
    const full = await b.completeTask(c.id, handoff);
    expect(statements.take().length).toBeGreaterThan(1);
    expect(fast.run_id).toBe(ca.current_run_id);
    expect(full.run_id).toBe(cc.current_run_id);
    expect(fast.terminate).toBeNull();

    const strip = (row: object, ...keys: string[]) =>
      Object.fromEntries(Object.entries(row).filter(([k]) => !keys.includes(k)));
    expect(strip(fast.task, "id", "title")).toEqual(strip(full.task, "id", "title"));
    const taskOf = async (id: string) => strip(await b.requireTask(id), "id", "title");
    expect(await taskOf(a.id)).toEqual(await taskOf(c.id));
    const runsOf = async (id: string) => (await b.listRuns(id)).map((r) => strip(r, "id", "task_id"));
    expect(await runsOf(a.id)).toEqual(await runsOf(c.id));
    const eventsOf = async (id: string) =>
      (
        await rawSql(b).all<{ kind: string; payload: string | null; run_id: number | null }>(
          "SELECT kind, payload, run_id FROM task_events WHERE task_id = ? AND kind = 'completed'",
          id,
        )
      ).map((e) => ({ kind: e.kind, payload: e.payload, run: e.run_id === null ? null : "set" }));
    expect(await eventsOf(a.id)).toEqual(await eventsOf(c.id));
    expect(await eventsOf(a.id)).toHaveLength(1);
  });

  it("a fenced completion the statement does not cover is completed, or refused, the full way", async () => {
    const b = board();
    const statements = recordStatements(b);
    const claimed = async (title: string) => {
      const t = await b.createTask({ title, assignee: "bench" });
      const running = await b.claimTask(t.id, { claimer: "w:1" });
      if (!running) throw new Error(`could not claim ${title}`);
      return running;
    };
    // Another claimer's lock: refused as stale, nothing written.
    const locked = await claimed("locked");
    statements.take();
    await expect(
      b.completeTask(locked.id, { expected_run_id: locked.current_run_id, claim_lock: "other:2" }),
    ).rejects.toMatchObject({ code: "STALE_RUN" });
    expect((await b.requireTask(locked.id)).status).toBe("running");
    expect(statements.take().length).toBeGreaterThan(1);

    // A second open run (an older attempt left dangling): the full way supersedes it.
    const dangling = await claimed("dangling");
    await rawSql(b).run(
      "INSERT INTO task_runs (task_id, status, started_at) VALUES (?, 'running', ?)",
      dangling.id,
      (dangling.started_at ?? 0) - 10,
    );
    statements.take();
    const begun = boardInternals(b).ctx.transactionsBegun;
    const settled = await b.completeTask(dangling.id, { summary: "ok", expected_run_id: dangling.current_run_id });
    // The statement that did not apply was a transaction of its own that wrote nothing (one round
    // trip), then the full way took one.
    expect(boardInternals(b).ctx.transactionsBegun - begun).toBe(2);
    const tried = statements.take();
    expect(tried[0]).toMatch(/^WITH t AS \(UPDATE tasks SET status = 'done'/);
    expect(tried[1]).toMatch(/FOR UPDATE$/);
    expect(settled.run_id).not.toBeNull();
    const open = await rawSql(b).all("SELECT id FROM task_runs WHERE task_id = ? AND ended_at IS NULL", dangling.id);
    expect(open).toEqual([]);

    // An unfinished parent linked after the claim: refused the full way.
    const child = await claimed("child");
    const parent = await b.createTask({ title: "parent" });
    await rawSql(b).run("INSERT INTO task_links (parent_id, child_id) VALUES (?, ?)", parent.id, child.id);
    statements.take();
    await expect(b.completeTask(child.id, { expected_run_id: child.current_run_id })).rejects.toMatchObject({
      code: "WRONG_STATE",
    });
    expect((await b.requireTask(child.id)).status).toBe("running");
    expect(
      await rawSql(b).all("SELECT id FROM task_runs WHERE task_id = ? AND ended_at IS NOT NULL", child.id),
    ).toEqual([]);

    // An old run of a task claimed again: the late report the full way records (the task untouched).
    const again = await claimed("again");
    await b.reclaimTask(again.id);
    const second = await b.claimTask(again.id, { claimer: "w:2" });
    const late = b.completeTask(again.id, { summary: "late", expected_run_id: again.current_run_id });
    await expect(late).rejects.toMatchObject({ code: "STALE_RUN" });
    expect((await b.requireTask(again.id)).current_run_id).toBe(second?.current_run_id);
  });

  it("walks side by side lock about one row per claim: the rows other walks hold are passed over in the same statement", async () => {
    const b = board();
    const n = 120;
    for (let i = 0; i < n; i++) await b.createTask({ title: `job ${i}`, assignee: "bench" });
    const statements = recordStatements(b);
    // Eight workers, each walking its own view of the lane (as dispatchers and pulling workers do),
    // all in the same lane order; the board's pool lets three transactions run at once.
    const won = await Promise.all(
      Array.from({ length: 8 }, async (_, w) => {
        const mine: string[] = [];
        let lane = b.readyLane();
        let fresh = true;
        for (;;) {
          const { claimed, more } = await b.claimNext(lane, { claimer: `w${w}:1` });
          const task = claimed[0]?.task;
          if (task) {
            mine.push(task.id);
            await b.completeTask(task.id, { summary: "ok", expected_run_id: task.current_run_id });
            continue;
          }
          if (more) continue;
          if (fresh) return mine;
          lane = b.readyLane();
          fresh = true;
        }
      }),
    );
    const all = won.flat();
    expect(all).toHaveLength(n);
    expect(new Set(all).size).toBe(n);
    // A lock statement, or a walk's claim of one row that locks as it claims.
    const locking = (sql: string) => FIRST_FREE_LOCK.test(sql) || sql.startsWith("WITH pick AS");
    const locks = statements.take().filter(locking).length;
    expect(locks).toBeGreaterThanOrEqual(n);
    // Row by row, each walk tried the rows the others had just locked: about two attempts per claim
    // with three walks at once (four to five with eight).
    expect(locks).toBeLessThanOrEqual(Math.ceil(n * 1.3));
  });

  it("writes the rows and the event text the separate writes would", async () => {
    const b = board();
    const t = await b.createTask({ title: "one", assignee: "bench" });
    const claimed = (await b.claimNext(b.readyLane(), { claimer: "w:7" })).claimed[0]?.task;
    expect(claimed?.id).toBe(t.id);
    expect(claimed?.status).toBe("running");
    const runId = claimed?.current_run_id ?? null;
    expect(runId).not.toBeNull();
    const done = await b.completeTask(t.id, { summary: "all good", result: "42", expected_run_id: runId });
    expect(done.run_id).toBe(runId);
    expect(done.task.status).toBe("done");
    expect(done.task.current_run_id).toBeNull();

    const events = await rawSql(b).all<{ kind: string; run_id: number; payload: string }>(
      "SELECT kind, run_id, payload FROM task_events WHERE task_id = ? AND kind IN ('claimed', 'completed') ORDER BY id",
      t.id,
    );
    expect(events.map((e) => [e.kind, Number(e.run_id)])).toEqual([
      ["claimed", runId],
      ["completed", runId],
    ]);
    // Byte for byte what JSON.stringify makes (Hermes and the flow ledger read these texts).
    expect(events[0]?.payload).toBe(JSON.stringify({ lock: "w:7", expires: claimed?.claim_expires, run_id: runId }));
    expect(events[1]?.payload).toBe(JSON.stringify({ result_len: 2, summary: "all good" }));

    const runs = await b.listRuns(t.id);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ id: runId, status: "done", outcome: "completed", summary: "all good" });
    expect(runs[0]?.ended_at).not.toBeNull();
    expect(runs[0]?.claim_lock).toBeNull();
  });

  it("a claim whose swap misses inside the statement leaves no run behind", async () => {
    const b = board();
    const t = await b.createTask({ title: "one", assignee: "bench" });
    // The row says another claimer holds it, but the claim's reads are made to see it free, so the
    // folded statement opens a run and its swap misses: the claim must fail and take the run back.
    // (Its glance is also made to send it the full way: the one-message claim by id would find no
    // free row and answer lost, claim-task-alone.pg.test.ts.)
    await rawSql(b).run("UPDATE tasks SET claim_lock = 'someone:1' WHERE id = ?", t.id);
    const { ctx } = boardInternals(b);
    const get = ctx.get.bind(ctx);
    const reads = vi.spyOn(ctx, "get").mockImplementation(async (sql: string, ...args: unknown[]) => {
      const row = (await get(sql, ...args)) as Record<string, unknown> | undefined;
      if (!row || !/^\s*SELECT (t\.)?status, (t\.)?claim_lock/.test(sql)) return row;
      return "plain" in row ? { ...row, claim_lock: null, plain: 0 } : { ...row, claim_lock: null };
    });
    await expect(b.claimTask(t.id, { claimer: "w:1" })).rejects.toMatchObject({ code: "WRONG_STATE" });
    reads.mockRestore();
    expect(await b.listRuns(t.id)).toEqual([]);
    expect(await rawSql(b).all("SELECT id FROM task_runs WHERE task_id = ?", t.id)).toEqual([]);
    expect((await b.requireTask(t.id)).claim_lock).toBe("someone:1");
  });
});

describe("a create on PostgreSQL", () => {
  it("a card with no parent and no label is one store statement; a matching notify rule adds its read and subscription", async () => {
    const b = board();
    const statements = recordStatements(b);
    const plain = await b.createTask({ title: "plain", assignee: "coder", body: "it's 'quoted' \\ $1" });
    const one = statements.take();
    expect(one).toHaveLength(1);
    expect(one[0]).toMatch(/^WITH t AS \(INSERT INTO tasks/);
    expect(plain.status).toBe("ready");
    expect(plain.body).toBe("it's 'quoted' \\ $1");

    // A rule of another profile matches nothing: still one statement, and no subscription.
    await b.addNotifyRule({ scope: "assignee", scope_key: "reviewer", platform: "slack", chat_id: "C-rev" });
    statements.take();
    const other = await b.createTask({ title: "other", assignee: "coder" });
    expect(statements.take()).toHaveLength(1);
    // One of its own profile matches: the rules are read and its subscription is written.
    await b.addNotifyRule({ scope: "assignee", scope_key: "coder", platform: "slack", chat_id: "C-code" });
    statements.take();
    const matched = await b.createTask({ title: "matched", assignee: "coder" });
    const three = statements.take();
    expect(three).toHaveLength(3);
    expect(three[1]).toMatch(/FROM kanban_notify_rules/);
    expect(three[2]).toMatch(/^INSERT INTO kanban_notify_subs/);
    const subs = async (id: string) =>
      await rawSql(b).all<{ chat_id: string }>("SELECT chat_id FROM kanban_notify_subs WHERE task_id = ?", id);
    expect(await subs(other.id)).toEqual([]);
    expect(await subs(matched.id)).toEqual([{ chat_id: "C-code" }]);

    // With a parent the create goes the full way (the link is written between the row and its event).
    const child = await b.createTask({ title: "child", assignee: "coder", parents: [plain.id] });
    expect(statements.take().length).toBeGreaterThan(3);
    expect(child.status).toBe("todo");
  });

  it("the one-statement create writes what the full create writes", async () => {
    const b = board();
    const statements = recordStatements(b);
    const input = {
      assignee: "coder",
      body: "line one\nit's \\ $1 'two'",
      priority: 3,
      skills: ["git", "sql"],
      tenant: "acme",
      created_by: "ana",
      max_runtime_seconds: 600,
      model_override: "sonnet",
      initial_status: "blocked" as const,
    };
    const fast = await b.createTask({ title: "fast", ...input });
    expect(statements.take()[0]).toMatch(/^WITH t AS \(INSERT INTO tasks/);
    // A label sends the create the full way; the comparison leaves the label itself out.
    const full = await b.createTask({ title: "full", ...input, requires: ["gpu"] });
    expect(statements.take()[0]).toMatch(/^INSERT INTO tasks/);
    const strip = (row: object) =>
      Object.fromEntries(Object.entries(row).filter(([k]) => !["id", "title", "created_at", "requires"].includes(k)));
    expect(strip(fast)).toEqual(strip(full));
    expect(strip(await b.requireTask(fast.id))).toEqual(strip(await b.requireTask(full.id)));
    const eventsOf = async (id: string) =>
      (
        await rawSql(b).all<{ kind: string; payload: string | null; run_id: number | null }>(
          "SELECT kind, payload, run_id FROM task_events WHERE task_id = ? ORDER BY id",
          id,
        )
      ).map((e) => ({ ...e, payload: JSON.parse(e.payload ?? "null") as Record<string, unknown> | null }));
    const fullEvents = await eventsOf(full.id);
    // The full create's payload names its label; otherwise the events are the same, in the same order.
    const created = (fullEvents[0]?.payload ?? {}) as { requires?: unknown };
    expect(created.requires).toEqual(["gpu"]);
    delete created.requires;
    expect(await eventsOf(fast.id)).toEqual(fullEvents);
    expect(fullEvents.map((e) => e.kind)).toEqual(["created", "blocked"]);
  });

  it("a taken id writes nothing in the one statement, and the create draws another", async () => {
    const b = board();
    const first = await b.createTask({ title: "first" });
    const { ctx } = boardInternals(b);
    const draw = ctx.ids.taskId.bind(ctx.ids);
    let calls = 0;
    vi.spyOn(ctx.ids, "taskId").mockImplementation(() => (++calls === 1 ? first.id : draw()));
    const statements = recordStatements(b);
    const second = await b.createTask({ title: "second" });
    expect(second.id).not.toBe(first.id);
    expect(calls).toBe(2);
    // The one statement (nothing written), then the full way.
    expect(statements.take()[0]).toMatch(/^WITH t AS \(INSERT INTO tasks/);
    const created = await rawSql(b).all<{ task_id: string }>(
      "SELECT task_id FROM task_events WHERE kind = 'created' ORDER BY id",
    );
    expect(created.map((e) => e.task_id)).toEqual([first.id, second.id]);
    expect((await b.requireTask(first.id)).title).toBe("first");
  });
});
