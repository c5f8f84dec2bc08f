import { describe, expect, it } from "vitest";
import { attentionItems, stripVisible } from "./attention.ts";
import type { DiagnosticData, FlaggedTask } from "./types.ts";

function diag(severity: DiagnosticData["severity"], last: number, title = severity): DiagnosticData {
  return {
    kind: "repeated_failures",
    severity,
    title,
    detail: "",
    actions: [],
    first_seen_at: last,
    last_seen_at: last,
    count: 1,
    run_id: null,
    data: {},
  };
}

function flagged(id: string, ...diagnostics: DiagnosticData[]): FlaggedTask {
  return { task_id: id, task_title: `title ${id}`, task_status: "ready", task_assignee: null, diagnostics };
}

describe("attentionItems", () => {
  it("sorts by the worst severity, then by the most recent diagnostic", () => {
    const items = attentionItems([
      flagged("a", diag("warning", 50)),
      flagged("b", diag("error", 10)),
      flagged("c", diag("warning", 90)),
      flagged("d", diag("critical", 5), diag("warning", 100)),
      flagged("e", diag("error", 20)),
    ]);
    expect(items.map((i) => i.task_id)).toEqual(["d", "e", "b", "c", "a"]);
    expect(items[0]).toMatchObject({ severity: "critical", reason: "critical", count: 2, latest_at: 100 });
  });
  it("skips a task without diagnostics", () => {
    expect(attentionItems([flagged("x")])).toEqual([]);
  });
});

describe("stripVisible", () => {
  it("shows when something is flagged and nothing was dismissed", () => {
    expect(stripVisible(["a"], null)).toBe(true);
    expect(stripVisible([], null)).toBe(false);
  });
  it("stays hidden after dismissal until a new task is flagged", () => {
    expect(stripVisible(["a", "b"], ["a", "b"])).toBe(false);
    expect(stripVisible(["a"], ["a", "b"])).toBe(false);
    expect(stripVisible(["a", "c"], ["a", "b"])).toBe(true);
  });
});
