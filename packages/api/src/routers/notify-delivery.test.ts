import { verifySignature } from "@kanban/notify";
import { deadUrl, startReceiver, type TestReceiver } from "@kanban/notify/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createTestApi, type TestApi } from "../testing.ts";

// Issue 17: `notifyDelivery.test` sends a test message through a configured channel now;
// `notifyDelivery.log` reads the delivery log. A channel's URL and secret never come back.

const SECRET = "whsec-api-test-0123456789";

describe("notifyDelivery through the API", () => {
  let t: TestApi;
  let r: TestReceiver;
  let dead: string;
  beforeEach(async () => {
    r = await startReceiver();
    dead = await deadUrl();
    t = createTestApi({
      config: {
        kanban: { public_url: "http://board.example:3000" },
        notify_channels: {
          ops: { type: "webhook", url: r.url, secret: SECRET },
          down: { type: "slack", url: dead },
        },
      },
    });
  });
  afterEach(async () => {
    await t.cleanup();
    await r.close();
  });

  it("test: sends a signed test message now, returns the outcome and logs it", async () => {
    const { task } = await t.api.tasks.create({ title: "Ship it", assignee: "alice" });
    const res = await t.api.notifyDelivery.test({ task_id: task.id, platform: "webhook", chat_id: "ops" });
    expect(res).toMatchObject({ ok: true, outcome: "delivered", http_status: 200, error: null });
    const got = r.received[0];
    expect(verifySignature(SECRET, got?.body ?? "", got?.headers["x-kanban-signature"] as string)).toBe(true);
    expect(got?.json).toMatchObject({
      event: null,
      needs_you: false,
      link: `http://board.example:3000/?board=default&task=${task.id}`,
      task: { id: task.id, title: "Ship it" },
    });
    expect(got?.headers["x-kanban-delivery"]).toBe(res.delivery_id);
    const { deliveries } = await t.api.notifyDelivery.log({ task_id: task.id });
    expect(deliveries.map((d) => [d.kind, d.outcome, d.http_status, d.error])).toEqual([["test", "test", 200, null]]);
  });

  it("test: a dead channel is a failed outcome with a readable error and no URL", async () => {
    const { task } = await t.api.tasks.create({ title: "x" });
    const res = await t.api.notifyDelivery.test({ task_id: task.id, platform: "slack", chat_id: "down" });
    expect(res).toMatchObject({ ok: false, outcome: "network", error: "network error: ECONNREFUSED" });
    const everything = JSON.stringify([res, await t.api.notifyDelivery.log({}), t.logger.lines]);
    expect(everything).not.toContain(dead);
    expect(everything).not.toContain(new URL(dead).pathname);
    expect(everything).not.toContain(new URL(r.url).pathname);
  });

  it("test: refuses an unknown channel, a wrong type and a platform without channels, as typed errors", async () => {
    const { task } = await t.api.tasks.create({ title: "x" });
    await expect(
      t.api.notifyDelivery.test({ task_id: task.id, platform: "webhook", chat_id: "nope" }),
    ).rejects.toMatchObject({
      code: "NOT_FOUND",
      message: "no webhook channel named 'nope' in notify_channels (config.json)",
    });
    await expect(
      t.api.notifyDelivery.test({ task_id: task.id, platform: "discord", chat_id: "ops" }),
    ).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(
      t.api.notifyDelivery.test({ task_id: task.id, platform: "desktop", chat_id: "board" }),
    ).rejects.toMatchObject({ code: "BAD_REQUEST" });
    await expect(
      t.api.notifyDelivery.test({ task_id: "t_missing", platform: "webhook", chat_id: "ops" }),
    ).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect(r.received).toHaveLength(0);
  });

  it("a tenant tests and reads only its own tasks", async () => {
    const mine = (await t.api.tasks.create({ title: "m", tenant: "acme" })).task.id;
    const theirs = (await t.api.tasks.create({ title: "t", tenant: "zeta" })).task.id;
    const acme = t.caller("acme");
    await expect(
      acme.notifyDelivery.test({ task_id: theirs, platform: "webhook", chat_id: "ops" }),
    ).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect((await acme.notifyDelivery.test({ task_id: mine, platform: "webhook", chat_id: "ops" })).ok).toBe(true);
    await t.api.notifyDelivery.test({ task_id: theirs, platform: "webhook", chat_id: "ops" });
    expect((await acme.notifyDelivery.log({})).deliveries.map((d) => d.task_id)).toEqual([mine]);
    await expect(acme.notifyDelivery.log({ task_id: theirs })).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect((await t.api.notifyDelivery.log({})).deliveries).toHaveLength(2);
  });
});
