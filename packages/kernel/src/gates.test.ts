import { beforeEach, describe, expect, it } from "vitest";
import type { CommandResult } from "./gate-commands.ts";
import { caught, useTestBoards } from "./testing/helpers.ts";
import { rawSql, type TestBoard } from "./testing/index.ts";

const boards = useTestBoards();

let board: TestBoard;
beforeEach(() => {
  board = boards();
});

const TEST_GATE = { commands: [{ name: "tests", argv: ["npm", "test"], timeout_seconds: 60 }] };

/** A card `coder` is working on, with `gates` on it: its id and run. */
async function implementing(gates: unknown = TEST_GATE): Promise<{ id: string; runId: number }> {
  const task = await board.createTask({ title: "make the tests pass", assignee: "coder" });
  if (gates !== null) await board.setGates("card", task.id, gates);
  const claim = await board.claimTask(task.id, { claimer: "testhost:4242" });
  if (!claim || claim.current_run_id === null) throw new Error("claim failed");
  return { id: task.id, runId: claim.current_run_id };
}

function result(outcome: CommandResult["outcome"], output: string): CommandResult {
  return {
    name: "tests",
    argv: ["npm", "test"],
    outcome,
    exit_code: outcome === "passed" ? 0 : 1,
    duration_ms: 1200,
    output_tail: output,
  };
}

async function kinds(id: string): Promise<string[]> {
  return (await board.listEvents(id)).map((e) => e.kind);
}

describe("gate specs", () => {
  it("refuses a spec it cannot run, with one line naming the fault", async () => {
    const task = await board.createTask({ title: "t" });
    const cases: [unknown, RegExp][] = [
      ["npm test", /must be an object/],
      [{ commands: [{ argv: "npm test" }] }, /argv must be a non-empty list of strings/],
      [{ commands: [{ argv: [] }] }, /argv must be a non-empty list/],
      [{ commands: [{ argv: ["x"], timeout_seconds: 0 }] }, /timeout_seconds must be a whole number from 1 to 3600/],
      [{ commands: [["a"], ["a"]] }, /two acceptance commands are named 'a'/],
      [{ reviewer: "not a profile!" }, /reviewer must be a profile name/],
      [{ approval: "yes" }, /approval must be true or false/],
      [{ acceptance: true }, /unknown gate 'acceptance'/],
    ];
    for (const [spec, message] of cases) {
      const err = await caught(() => board.setGates("card", task.id, spec));
      expect(err.code, JSON.stringify(spec)).toBe("INVALID_INPUT");
      expect(err.message).toMatch(message);
    }
    expect(await board.listGates()).toEqual([]);
    expect((await caught(() => board.setGates("card", "t_missing", TEST_GATE))).code).toBe("NOT_FOUND");
    expect((await caught(() => board.setGates("board", "*", {}))).message).toMatch(/clear it instead/);
  });

  it("reads a bare argv list as a command named after it, and keeps the spec with its defaults", async () => {
    const task = await board.createTask({ title: "t" });
    const view = await board.setGates("card", task.id, { commands: [["npm", "test"]], approval: true });
    expect(view.spec).toEqual({
      commands: [{ name: "npm test", argv: ["npm", "test"], timeout_seconds: 600 }],
      reviewer: null,
      approval: true,
    });
    expect((await board.listGates()).map((g) => [g.scope, g.key])).toEqual([["card", task.id]]);
    // Words a name may not hold (=, quotes, a leading dash) become dashes; the argv itself is kept.
    const odd = await board.setGates("card", task.id, { commands: [["npx", "vitest", "--reporter=dot", "'a b'"]] });
    expect(odd.spec.commands[0]).toMatchObject({
      name: "npx vitest --reporter-dot -a b-",
      argv: ["npx", "vitest", "--reporter=dot", "'a b'"],
    });
    expect((await board.setGates("card", task.id, { commands: [["--", "x"]] })).spec.commands[0]?.name).toBe("x");
    expect(await kinds(task.id)).toContain("gates_set");
    expect(await board.clearGates("card", task.id)).toBe(true);
    expect(await board.clearGates("card", task.id)).toBe(false);
  });

  it("lets a tenant gate only its own cards, and shows it only those", async () => {
    const mine = await board.createTask({ title: "mine", tenant: "acme" });
    const theirs = await board.createTask({ title: "theirs", tenant: "globex" });
    await board.setGates("card", mine.id, TEST_GATE, "acme");
    await board.setGates("card", theirs.id, TEST_GATE);
    await board.setGates("board", "*", { approval: true });
    expect((await caught(() => board.setGates("card", theirs.id, TEST_GATE, "acme"))).code).toBe("NOT_FOUND");
    expect((await caught(() => board.setGates("board", "*", TEST_GATE, "acme"))).message).toMatch(/own cards only/);
    expect((await caught(() => board.clearGates("profile", "coder", "acme"))).message).toMatch(/own cards only/);
    expect((await board.listGates("acme")).map((g) => g.key)).toEqual([mine.id]);
    expect(await board.listGates()).toHaveLength(3);
  });

  it("takes the card's spec over its profile's over the board's; an empty card spec opts out", async () => {
    await board.setGates("board", "*", { approval: true });
    await board.setGates("profile", "coder", { reviewer: "critic" });
    const a = await implementing(null);
    expect((await board.completeTask(a.id, { expected_run_id: a.runId })).gated).toBe("reviewer");
    const b = await implementing({});
    const done = await board.completeTask(b.id, { expected_run_id: b.runId });
    expect(done.gated).toBeUndefined();
    expect(done.task.status).toBe("done");
    const other = await board.createTask({ title: "by another profile", assignee: "writer" });
    const claim = await board.claimTask(other.id);
    const held = await board.completeTask(other.id, { expected_run_id: claim?.current_run_id ?? null });
    expect(held.gated).toBe("approval");
  });
});

