import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { codeOf, createTestApi, type TestApi, tokenServer } from "../testing.ts";

// Issue 20, completion gates through the API: set, list and read a card's evidence; a tenant gates
// only its own cards; a gated completion answers `gated` and the card waits in review; a person's
// approval through tasks.complete is kept with its author.

describe("gates through the API", () => {
  let t: TestApi;
  beforeEach(() => {
    t = createTestApi();
  });
  afterEach(() => t.cleanup());

  it("a card with a person's approval gate waits in review until someone approves it, who is kept as evidence", async () => {
    const { task } = await t.api.tasks.create({ title: "ship the parser", assignee: "coder" });
    const set = await t.api.gates.set({ scope: "card", key: task.id, spec: { approval: true } });
    expect(set.gates).toMatchObject({ scope: "card", key: task.id, spec: { approval: true, commands: [] } });
    const claim = await t.api.tasks.claim({ id: task.id });
    const held = await t.api.tasks.complete({ id: task.id, expected_run_id: claim.run_id as number, summary: "done" });
    expect(held.gated).toBe("approval");
    expect(held.task.status).toBe("review");
    const card = await t.api.gates.card({ id: task.id });
    expect(card.verification).toMatchObject({ stage: "approval", implementer: "coder" });
    const approved = await t.api.tasks.complete({ id: task.id, approved_by: "dana" });
    expect(approved.gated).toBeUndefined();
    expect(approved.task.status).toBe("done");
    const after = await t.api.gates.card({ id: task.id });
    expect(after.rounds[0]?.items.map((i) => [i.gate, i.name, i.outcome])).toEqual([["approval", "dana", "passed"]]);
  });

  it("a tenant gates and lists only its own cards; a bad spec is BAD_REQUEST with the kernel's words", async () => {
    const acme = t.caller("acme");
    const { task: mine } = await acme.tasks.create({ title: "mine" });
    const { task: theirs } = await t.caller("zeta").tasks.create({ title: "theirs" });
    await acme.gates.set({ scope: "card", key: mine.id, spec: { commands: [["npm", "test"]] } });
    await t.api.gates.set({ scope: "board", spec: { approval: true } });
    expect((await acme.gates.list()).gates.map((g) => g.key)).toEqual([mine.id]);
    expect((await t.api.gates.list()).gates).toHaveLength(2);
    expect(await codeOf(acme.gates.set({ scope: "card", key: theirs.id, spec: { approval: true } }))).toBe("NOT_FOUND");
    expect(await codeOf(acme.gates.set({ scope: "board", spec: { approval: true } }))).toBe("BAD_REQUEST");
    expect(await codeOf(acme.gates.card({ id: theirs.id }))).toBe("NOT_FOUND");
    expect(await codeOf(t.api.gates.set({ scope: "card", key: mine.id, spec: { commands: "npm test" } }))).toBe(
      "BAD_REQUEST",
    );
    expect(await codeOf(t.api.gates.set({ scope: "week" as "board", spec: {} }))).toBe("BAD_REQUEST");
    expect((await t.api.gates.clear({ scope: "board" })).removed).toBe(true);
  });
});

describe("a worker's run token and gates", () => {
  const s = tokenServer("gates");
  beforeAll(s.start);
  afterAll(s.stop);

  it("reads its own card's gates, and neither another card's nor the board's list, nor sets any", async () => {
    const { task } = await s.admin.tasks.create.mutate({ title: "gated", assignee: "coder" });
    const { task: other } = await s.admin.tasks.create.mutate({ title: "other" });
    await s.admin.gates.set.mutate({ scope: "card", key: task.id, spec: { commands: [["npm", "test"]] } });
    const claim = await s.admin.tasks.claim.mutate({ id: task.id });
    const worker = s.asRun(task.id, claim.run_id as number);
    const own = await worker.gates.card.query({ id: task.id });
    expect(own.gates?.spec.commands.map((c) => c.argv)).toEqual([["npm", "test"]]);
    await expect(worker.gates.card.query({ id: other.id })).rejects.toThrow(/FORBIDDEN|not|only/i);
    await expect(worker.gates.list.query()).rejects.toThrow();
    await expect(worker.gates.set.mutate({ scope: "card", key: task.id, spec: {} })).rejects.toThrow();
  });
});
