import { describe, expect, it } from "vitest";
import { scopeBoard } from "./scoped-board.ts";
import { rawSql, type TestBoard } from "./testing/index.ts";
import { kernelError, useTestBoards } from "./testing/helpers.ts";

// Issue 17 / spec §7.1: subscriptions per board and per assignee (kanban_notify_rules), materialised
// into each matching card's own kanban_notify_subs row; a worker's new cards follow its card (B).

const board = useTestBoards();
const maxEventId = async (b: TestBoard, taskId: string): Promise<number> =>
  (await rawSql(b).get<{ m: number }>("SELECT COALESCE(MAX(id), 0) AS m FROM task_events WHERE task_id = ?", taskId))
    ?.m ?? Number.NaN;
const subsOf = async (b: TestBoard, id: string) =>
  (await b.listNotifySubs(id)).map((s) => `${s.platform}:${s.chat_id}`).sort();

describe("notify rules: add, list, remove", () => {
  it("adds a board rule and an assignee rule, lists them, and is idempotent on the key", async () => {
    const b = board();
    const r1 = await b.addNotifyRule({ scope: "board", platform: "webhook", chat_id: "ops" });
    const r2 = await b.addNotifyRule({ scope: "assignee", scope_key: " Coder ", platform: "slack", chat_id: "dev" });
    expect(r1).toMatchObject({ scope: "board", scope_key: "", platform: "webhook", chat_id: "ops", tenant: null });
    expect(r2).toMatchObject({ scope: "assignee", scope_key: "coder", delivery_mode: "notify", chat_type: "dm" });
    expect(r1.created_at).toBe(b.clock.seconds);
    const again = await b.addNotifyRule({ scope: "board", scope_key: "", platform: "webhook", chat_id: "ops" });
    expect(again.id).toBe(r1.id);
    expect((await b.listNotifyRules()).map((r) => r.id)).toEqual([r1.id, r2.id]);
    expect(await b.removeNotifyRule(r1.id)).toBe(true);
    expect(await b.removeNotifyRule(r1.id)).toBe(false);
    expect((await b.listNotifyRules()).map((r) => r.id)).toEqual([r2.id]);
  });

  it("refuses bad input with INVALID_INPUT and a readable message", async () => {
    const b = board();
    await expect(b.addNotifyRule({ scope: "team", platform: "slack", chat_id: "c" })).rejects.toEqual(
      kernelError("INVALID_INPUT", "scope must be one of board, assignee"),
    );
    await expect(b.addNotifyRule({ scope: "assignee", platform: "slack", chat_id: "c" })).rejects.toEqual(
      kernelError("INVALID_INPUT", "an assignee rule needs the profile it follows (scope_key)"),
    );
    await expect(b.addNotifyRule({ scope: "board", scope_key: "x", platform: "slack", chat_id: "c" })).rejects.toEqual(
      kernelError("INVALID_INPUT", "a board rule takes no scope_key (it matches every card of the board)"),
    );
    await expect(b.addNotifyRule({ scope: "board", platform: " ", chat_id: "c" })).rejects.toEqual(
      kernelError("INVALID_INPUT", "platform is required"),
    );
    await expect(b.addNotifyRule({ scope: "board", platform: "slack", chat_id: "" })).rejects.toEqual(
      kernelError("INVALID_INPUT", "chat_id is required"),
    );
    await expect(
      b.addNotifyRule({ scope: "board", platform: "slack", chat_id: "c", delivery_mode: "shout" }),
    ).rejects.toEqual(kernelError("INVALID_INPUT", "delivery_mode must be one of notify, notify+wake, wake"));
    expect(await b.listNotifyRules()).toEqual([]);
  });

  it("a tenant sees, adds and removes only its own rules; one key cannot belong to two scopes", async () => {
    const b = board();
    const acme = scopeBoard(b, { tenant: "acme" });
    const op = await b.addNotifyRule({ scope: "board", platform: "slack", chat_id: "ops" });
    const mine = await acme.addNotifyRule({ scope: "board", platform: "slack", chat_id: "acme", tenant: "globex" });
    expect(mine.tenant).toBe("acme");
    expect((await acme.listNotifyRules()).map((r) => r.id)).toEqual([mine.id]);
    expect((await b.listNotifyRules()).map((r) => r.id)).toEqual([op.id, mine.id]);
    expect(await acme.removeNotifyRule(op.id)).toBe(false);
    await expect(acme.addNotifyRule({ scope: "board", platform: "slack", chat_id: "ops" })).rejects.toEqual(
      kernelError("WRONG_STATE", "a rule for this destination exists already in another scope"),
    );
    expect(await acme.removeNotifyRule(mine.id)).toBe(true);
    expect((await b.listNotifyRules()).map((r) => r.id)).toEqual([op.id]);
  });
});