describe("acceptance commands", () => {
  it("holds the completion in review; a failing command sends it back with the evidence, a passing one makes it done", async () => {
    const { id, runId } = await implementing();
    const first = await board.completeTask(id, { expected_run_id: runId, summary: "done, I think", result: "ok" });
    expect(first.gated).toBe("commands");
    expect(first.task.status).toBe("review");
    expect(first.task.assignee).toBe("coder");
    expect(first.run_id).toBe(runId);
    expect(await kinds(id)).toContain("verification_started");
    // Neither the review lane nor a reviewer's claim takes a card whose commands are awaited.
    expect((await board.reviewLane()).map((t) => t.id)).not.toContain(id);
    expect(await board.claimReviewTask(id)).toBeNull();
    // Nor can anyone complete it past its commands.
    expect((await caught(() => board.completeTask(id))).message).toMatch(/acceptance commands have not reported yet/);

    const [round] = await board.pendingCommandRounds();
    expect(round?.task.id).toBe(id);
    expect(round?.round).toBe(runId);
    expect(round?.commands.map((c) => c.argv)).toEqual([["npm", "test"]]);
    expect(await board.claimCommandRound(id, runId, { claimer: "runner-a", lease_seconds: 120 })).toBe(true);
    expect(await board.claimCommandRound(id, runId, { claimer: "runner-b", lease_seconds: 120 })).toBe(false);
    expect(await board.pendingCommandRounds()).toEqual([]);
    // Only the runner holding the round reports it.
    const foreign = await caught(() => board.reportCommandRound(id, runId, { claimer: "runner-b", results: [] }));
    expect(foreign.code).toBe("WRONG_STATE");

    const failed = await board.reportCommandRound(id, runId, {
      claimer: "runner-a",
      results: [result("failed", "FAIL parser.test.ts\n  expected 3, got 2\n")],
      change: {
        base: "abc123def4567890",
        files: [{ path: "src/parser.ts", status: "M" }],
        diff: "+x\n",
        truncated: false,
      },
    });
    expect(failed.passed).toBe(false);
    expect(failed.task.status).toBe("ready");
    expect(failed.task.assignee).toBe("coder");
    expect(failed.task.consecutive_failures).toBe(1);
    const comments = await board.listComments(id);
    expect(comments.at(-1)?.author).toBe("kanban-gates");
    expect(comments.at(-1)?.body).toMatch(/GATE FAILED[\s\S]*\$ npm test[\s\S]*exited 1[\s\S]*expected 3, got 2/);
    expect(await kinds(id)).toContain("gate_failed");
    // Its run completed, but the gates sent it back: the respawn guard must not hold it as finished work.
    expect(await board.respawnGuard(id)).toBeNull();
    expect((await board.explainMotion(id)).code).not.toBe("respawn_guard");
    // A late second report of the same round is refused.
    expect((await caught(() => board.reportCommandRound(id, runId, { claimer: "runner-a", results: [] }))).code).toBe(
      "WRONG_STATE",
    );

    // The next run completes again: a new round, and this time the tests pass.
    const claim = await board.claimTask(id, { claimer: "testhost:4243" });
    const run2 = claim?.current_run_id as number;
    expect((await board.completeTask(id, { expected_run_id: run2, summary: "fixed" })).gated).toBe("commands");
    expect(await board.claimCommandRound(id, run2, { claimer: "runner-a", lease_seconds: 120 })).toBe(true);
    const passed = await board.reportCommandRound(id, run2, {
      claimer: "runner-a",
      results: [result("passed", "Tests 12 passed\n")],
    });
    expect(passed.stage).toBe("done");
    expect(passed.task.status).toBe("done");
    expect(passed.task.consecutive_failures).toBe(0);

    const evidence = await board.cardGates(id);
    expect(evidence.verification).toBeNull();
    expect(evidence.rounds.map((r) => r.round)).toEqual([run2, runId]);
    expect(evidence.rounds[0]?.items.map((i) => [i.gate, i.name, i.outcome])).toEqual([["command", "tests", "passed"]]);
    const older = evidence.rounds[1]?.items ?? [];
    expect(older.map((i) => [i.gate, i.outcome])).toEqual([
      ["command", "failed"],
      ["change", "recorded"],
    ]);
    expect(older[0]?.body).toContain("expected 3, got 2");
    expect(older[0]?.detail).toMatchObject({ argv: ["npm", "test"], exit_code: 1, duration_ms: 1200 });
    expect(older[1]?.detail).toMatchObject({ files: [{ path: "src/parser.ts", status: "M" }] });
    expect(older[1]?.body).toBe("+x\n");
  });

  it("lets another runner take a round over once the first one's lease ran out", async () => {
    const { id, runId } = await implementing();
    await board.completeTask(id, { expected_run_id: runId });
    expect(await board.claimCommandRound(id, runId, { claimer: "runner-a", lease_seconds: 60 })).toBe(true);
    board.clock.advance(61);
    expect((await board.pendingCommandRounds()).map((r) => r.task.id)).toEqual([id]);
    expect(await board.claimCommandRound(id, runId, { claimer: "runner-b", lease_seconds: 60 })).toBe(true);
    expect((await caught(() => board.reportCommandRound(id, runId, { claimer: "runner-a", results: [] }))).code).toBe(
      "WRONG_STATE",
    );
  });

  it("counts each failing round towards the breaker, which blocks the card at its limit", async () => {
    const task = await board.createTask({ title: "never green", assignee: "coder", max_retries: 2 });
    await board.setGates("card", task.id, TEST_GATE);
    for (let i = 0; i < 2; i++) {
      const claim = await board.claimTask(task.id);
      const run = claim?.current_run_id as number;
      await board.completeTask(task.id, { expected_run_id: run });
      await board.claimCommandRound(task.id, run, { claimer: "r", lease_seconds: 60 });
      await board.reportCommandRound(task.id, run, { claimer: "r", results: [result("failed", "red")] });
    }
    const after = await board.getTask(task.id);
    expect(after?.status).toBe("blocked");
    expect(after?.consecutive_failures).toBe(2);
    const gaveUp = (await board.listEvents(task.id)).find((e) => e.kind === "gave_up");
    expect(gaveUp?.payload).toMatchObject({ trigger_outcome: "gate_failed" });
  });
});

