import { deadUrl, startReceiver } from "@kanban/notify/testing";
import { describe, expect, it } from "vitest";
import { recordingEnv, startBin, useBinHomes, waitFor } from "../../test/helpers.ts";

/**
 * The real `kanban-dispatcher` bin delivers notify subscriptions on its own timer
 * (`kanban.notify_interval_seconds`), beside its ticks, and never says a channel's URL or secret.
 */
const setup = useBinHomes();
const SECRET = "whsec-loop-test-0123456789";

describe("kanban-dispatcher notifies", { timeout: 60_000 }, () => {
  it("a blocked card's subscriber hears about it through the configured webhook", async () => {
    const r = await startReceiver();
    const dead = await deadUrl();
    try {
      const h = setup({
        kanban: { notify_interval_seconds: 0.2, public_url: "http://board.example:3000" },
        notify_channels: {
          ops: { type: "webhook", url: r.url, secret: SECRET },
          gone: { type: "slack", url: dead },
        },
      });
      const b = h.board();
      const t = (await b.createTask({ title: "needs a decision" })).id;
      await b.addNotifySub({ task_id: t, platform: "webhook", chat_id: "ops" });
      await b.addNotifySub({ task_id: t, platform: "slack", chat_id: "gone" });
      const d = startBin([], recordingEnv(h));
      await b.blockTask(t, { reason: "which database?" });
      await waitFor(() => r.received.length > 0, "the webhook to be called", 20_000);
      expect(r.received[0]?.json).toMatchObject({ needs_you: true, task: { id: t }, event: { kind: "blocked" } });
      await waitFor(
        async () => (await b.listNotifyDeliveries({ task_id: t })).some((x) => x.outcome === "network"),
        "the dead channel's attempt to be logged",
        20_000,
      );
      d.child.kill("SIGTERM");
      expect((await d.exited).code).toBe(0);
      const said = d.stderr() + d.stdout();
      expect(said).toContain("network error: ECONNREFUSED");
      for (const secret of [r.url, new URL(r.url).pathname, dead, new URL(dead).pathname, SECRET])
        expect(said).not.toContain(secret);
    } finally {
      await r.close();
    }
  });
});
