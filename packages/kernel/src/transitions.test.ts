import { useTestBoards } from "./testing/helpers.ts";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { beforeEach, describe, expect, it } from "vitest";
import { boardInternals, type TestBoard } from "./testing/index.ts";
import { transition, transitionReturning } from "./transition.ts";
import { CLEAR_CLAIM } from "./store/sqlite/sql-fragments.ts";
import { TRANSITIONS } from "./transitions.ts";

const boards = useTestBoards();

describe("TRANSITIONS (the state machine)", () => {
  it("is exactly this table: a change here is a change of behaviour, so it must be made on purpose", () => {
    const live = ["triage", "todo", "scheduled", "ready", "running", "blocked", "review", "done"];
    const all = [...live, "archived"];
    expect(TRANSITIONS).toEqual({
      claim: { from: ["ready"], to: ["running"] },
      claim_review: { from: ["review"], to: ["running"] },
      review_demote: { from: ["review"], to: ["todo"] },
      claim_rejected: { from: ["ready"], to: ["todo"] },
      link_demote: { from: ["ready"], to: ["todo"] },
      promote: { from: ["todo", "blocked"], to: ["ready", "review"] },
      complete: { from: ["running", "ready", "blocked", "review"], to: ["done"] },
      block: { from: ["running", "ready"], to: ["blocked", "todo", "triage"] },
      schedule: { from: ["todo", "ready", "running", "blocked"], to: ["scheduled"] },
      unblock: { from: ["blocked", "scheduled"], to: ["ready", "todo", "review"] },
      requeue: { from: ["running"], to: ["ready", "review"] },
      spawn_failed: { from: ["running"], to: ["ready", "review"] },
      give_up: { from: ["running", "ready", "review"], to: ["blocked"] },
      reclaim: { from: ["running", "ready", "blocked"], to: ["ready", "review"] },
      request_review: { from: ["running", "ready"], to: ["review"] },
      request_changes: { from: ["running"], to: ["ready", "todo"] },
      verify: { from: ["running", "ready", "blocked", "review"], to: ["review"] },
      gate_failed: { from: ["review"], to: ["ready", "todo"] },
      reopen_review: { from: ["review"], to: ["ready", "todo"] },
      cancel: { from: ["triage", "todo", "scheduled", "ready"], to: ["blocked"] },
      archive: { from: live, to: ["archived"] },
      set_status: { from: all, to: all.filter((s) => s !== "running") },
    });
  });

  it("only a claim (a worker's or a reviewer's) lands in running", () => {
    const into = Object.entries(TRANSITIONS).filter(([, t]) => (t.to as readonly string[]).includes("running"));
    expect(into.map(([verb]) => verb)).toEqual(["claim", "claim_review"]);
  });
});

describe("transition (the one compare-and-swap)", () => {
  let b: TestBoard;
  const ctx = () => boardInternals(b).ctx;
  beforeEach(() => {
    b = boards();
  });

  it("moves a task out of one of the verb's from-states and returns the row with RETURNING", async () => {
    const id = (await b.createTask({ title: "t" })).id;
    const task = await ctx().tx(
      async () =>
        await transitionReturning(ctx(), "claim", id, {
          to: "running",
          set: "claim_lock = ?",
          setArgs: ["me"],
          where: "claim_lock IS NULL",
        }),
    );
    expect(task).toMatchObject({ id, status: "running", claim_lock: "me" });
  });

  it("misses (0 rows, null) when the task is in a state the verb may not leave", async () => {
    const id = (await b.createTask({ title: "t" })).id; // ready
    expect(await ctx().tx(async () => await transition(ctx(), "requeue", id, { to: "ready" }))).toBe(0);
    expect(await ctx().tx(async () => await transitionReturning(ctx(), "unblock", id, { to: "todo" }))).toBeNull();
    expect((await b.requireTask(id)).status).toBe("ready");
  });

  it("with `from`, misses when the status read earlier no longer holds, even if the verb allows the new one", async () => {
    const id = (await b.createTask({ title: "t" })).id; // ready
    expect(await ctx().tx(async () => await transition(ctx(), "block", id, { to: "blocked", from: "running" }))).toBe(
      0,
    );
    expect(
      await ctx().tx(
        async () => await transition(ctx(), "block", id, { to: "blocked", from: "ready", set: CLEAR_CLAIM }),
      ),
    ).toBe(1);
    expect((await b.requireTask(id)).status).toBe("blocked");
  });

  it("refuses a to-state the table does not give the verb, before touching the database", async () => {
    const id = (await b.createTask({ title: "t" })).id;
    await expect(transition(ctx(), "set_status", id, { to: "running" })).rejects.toThrow(/cannot land in 'running'/);
    await expect(transition(ctx(), "promote", id, { to: "done" })).rejects.toThrow(/cannot land in 'done'/);
    expect((await b.requireTask(id)).status).toBe("ready");
  });
});

describe("one door for status writes", () => {
  it("no kernel source other than the store's compare-and-swap (store/sqlite/tasks.ts) writes tasks.status, and none but store/sqlite/sql-fragments.ts spells out the claim-clearing rule", () => {
    const dir = path.dirname(fileURLToPath(import.meta.url));
    const offenders: string[] = [];
    const walk = (d: string): void => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        const full = path.join(d, e.name);
        if (e.isDirectory()) walk(full);
        else if (e.name.endsWith(".ts") && !e.name.endsWith(".test.ts")) {
          const text = fs.readFileSync(full, "utf8");
          const rel = path.relative(dir, full);
          if (rel !== path.join("store", "sqlite", "tasks.ts") && /UPDATE\s+tasks\s+SET\s+status\b/i.test(text))
            offenders.push(`${rel}: status write`);
          if (rel !== path.join("store", "sqlite", "sql-fragments.ts") && /claim_lock\s*=\s*NULL/i.test(text))
            offenders.push(`${rel}: claim clearing`);
        }
      }
    };
    walk(dir);
    expect(offenders).toEqual([]);
  });
});