describe("commands that cannot run", () => {
  it("blocks the card for a person when a command could not start, counting nothing against the work", async () => {
    const { id, runId } = await implementing();
    await board.completeTask(id, { expected_run_id: runId });
    await board.claimCommandRound(id, runId, { claimer: "r", lease_seconds: 60 });
    const out = await board.reportCommandRound(id, runId, {
      claimer: "r",
      results: [{ ...result("error", ""), exit_code: null, error: "spawn npm ENOENT" }],
    });
    expect(out.task.status).toBe("blocked");
    expect(out.task.consecutive_failures).toBe(0);
    const blocked = (await board.listEvents(id)).filter((e) => e.kind === "blocked").at(-1);
    expect(String(blocked?.payload?.reason)).toMatch(/could not run \(tests: spawn npm ENOENT\).*then unblock/);
    expect((await board.listComments(id)).at(-1)?.body).toMatch(/could not start \(spawn npm ENOENT\)/);
  });

  it("lists every waiting round by default, or only the rounds of one host's changes", async () => {
    const { id, runId } = await implementing();
    await board.completeTask(id, { expected_run_id: runId });
    expect((await board.pendingCommandRounds()).map((r) => r.task.id)).toEqual([id]);
    // The card was claimed as testhost:4242, not by a remote host: its change is this machine's.
    expect((await board.pendingCommandRounds({ host_id: null })).map((r) => r.task.id)).toEqual([id]);
    expect(await board.pendingCommandRounds({ host_id: "kh-0123456789abcdef" })).toEqual([]);
  });

  it("ends a card's round when a person drags it out of review, so a later return does not revive it", async () => {
    const { id, runId } = await implementing();
    await board.completeTask(id, { expected_run_id: runId });
    await board.setStatusDirect(id, "todo");
    expect((await board.cardGates(id)).verification).toBeNull();
    expect(await board.pendingCommandRounds()).toEqual([]);
  });
});

