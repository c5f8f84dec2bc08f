import { describe, expect, it } from "vitest";
import { attentionItems, type Dismissal, parseDismissal, stripVisible } from "./attention.ts";
import type { AttentionRow, DiagnosticData, FlaggedTask } from "./types.ts";

function diag(severity: DiagnosticData["severity"], last: number, title: string = severity): DiagnosticData {
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

describe("attentionItems (the full list from diagnostics.list, as board.get's rows)", () => {
  it("sorts by the worst severity, then by the most recent diagnostic, then by id", () => {
    const items = attentionItems([
      flagged("a", diag("warning", 50)),
      flagged("b", diag("error", 10)),
      flagged("c", diag("warning", 90)),
      flagged("d", diag("critical", 5), diag("warning", 100)),
      flagged("e", diag("error", 20)),
      flagged("f", diag("error", 20)),
    ]);
    expect(items.map((i) => i.task_id)).toEqual(["d", "e", "f", "b", "c", "a"]);
    expect(items[0]).toMatchObject({ severity: "critical", reason: "critical", count: 2, latest_at: 100 });
  });

  it("makes exactly the compact row board.get sends, nothing of the diagnostics' actions or details", () => {
    const f = flagged("t_1", diag("warning", 7, "Ready for 2h"), diag("error", 3, "Worker crashed 2 times"));
    const row: AttentionRow = {
      task_id: "t_1",
      title: "title t_1",
      status: "ready",
      assignee: null,
      severity: "error",
      reason: "Worker crashed 2 times",
      count: 2,
      latest_at: 7,
    };
    expect(attentionItems([f])).toEqual([row]);
  });

  it("skips a task without diagnostics", () => {
    expect(attentionItems([flagged("x")])).toEqual([]);
  });
});

describe("stripVisible", () => {
  const dismissed = (ids: string[], total = ids.length): Dismissal => ({ ids, total });

  it("shows when something is flagged and nothing was dismissed", () => {
    expect(stripVisible(["a"], 1, null)).toBe(true);
    expect(stripVisible([], 0, null)).toBe(false);
  });

  it("stays hidden after dismissal until a new task is flagged", () => {
    expect(stripVisible(["a", "b"], 2, dismissed(["a", "b"]))).toBe(false);
    expect(stripVisible(["a"], 1, dismissed(["a", "b"]))).toBe(false);
    expect(stripVisible(["a", "c"], 2, dismissed(["a", "b"]))).toBe(true);
  });

  it("past the shown rows, comes back when more tasks are flagged than when dismissed", () => {
    // 100 rows of 250 flagged were dismissed; a new problem ranks past the rows: the total says so.
    const rows = Array.from({ length: 100 }, (_, i) => `t${i}`);
    expect(stripVisible(rows, 250, dismissed(rows, 250))).toBe(false);
    expect(stripVisible(rows, 251, dismissed(rows, 250))).toBe(true);
    // Fixed ones leave the total lower: still dismissed.
    expect(stripVisible(rows, 240, dismissed(rows, 250))).toBe(false);
    // A task that was past the rows and climbs into them was never shown: it is new to the person.
    expect(stripVisible([...rows.slice(1), "t100"], 249, dismissed(rows, 250))).toBe(true);
    // Unless they had opened the whole list before dismissing.
    const all = Array.from({ length: 250 }, (_, i) => `t${i}`);
    expect(stripVisible([...rows.slice(1), "t100"], 249, dismissed(all, 250))).toBe(false);
  });
});

describe("parseDismissal", () => {
  it("reads back what was stored, and a plain list of ids as its own total", () => {
    expect(parseDismissal(JSON.parse(JSON.stringify({ ids: ["a"], total: 3 })))).toEqual({ ids: ["a"], total: 3 });
    expect(parseDismissal(["a", "b", 4])).toEqual({ ids: ["a", "b"], total: 2 });
  });

  it("forgets anything else rather than hiding the strip on a guess", () => {
    for (const raw of [
      null,
      3,
      "a",
      { ids: ["a"] },
      { ids: "a", total: 1 },
      { ids: [], total: -1 },
      { ids: [], total: Number.NaN },
    ]) {
      expect(parseDismissal(raw), JSON.stringify(raw)).toBeNull();
    }
  });
});
