import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  api,
  baseUrl,
  type Browser,
  captureOnFailure,
  card,
  freshBoard,
  launch,
  noPageErrors,
  openBoard,
  shot,
  waitUntil,
} from "./helpers.ts";

// Issue 17: the board's own desktop notifications, and subscriptions from the drawer and the bell.

interface Recorded {
  title: string;
  body: string;
  tag: string;
}

let b: Browser;
beforeAll(async () => {
  b = await launch();
  await b.context.grantPermissions(["notifications"], { origin: baseUrl() });
  // Every Notification the page constructs is kept (and can be clicked) where the test can read it.
  await b.context.addInitScript(() => {
    const Real = window.Notification;
    const seen: Notification[] = [];
    (window as unknown as { __notifications: Notification[] }).__notifications = seen;
    class Recording extends Real {
      constructor(title: string, options?: NotificationOptions) {
        super(title, options);
        seen.push(this);
      }
    }
    window.Notification = Recording as typeof Notification;
  });
});
afterAll(async () => {
  await b?.close();
});

describe("desktop notifications", () => {
  it("a card subscribed from the drawer shows a 'needs you' notification when it is blocked; a click opens it", async () => {
    captureOnFailure(b, "desktop-notification-on-block");
    const board = await freshBoard("notify");
    const t = (await api().tasks.create.mutate({ board, title: "Rotate the signing keys", assignee: "ops" })).task;
    const page = await openBoard(b, board);
    await card(page, t.id).click();
    const section = page.getByTestId("drawer").getByTestId("notifications");
    await section.getByText("Nobody is notified about this card.").waitFor();
    await section.getByTestId("notify-add-platform").selectOption("desktop");
    await section.getByTestId("notify-add").click();
    await section.getByTestId("notify-sub-desktop").getByText("This browser (desktop)").waitFor();
    const subs = (await api().notify.list.query({ board, task_id: t.id })).subscriptions;
    expect(subs.map((s) => [s.platform, s.chat_id])).toEqual([["desktop", "board"]]);

    await page.getByTestId("drawer-close").click();
    await api().tasks.block.mutate({ board, id: t.id, reason: "needs the new HSM password" });
    const seen: Recorded[] =
      (await waitUntil(
        async () => {
          const list = await page.evaluate(() =>
            (window as unknown as { __notifications: Notification[] }).__notifications.map((n) => ({
              title: n.title,
              body: n.body,
              tag: n.tag,
            })),
          );
          return list.length > 0 ? (list as Recorded[]) : undefined;
        },
        10_000,
        "a desktop notification",
      )) ?? [];
    expect(seen).toHaveLength(1);
    expect(seen[0]?.title).toBe("Needs you · Rotate the signing keys");
    expect(seen[0]?.body).toBe("Blocked: needs the new HSM password. Answer in a comment, then unblock it.");

    // Clicking the notification opens the card's drawer.
    await page.evaluate(() => {
      const n = (window as unknown as { __notifications: Notification[] }).__notifications[0];
      n?.onclick?.(new Event("click"));
    });
    await page.locator(`[data-testid="drawer"][data-task-id="${t.id}"]`).waitFor();
    await page.getByTestId("drawer").getByTestId("notifications").scrollIntoViewIfNeeded();
    await shot(page, "notifications");

    // Removing the subscription from the drawer stops the notifications.
    await page.getByTestId("notify-sub-remove-desktop").click();
    await page.getByTestId("drawer").getByText("Nobody is notified about this card.").waitFor();
    await api().tasks.unblock.mutate({ board, id: t.id });
    await api().tasks.block.mutate({ board, id: t.id, reason: "again" });
    await waitUntil(
      async () => (await api().tasks.get.query({ board, id: t.id })).task.status === "blocked",
      5000,
      "the second block",
    );
    // The board has reloaded past the event (the card shows blocked) and still nothing new was shown.
    await card(page, t.id).waitFor();
    await page.waitForTimeout(500);
    const count = await page.evaluate(
      () => (window as unknown as { __notifications: Notification[] }).__notifications.length,
    );
    expect(count).toBe(1);
    noPageErrors(b);
  });

  it("a board rule added from the bell subscribes a card created afterwards", async () => {
    captureOnFailure(b, "board-rule-from-bell");
    const board = await freshBoard("notify-rule");
    // A profile no dispatcher runs (so its cards stay where the test puts them), known to the board.
    await api().tasks.create.mutate({ board, title: "Earlier card", assignee: "scribe" });
    const page = await openBoard(b, board);
    await page.getByTestId("notify-bell").click();
    const menu = page.getByTestId("notify-menu");
    await menu.getByText("No rules: only cards subscribed one by one notify anyone.").waitFor();
    await menu.getByTestId("notify-rule-scope").selectOption("board");
    await menu.getByTestId("notify-rule-platform").selectOption("slack");
    await menu.getByTestId("notify-rule-chat").fill("ops-alerts");
    await menu.getByTestId("notify-rule-add").click();
    await menu.getByText("Every card → slack ops-alerts").waitFor();
    const { rules } = await api().notify.rules.query({ board });
    expect(rules.map((r) => [r.scope, r.platform, r.chat_id])).toEqual([["board", "slack", "ops-alerts"]]);

    const t = (await api().tasks.create.mutate({ board, title: "Renew the TLS certificate" })).task;
    const subs = (await api().notify.list.query({ board, task_id: t.id })).subscriptions;
    expect(subs.map((s) => [s.platform, s.chat_id])).toEqual([["slack", "ops-alerts"]]);
    await page.keyboard.press("Escape");
    await card(page, t.id).click();
    await page.getByTestId("drawer").getByTestId("notify-sub-slack").getByText("slack ops-alerts").waitFor();

    // The rule is removed from the bell; the card keeps its own subscription.
    await page.getByTestId("drawer-close").click();
    await page.getByTestId("notify-bell").click();
    await page.getByTestId(`notify-rule-remove-${rules[0]?.id}`).click();
    await page
      .getByTestId("notify-menu")
      .getByText("No rules: only cards subscribed one by one notify anyone.")
      .waitFor();
    expect((await api().notify.rules.query({ board })).rules).toEqual([]);

    // A desktop rule for one assignee: a card of that profile created afterwards notifies this browser
    // (the tab learns of its new subscription only from the rule), another profile's card does not.
    const before = await page.evaluate(
      () => (window as unknown as { __notifications: Notification[] }).__notifications.length,
    );
    const m = page.getByTestId("notify-menu");
    await m.getByTestId("notify-rule-scope").selectOption("assignee:scribe");
    await m.getByTestId("notify-rule-platform").selectOption("desktop");
    await m.getByTestId("notify-rule-add").click();
    await m.getByText("Cards of scribe → This browser (desktop)").waitFor();
    const other = (await api().tasks.create.mutate({ board, title: "Someone else's", assignee: "clerk" })).task;
    const mine = (await api().tasks.create.mutate({ board, title: "Write the changelog", assignee: "scribe" })).task;
    await api().tasks.block.mutate({ board, id: other.id, reason: "not mine" });
    await api().tasks.block.mutate({ board, id: mine.id, reason: "which release?" });
    const since = async () =>
      (
        await page.evaluate(() =>
          (window as unknown as { __notifications: Notification[] }).__notifications.map((n) => n.title),
        )
      ).slice(before);
    await waitUntil(async () => (await since()).length > 0, 10_000, "the rule's desktop notification");
    // Long enough for the other card's block to have been judged too.
    await page.waitForTimeout(500);
    const titles = await since();
    expect(titles).toEqual(["Needs you · Write the changelog"]);
    noPageErrors(b);
  });
});
