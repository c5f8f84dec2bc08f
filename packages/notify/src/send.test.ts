import { afterEach, describe, expect, it } from "vitest";
import { type Channel, type NotifyMessage, verifySignature } from "./channels.ts";
import { redact, sendNotification } from "./send.ts";
import { deadUrl, startReceiver, type TestReceiver } from "./testing.ts";

const SECRET = "hmac-key-0123456789abcdef";

const message: NotifyMessage = {
  board: "default",
  task: { id: "t_abc", title: "Ship it", status: "blocked", assignee: "alice" },
  event: { id: 42, kind: "blocked", created_at: 1_700_000_000, payload: { reason: "need a key" } },
  headline: "[default] @alice Kanban t_abc blocked: need a key",
  text: "[default] @alice Kanban t_abc blocked: need a key\nNext: answer, then `kanban unblock t_abc`.",
  needs_you: true,
  link: "http://board.example:3000/?task=t_abc",
};

const receivers: TestReceiver[] = [];
afterEach(async () => {
  for (const r of receivers.splice(0)) await r.close();
});
async function receiver(): Promise<TestReceiver> {
  const r = await startReceiver();
  receivers.push(r);
  return r;
}

const opts = { deliveryId: "default.42.abcd", timestampSeconds: 1_700_000_001 };

describe("sendNotification against real local receivers", () => {
  it("webhook: the signed JSON body, verified by the receiver with the shared secret", async () => {
    const r = await receiver();
    const ch: Channel = { name: "ops", type: "webhook", url: r.url, secret: SECRET };
    const res = await sendNotification(ch, message, opts);
    expect(res).toMatchObject({ outcome: "delivered", status: 200, error: null });
    const got = r.received[0];
    expect(got?.json).toEqual({
      event: message.event,
      task: message.task,
      message: message.text,
      needs_you: true,
      board: "default",
      link: message.link,
    });
    expect(verifySignature(SECRET, got?.body ?? "", got?.headers["x-kanban-signature"] as string)).toBe(true);
    expect(verifySignature("another-key-entirely", got?.body ?? "", got?.headers["x-kanban-signature"] as string)).toBe(
      false,
    );
    expect(verifySignature(SECRET, `${got?.body} `, got?.headers["x-kanban-signature"] as string)).toBe(false);
    expect(got?.headers["x-kanban-delivery"]).toBe("default.42.abcd");
    expect(got?.headers["x-kanban-timestamp"]).toBe("1700000001");
  });

  it("slack gets {text, blocks} and discord {content, embeds}, both marked 'needs you' with the link", async () => {
    const r = await receiver();
    await sendNotification({ name: "s", type: "slack", url: r.url }, message, opts);
    await sendNotification({ name: "d", type: "discord", url: r.url }, message, opts);
    const [slack, discord] = r.received.map((x) => x.json);
    expect(slack?.text).toMatch(/^\[needs you\] \[default\] @alice Kanban t_abc blocked/);
    expect(slack?.text).toContain(message.link);
    expect(JSON.stringify(slack?.blocks)).toContain("<http://board.example:3000/?task=t_abc|Open t_abc>");
    expect(discord?.content).toMatch(/^\[needs you\] /);
    expect(discord?.embeds).toEqual([
      expect.objectContaining({ url: message.link, title: `[needs you] ${message.headline}` }),
    ]);
    // no signature without a secret, and never for slack/discord
    expect(r.received.every((x) => x.headers["x-kanban-signature"] === undefined)).toBe(true);
  });

  it("a non-2xx answer is a counted failure whose error never holds the URL or secret", async () => {
    const r = await receiver();
    r.answer = () => 500;
    const ch: Channel = { name: "ops", type: "webhook", url: r.url, secret: SECRET };
    const res = await sendNotification(ch, message, opts);
    expect(res.outcome).toBe("failed");
    expect(res.status).toBe(500);
    expect(res.error).toBe("HTTP 500: receiver says no");
  });

  it("connection refused and timeouts are network errors, named by code only", async () => {
    const url = await deadUrl();
    const res = await sendNotification({ name: "x", type: "slack", url }, message, opts);
    expect(res).toMatchObject({ outcome: "network", status: null, error: "network error: ECONNREFUSED" });
    expect(res.error).not.toContain("127.0.0.1");

    const r = await receiver();
    // an answer that never comes
    const slow = await sendNotification({ name: "y", type: "webhook", url: r.url, timeout_seconds: 0.2 }, message, {
      ...opts,
      fetch: (() => new Promise(() => {})) as unknown as typeof fetch,
    });
    expect(slow.outcome).toBe("network");
    const hung = await sendNotification({ name: "y", type: "webhook", url: r.url, timeout_seconds: 0.2 }, message, {
      ...opts,
      fetch: ((_u: string, init: RequestInit) =>
        new Promise((_res, rej) => init.signal?.addEventListener("abort", () => rej(init.signal?.reason)))) as never,
    });
    expect(hung).toMatchObject({ outcome: "network", error: "timed out after 0.2s" });
  });

  it("redact removes the URL, its path and the secret from any text", () => {
    const ch = { url: "https://hooks.example.com/services/T1/B2/XyZsecretPart", secret: SECRET };
    const text = `posting to https://hooks.example.com/services/T1/B2/XyZsecretPart failed; path /services/T1/B2/XyZsecretPart key ${SECRET}`;
    const out = redact(text, ch);
    expect(out).not.toContain("XyZsecretPart");
    expect(out).not.toContain(SECRET);
  });
});