describe("reviewer and approval gates", () => {
  it("hands the card to the reviewer profile, whose approval makes it done", async () => {
    const { id, runId } = await implementing({ reviewer: "critic" });
    const held = await board.completeTask(id, { expected_run_id: runId, summary: "parser added" });
    expect(held.gated).toBe("reviewer");
    expect(held.task.assignee).toBe("critic");
    expect((await board.reviewLane()).map((t) => t.id)).toContain(id);
    // A person cannot approve past the reviewer.
    expect((await caught(() => board.completeTask(id))).message).toMatch(/waits for its reviewer 'critic'/);
    const claim = await board.claimReviewTask(id, { claimer: "testhost:5000" });
    const reviewRun = claim?.current_run_id as number;
    const done = await board.completeTask(id, { expected_run_id: reviewRun, summary: "looks right" });
    expect(done.task.status).toBe("done");
    const [round] = (await board.cardGates(id)).rounds;
    expect(round?.round).toBe(runId);
    expect(round?.items.map((i) => [i.gate, i.name, i.outcome])).toEqual([["reviewer", "critic", "passed"]]);
  });

  it("returns the card to its implementer when the reviewer requests changes, with the reason as evidence", async () => {
    const { id, runId } = await implementing({ reviewer: "critic" });
    await board.completeTask(id, { expected_run_id: runId });
    const claim = await board.claimReviewTask(id, { claimer: "testhost:5000" });
    const back = await board.requestChanges(id, {
      expected_run_id: claim?.current_run_id as number,
      reason: "no test for the empty input",
    });
    expect(back.task.status).toBe("ready");
    expect(back.task.assignee).toBe("coder");
    expect(await board.respawnGuard(id)).toBeNull();
    const [round] = (await board.cardGates(id)).rounds;
    expect(round?.items.map((i) => [i.gate, i.outcome, i.detail?.reason])).toEqual([
      ["reviewer", "failed", "no test for the empty input"],
    ]);
    expect((await board.cardGates(id)).verification).toBeNull();
  });

  it("waits for a person's approval after the commands pass; only an unfenced call approves", async () => {
    const { id, runId } = await implementing({ ...TEST_GATE, approval: true });
    await board.completeTask(id, { expected_run_id: runId });
    await board.claimCommandRound(id, runId, { claimer: "r", lease_seconds: 60 });
    const out = await board.reportCommandRound(id, runId, { claimer: "r", results: [result("passed", "ok")] });
    expect(out.stage).toBe("approval");
    expect(out.task.status).toBe("review");
    const asked = (await board.listEvents(id)).filter((e) => e.kind === "approval_requested");
    expect(asked.map((e) => e.payload)).toEqual([{ round: runId, implementer: "coder" }]);
    expect((await board.reviewLane()).map((t) => t.id)).not.toContain(id);
    expect((await board.cardGates(id)).verification?.stage).toBe("approval");
    const done = await board.completeTask(id, { approved_by: "dana" });
    expect(done.task.status).toBe("done");
    const [round] = (await board.cardGates(id)).rounds;
    expect(round?.items.map((i) => [i.gate, i.name, i.outcome])).toEqual([
      ["command", "tests", "passed"],
      ["approval", "dana", "passed"],
    ]);
    const completed = (await board.listEvents(id)).filter((e) => e.kind === "completed");
    expect(completed).toHaveLength(1);
    expect(completed[0]?.payload).toMatchObject({ gates: "passed" });
  });

  it("records a person's reopen of a card awaiting approval as a failed approval", async () => {
    const { id, runId } = await implementing({ approval: true });
    await board.completeTask(id, { expected_run_id: runId });
    const back = await board.reopenReview(id, { reason: "wrong file", comment_author: "dana" });
    expect(back.status).toBe("ready");
    expect(back.assignee).toBe("coder");
    expect(await board.respawnGuard(id)).toBeNull();
    const [round] = (await board.cardGates(id)).rounds;
    expect(round?.items.map((i) => [i.gate, i.name, i.outcome])).toEqual([["approval", "dana", "failed"]]);
  });

  it("says in `why` which gate a card in review waits at", async () => {
    const { id, runId } = await implementing({ ...TEST_GATE, approval: true });
    await board.completeTask(id, { expected_run_id: runId });
    const checking = await board.explainMotion(id);
    expect(checking).toMatchObject({ code: "in_review", moving: true, detail: { gate_stage: "commands" } });
    expect(checking.line).toMatch(/acceptance commands/);
    expect((await board.explainMotion(id, { dispatcher: { alive: false } })).moving).toBe(false);
    await board.claimCommandRound(id, runId, { claimer: "r", lease_seconds: 60 });
    await board.reportCommandRound(id, runId, { claimer: "r", results: [result("passed", "ok")] });
    const approval = await board.explainMotion(id);
    expect(approval).toMatchObject({ code: "in_review", moving: false, detail: { gate_stage: "approval" } });
    expect(approval.next).toBe(`Approve it on the board or with: kanban review approve ${id}`);
    // The board reads every card's motion at once: a card in review shows the gate it waits at there too.
    const [seen] = (await board.explainMotions([id])).values();
    expect(seen?.detail).toEqual({ gate_stage: "approval" });
  });

  it("deletes a card's gates, round and evidence with the card", async () => {
    const { id, runId } = await implementing();
    await board.completeTask(id, { expected_run_id: runId });
    await board.claimCommandRound(id, runId, { claimer: "r", lease_seconds: 60 });
    await board.reportCommandRound(id, runId, { claimer: "r", results: [result("failed", "red")] });
    // A round under way too: a second card waits for its commands.
    const other = await implementing();
    await board.completeTask(other.id, { expected_run_id: other.runId });
    await board.deleteTask(id);
    await board.deleteTask(other.id);
    expect(await board.listGates()).toEqual([]);
    const sql = rawSql(board);
    for (const table of ["kanban_evidence", "kanban_verifications"])
      expect(await sql.get(`SELECT COUNT(*) AS n FROM ${table}`), table).toEqual({ n: 0 });
  });

  it("leaves an ungated board's completion exactly as before (no round, no evidence)", async () => {
    const { id, runId } = await implementing(null);
    const out = await board.completeTask(id, { expected_run_id: runId });
    expect(out.gated).toBeUndefined();
    expect(out.task.status).toBe("done");
    expect(await board.cardGates(id)).toEqual({ gates: null, verification: null, rounds: [] });
  });
});
