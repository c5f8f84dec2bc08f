import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { codeOf, createTestApi, type TestApi, tokenServer } from "../testing.ts";

// Issue 17: board and assignee subscriptions (notify rules) through the API, tenant-scoped.

describe("notify rules through the API", () => {
  let t: TestApi;
  beforeEach(() => {
    t = createTestApi();
  });
  afterEach(() => t.cleanup());

  it("adds, lists and removes rules; a new card gets the matching subscriptions", async () => {
    const { rule } = await t.api.notify.addRule({ scope: "board", platform: "desktop", chat_id: "board" });
    const { rule: dev } = await t.api.notify.addRule({
      scope: "assignee",
      scope_key: "coder",
      platform: "slack",
      chat_id: "dev",
    });
    expect((await t.api.notify.rules()).rules.map((r) => [r.scope, r.scope_key, r.platform])).toEqual([
      ["board", "", "desktop"],
      ["assignee", "coder", "slack"],
    ]);
    const { task } = await t.api.tasks.create({ title: "x", assignee: "coder" });
    const { subscriptions } = await t.api.notify.list({ task_id: task.id });
    expect(subscriptions.map((s) => `${s.platform}:${s.chat_id}`).sort()).toEqual(["desktop:board", "slack:dev"]);
    // The board tab reads only the desktop rows.
    const desktop = (await t.api.notify.list({ platform: "desktop" })).subscriptions;
    expect(desktop.map((s) => [s.task_id, s.platform])).toEqual([[task.id, "desktop"]]);
    expect(await t.api.notify.removeRule({ rule_id: rule.id })).toEqual({ ok: true });
    await expect(t.api.notify.removeRule({ rule_id: rule.id })).rejects.toMatchObject({
      code: "NOT_FOUND",
      message: `no such rule ${rule.id}`,
    });
    expect((await t.api.notify.rules()).rules.map((r) => r.id)).toEqual([dev.id]);
  });

  it("refuses a bad scope or a board rule with a key as BAD_REQUEST, with one readable line", async () => {
    await expect(
      t.api.notify.addRule({ scope: "team" as "board", platform: "slack", chat_id: "c" }),
    ).rejects.toMatchObject({ code: "BAD_REQUEST", message: "scope: scope must be one of board, assignee" });
    await expect(
      t.api.notify.addRule({ scope: "board", scope_key: "x", platform: "slack", chat_id: "c" }),
    ).rejects.toMatchObject({
      code: "BAD_REQUEST",
      message: "a board rule takes no scope_key (it matches every card of the board)",
    });
  });

  it("a tenant's token sees and changes only its own rules, which match only its cards", async () => {
    const acme = t.caller("acme");
    const { rule: op } = await t.api.notify.addRule({ scope: "board", platform: "slack", chat_id: "ops" });
    const { rule: mine } = await acme.notify.addRule({ scope: "board", platform: "slack", chat_id: "acme" });
    expect(mine.tenant).toBe("acme");
    expect((await acme.notify.rules()).rules.map((r) => r.id)).toEqual([mine.id]);
    expect(await codeOf(acme.notify.removeRule({ rule_id: op.id }))).toBe("NOT_FOUND");
    const zeta = (await t.api.tasks.create({ title: "z", tenant: "zeta" })).task.id;
    const own = (await acme.tasks.create({ title: "a" })).task.id;
    const subsOf = async (id: string) =>
      (await t.api.notify.list({ task_id: id })).subscriptions.map((s) => s.chat_id).sort();
    expect(await subsOf(own)).toEqual(["acme", "ops"]);
    expect(await subsOf(zeta)).toEqual(["ops"]);
  });
});

describe("notify rules and a worker's run token", () => {
  const s = tokenServer("notify-rules");
  beforeAll(s.start);
  afterAll(s.stop);

  it("a worker's new card follows its own card's subscriptions; the worker cannot touch rules", async () => {
    const { task } = await s.admin.tasks.create.mutate({ title: "lead", assignee: "coder" });
    await s.admin.notify.subscribe.mutate({ task_id: task.id, platform: "slack", chat_id: "team" });
    const claimed = await s.admin.tasks.claim.mutate({ id: task.id });
    const worker = s.asRun(task.id, claimed.run_id ?? 0);
    const { task: child } = await worker.tasks.create.mutate({ title: "follow-up", assignee: "coder" });
    const subs = (await s.admin.notify.list.query({ task_id: child.id })).subscriptions;
    expect(subs.map((s) => `${s.platform}:${s.chat_id}`)).toEqual(["slack:team"]);
    for (const call of [
      () => worker.notify.rules.query({}),
      () => worker.notify.addRule.mutate({ scope: "board", platform: "slack", chat_id: "x" }),
      () => worker.notify.removeRule.mutate({ rule_id: 1 }),
    ]) {
      await expect(call()).rejects.toMatchObject({ data: { code: "FORBIDDEN" } });
    }
    expect((await s.admin.notify.rules.query({})).rules).toEqual([]);
  });
});
