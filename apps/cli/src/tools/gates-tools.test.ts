import { openBoard } from "@kanban/kernel";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { KanbanClient } from "../client.ts";
import type { TempHome } from "../testing/harness.ts";
import type { ToolIdentity } from "./client.ts";
import { callTool, openToolApi, type ToolApi } from "./tool-testing.ts";

/**
 * kanban_gates and the gated answer of kanban_complete (issue 20) through runKanbanTool, on a real
 * board, in process and over HTTP: a worker reads what its completion will be judged by, completes
 * and is told it waits at a gate, then reads the failed round's evidence when the task comes back.
 */
let h: TempHome;
let api: KanbanClient;

const call = (name: string, args: Record<string, unknown>, identity: ToolIdentity) =>
  callTool(api, name, args, identity);

function identity(task: string, runId: number): ToolIdentity {
  return { task, runId, claimLock: null, profile: "coder", tenant: null, sessionId: null };
}

describe.each(["local", "remote"] as const)("kanban_gates (%s API)", (mode) => {
  let t: ToolApi;
  beforeEach(async () => {
    t = await openToolApi(mode);
    h = t.home;
    api = t.api;
  });
  afterEach(async () => await t.close());

  it("a worker reads its gates, is told it waits at them, and reads the failed round when it comes back", async () => {
    const { task } = await api.tasks.create.mutate({ title: "parser", assignee: "coder" });
    const { task: other } = await api.tasks.create.mutate({ title: "other", assignee: "coder" });
    await api.gates.set.mutate({ scope: "card", key: task.id, spec: { commands: [["npm", "test"]] } });
    const claim = await api.tasks.claim.mutate({ id: task.id });
    const me = identity(task.id, claim.run_id as number);

    const before = await call("kanban_gates", {}, me);
    expect(before.isError).toBe(false);
    expect(before.body).toMatchObject({
      task_id: task.id,
      gates: { from: "card", commands: [{ name: "npm test", argv: ["npm", "test"], timeout_seconds: 600 }] },
      waiting_at: null,
      rounds: [],
    });
    expect(String(before.body.next)).toContain("run each acceptance command yourself");
    const foreign = await call("kanban_gates", { task_id: other.id }, me);
    expect(foreign).toEqual({
      isError: true,
      body: { error: `kanban_gates reads your own task (${task.id}) only, not ${other.id}` },
    });

    const done = await call("kanban_complete", { summary: "parser done" }, me);
    expect(done.isError).toBe(false);
    expect(done.body).toMatchObject({ ok: true, task_id: task.id, status: "review", gated: "commands" });
    expect(String(done.body.message)).toMatch(/waits in review at its commands gate.*GATE FAILED.*stop here/);

    const board = openBoard({ location: { home: h.home }, warn: () => {} });
    try {
      const round = claim.run_id as number;
      expect(await board.claimCommandRound(task.id, round, { claimer: "runner", lease_seconds: 60 })).toBe(true);
      await board.reportCommandRound(task.id, round, {
        claimer: "runner",
        results: [
          {
            name: "npm test",
            argv: ["npm", "test"],
            outcome: "failed",
            exit_code: 1,
            duration_ms: 900,
            output_tail: "FAIL parser.test.ts\n",
          },
        ],
        change: { base: "abc123", files: [{ path: "src/p.ts", status: "M" }], diff: "+x\n", truncated: false },
      });
    } finally {
      board.close();
    }
    const again = await api.tasks.claim.mutate({ id: task.id });
    const after = await call("kanban_gates", {}, identity(task.id, again.run_id as number));
    expect(after.body.rounds).toEqual([
      {
        round: claim.run_id,
        items: [
          {
            gate: "command",
            name: "npm test",
            outcome: "failed",
            detail: expect.objectContaining({ exit_code: 1, argv: ["npm", "test"] }),
            output_tail: "FAIL parser.test.ts\n",
          },
          {
            gate: "change",
            name: "against abc123",
            outcome: "recorded",
            base: "abc123",
            files: [{ path: "src/p.ts", status: "M" }],
            files_total: 1,
          },
        ],
      },
    ]);
  });

  it("an orchestrator reads any card; no gates says so; a reviewer or approval answer names what comes next", async () => {
    const lead: ToolIdentity = {
      task: null,
      runId: null,
      claimLock: null,
      profile: "lead",
      tenant: null,
      sessionId: null,
    };
    const { task } = await api.tasks.create.mutate({ title: "plain", assignee: "coder" });
    const plain = await call("kanban_gates", { task_id: task.id }, lead);
    expect(plain.body).toMatchObject({ gates: null, next: "No gates: kanban_complete makes this task done." });
    expect((await call("kanban_gates", {}, lead)).body.error).toMatch(/task_id is required/);
    expect((await call("kanban_gates", { task_id: "t_deadbeef00" }, lead)).body).toEqual({
      error: "task t_deadbeef00 not found",
    });
    expect((await call("kanban_gates", { task_id: task.id, rounds: 0 }, lead)).body.error).toMatch(/rounds must be/);

    await api.gates.set.mutate({ scope: "profile", key: "coder", spec: { reviewer: "critic" } });
    const claim = await api.tasks.claim.mutate({ id: task.id });
    const done = await call(
      "kanban_complete",
      { summary: "ready for review" },
      identity(task.id, claim.run_id as number),
    );
    expect(done.body).toMatchObject({ gated: "reviewer", status: "review" });
    expect(String(done.body.message)).toContain("its reviewer (critic) is spawned next");
  });
});
