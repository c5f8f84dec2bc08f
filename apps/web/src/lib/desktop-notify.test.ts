import { describe, expect, it } from "vitest";
import { DESKTOP_KINDS, desktopMessage, desktopTaskIds, NEEDS_YOU_KINDS } from "./desktop-notify.ts";

describe("desktop notifications", () => {
  it("marks the kinds that need a person, with what happened and the next action", () => {
    const m = desktopMessage(
      { id: 7, task_id: "t_1", kind: "blocked", payload: { reason: "need the API key\nmore" } },
      "Ship it",
    );
    expect(m).toEqual({
      title: "Needs you · Ship it",
      body: "Blocked: need the API key. Answer in a comment, then unblock it.",
      needsYou: true,
      tag: "kanban-t_1-7",
    });
    for (const kind of NEEDS_YOU_KINDS) expect(desktopMessage({ id: 1, task_id: "t", kind }, "x")?.needsYou).toBe(true);
  });

  it("says done for a completion, and nothing for other kinds or events without a task", () => {
    expect(
      desktopMessage({ id: 2, task_id: "t_1", kind: "completed", payload: { summary: "all green" } }, "A"),
    ).toMatchObject({ title: "Done · A", body: "Done: all green", needsYou: false });
    expect(desktopMessage({ id: 3, task_id: "t_1", kind: "commented" }, "A")).toBeNull();
    expect(desktopMessage({ id: 4, task_id: null, kind: "blocked" }, "A")).toBeNull();
    expect(DESKTOP_KINDS).toContain("completed");
  });

  it("watches only the cards with a desktop subscription", () => {
    const ids = desktopTaskIds([
      { task_id: "a", platform: "desktop" },
      { task_id: "b", platform: "slack" },
    ]);
    expect([...ids]).toEqual(["a"]);
  });
});
