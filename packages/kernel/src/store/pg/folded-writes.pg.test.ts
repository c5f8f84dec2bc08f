// PostgreSQL only (the kernel's "postgres" project runs *.pg.test.ts): a claim's writes (run, swap,
// event) and a completion's (swap, run close, event) are one statement each, and the row lock of a
// claim walk also reads the claim's head. Each statement is a round trip under the board's lock, so
// the count is the point; the rows they write must be the ones the separate writes make.
import { describe, expect, it, vi } from "vitest";
import { useTestBoards } from "../../testing/helpers.ts";
import { boardInternals, rawSql, type TestBoard } from "../../testing/index.ts";

const board = useTestBoards();

/** Every statement the board's store runs from here on, in order (BEGIN and COMMIT are the session's own). */
function recordStatements(b: TestBoard): { take(): string[] } {
  const { ctx } = boardInternals(b);
  let seen: string[] = [];
  for (const m of ["get", "all", "run", "insert", "tasks", "task"] as const) {
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
  it("a steady claimNext + fenced completeTask cycle is six store statements, one write each", async () => {
    const b = board();
    for (let i = 0; i < 3; i++) await b.createTask({ title: `job ${i}`, assignee: "bench" });
    const lane = b.readyLane();
    // The first walk reads the lane; the cycle measured is the next one, as a worker's loop runs it.
    const first = (await b.claimNext(lane, { claimer: "w:1" })).claimed[0]?.task;
    await b.completeTask(first?.id ?? "", { summary: "ok", expected_run_id: first?.current_run_id });

    const statements = recordStatements(b);
    const claimed = (await b.claimNext(lane, { claimer: "w:1" })).claimed[0]?.task;
    if (!claimed) throw new Error("nothing claimed");
    const claim = statements.take();
    await b.completeTask(claimed.id, { summary: "ok", expected_run_id: claimed.current_run_id });
    const complete = statements.take();

    // Claim: the incident check, the lane re-check, the row lock (with the claim head and the
    // respawn guard's facts), and one write.
    expect(claim).toHaveLength(4);
    expect(claim.filter(isWrite)).toHaveLength(1);
    expect(claim[3]).toMatch(/^WITH run AS \(INSERT INTO task_runs/);
    expect(claim[2]).toMatch(/FOR UPDATE OF t SKIP LOCKED$/);
    // Completion: the row lock with its head, and one write.
    expect(complete).toHaveLength(2);
    expect(complete[1]).toMatch(/^WITH t AS \(UPDATE tasks SET status = 'done'/);
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
    const locks = statements.take().filter((sql) => sql.endsWith("FOR UPDATE OF t SKIP LOCKED")).length;
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
    await rawSql(b).run("UPDATE tasks SET claim_lock = 'someone:1' WHERE id = ?", t.id);
    const { ctx } = boardInternals(b);
    const get = ctx.get.bind(ctx);
    const reads = vi.spyOn(ctx, "get").mockImplementation(async (sql: string, ...args: unknown[]) => {
      const row = (await get(sql, ...args)) as Record<string, unknown> | undefined;
      return row && /^\s*SELECT (t\.)?status, (t\.)?claim_lock/.test(sql) ? { ...row, claim_lock: null } : row;
    });
    await expect(b.claimTask(t.id, { claimer: "w:1" })).rejects.toMatchObject({ code: "WRONG_STATE" });
    reads.mockRestore();
    expect(await b.listRuns(t.id)).toEqual([]);
    expect(await rawSql(b).all("SELECT id FROM task_runs WHERE task_id = ?", t.id)).toEqual([]);
    expect((await b.requireTask(t.id)).claim_lock).toBe("someone:1");
  });
});