describe("notify rules: materialised on cards", () => {
  it("a new card gets a board rule's subscription and its assignee's, caught up to its newest event", async () => {
    const b = board();
    await b.addNotifyRule({ scope: "board", platform: "webhook", chat_id: "ops", delivery_mode: "notify" });
    await b.addNotifyRule({ scope: "assignee", scope_key: "coder", platform: "slack", chat_id: "dev" });
    await b.addNotifyRule({ scope: "assignee", scope_key: "writer", platform: "discord", chat_id: "docs" });
    const t = await b.createTask({ title: "x", assignee: "coder", initial_status: "blocked" });
    expect(await subsOf(b, t.id)).toEqual(["slack:dev", "webhook:ops"]);
    for (const s of await b.listNotifySubs(t.id)) expect(s.last_event_id).toBe(await maxEventId(b, t.id));
    const u = await b.createTask({ title: "unassigned" });
    expect(await subsOf(b, u.id)).toEqual(["webhook:ops"]);
  });

  it("assigning a card to a profile gives it that profile's rules (not again the board's)", async () => {
    const b = board();
    const t = await b.createTask({ title: "x" });
    await b.addNotifyRule({ scope: "board", platform: "webhook", chat_id: "ops" });
    await b.addNotifyRule({ scope: "assignee", scope_key: "coder", platform: "slack", chat_id: "dev" });
    expect(await subsOf(b, t.id)).toEqual([]);
    await b.assignTask(t.id, "Coder");
    expect(await subsOf(b, t.id)).toEqual(["slack:dev"]);
    const sub = (await b.listNotifySubs(t.id))[0];
    expect(sub?.last_event_id).toBe(await maxEventId(b, t.id));
    // Through the drawer's patch too (one verb): reassigning away keeps it, a second profile adds its own.
    await b.addNotifyRule({ scope: "assignee", scope_key: "writer", platform: "discord", chat_id: "docs" });
    await b.patchTask(t.id, { assignee: "writer" });
    expect(await subsOf(b, t.id)).toEqual(["discord:docs", "slack:dev"]);
  });

  it("a tenant's rule matches only that tenant's cards; an operator's rule every card", async () => {
    const b = board();
    await b.addNotifyRule({ scope: "board", platform: "slack", chat_id: "ops" });
    await scopeBoard(b, { tenant: "acme" }).addNotifyRule({ scope: "board", platform: "slack", chat_id: "acme" });
    const a = await b.createTask({ title: "a", tenant: "acme" });
    const g = await b.createTask({ title: "g", tenant: "globex" });
    const o = await b.createTask({ title: "o" });
    expect(await subsOf(b, a.id)).toEqual(["slack:acme", "slack:ops"]);
    expect(await subsOf(b, g.id)).toEqual(["slack:ops"]);
    expect(await subsOf(b, o.id)).toEqual(["slack:ops"]);
  });

  it("a hand-made subscription on the same key is left as it was", async () => {
    const b = board();
    const t = await b.createTask({ title: "x", assignee: "alice" });
    await b.addNotifySub({ task_id: t.id, platform: "slack", chat_id: "dev", delivery_mode: "wake" });
    await b.addNotifyRule({ scope: "assignee", scope_key: "bob", platform: "slack", chat_id: "dev" });
    await b.assignTask(t.id, "bob");
    expect((await b.listNotifySubs(t.id)).map((s) => s.delivery_mode)).toEqual(["wake"]);
  });

  it("a card a worker creates follows its owning card's subscriptions, within the tenant", async () => {
    const b = board();
    const owner = await b.createTask({ title: "owner", assignee: "lead" });
    await b.addNotifySub({ task_id: owner.id, platform: "telegram", chat_id: "me" });
    const child = await b.createTask({ title: "follow-up", owner_task_id: owner.id });
    expect(await subsOf(b, child.id)).toEqual(["telegram:me"]);
    // A tenant's owner never streams to another tenant's card.
    const acmeOwner = await b.createTask({ title: "acme owner", tenant: "acme" });
    await b.addNotifySub({ task_id: acmeOwner.id, platform: "telegram", chat_id: "acme-chat" });
    const globex = await b.createTask({ title: "g", tenant: "globex", owner_task_id: acmeOwner.id });
    expect(await subsOf(b, globex.id)).toEqual([]);
  });

  it("without rules, a create writes no subscription", async () => {
    const b = board();
    const t = await b.createTask({ title: "plain", assignee: "coder" });
    expect(await subsOf(b, t.id)).toEqual([]);
  });
});
