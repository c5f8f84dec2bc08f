import { describe, expect, it } from "vitest";
import {
  boardIdsHref,
  costPerDoneByModel,
  costPerDoneByProfile,
  dayRange,
  drillParam,
  duration,
  MAX_LINKED_IDS,
  matchesDrill,
  money,
  parseDrill,
  parseIds,
  parseWindow,
  percent,
  windowSince,
} from "./analytics.ts";

const group = (key: string | null, cost: number, unpriced = 0) => ({ key, cost_micro_usd: cost, unpriced });

describe("the analytics window", () => {
  it("takes 7d, 30d or 90d from the URL and falls back to 30d", () => {
    expect(parseWindow("7d")).toBe("7d");
    expect(parseWindow("90d")).toBe("90d");
    expect(parseWindow("12d")).toBe("30d");
    expect(parseWindow(null)).toBe("30d");
  });

  it("starts that many days before now, on a whole minute", () => {
    const now = 1_800_000_059;
    expect(windowSince(now, "7d")).toBe(1_800_000_000 - 7 * 86_400);
    expect(windowSince(now, "30d") % 60).toBe(0);
    expect(now - windowSince(now, "30d")).toBeLessThan(30 * 86_400 + 60);
    expect(now - windowSince(now, "30d")).toBeGreaterThanOrEqual(30 * 86_400);
  });
});

describe("units", () => {
  it("names its unit on every duration", () => {
    expect(duration(null)).toBe("—");
    expect(duration(45)).toBe("45s");
    expect(duration(90)).toBe("1.5m");
    expect(duration(3600)).toBe("1h");
    expect(duration(2 * 3600 + 30 * 60)).toBe("2.5h");
    expect(duration(3 * 86_400)).toBe("3d");
    expect(duration(-5)).toBe("0s");
  });

  it("shows dollars with cents, further digits only when they count", () => {
    expect(money(1_500_000)).toBe("$1.50");
    expect(money(12_500)).toBe("$0.0125");
    expect(money(0)).toBe("$0.00");
    expect(money(1_234_000_000)).toBe("$1,234.00");
  });

  it("rates as whole percentages", () => {
    expect(percent(0.67)).toBe("67%");
    expect(percent(1)).toBe("100%");
    expect(percent(null)).toBe("—");
  });
});

describe("cost per done card", () => {
  it("divides a profile's cost by the runs of that profile that completed", () => {
    const rows = costPerDoneByProfile(
      [group("coder", 6_000_000), group("reviewer", 1_000_000, 2), group(null, 500_000)],
      [
        { profile: "coder", completed: 3 },
        { profile: "reviewer", completed: 0 },
      ],
    );
    expect(rows).toEqual([
      { key: "coder", cost_micro_usd: 6_000_000, unpriced: 0, done: 3, per_done_micro_usd: 2_000_000 },
      { key: "reviewer", cost_micro_usd: 1_000_000, unpriced: 2, done: 0, per_done_micro_usd: null },
      { key: "(none)", cost_micro_usd: 500_000, unpriced: 0, done: 0, per_done_micro_usd: null },
    ]);
  });

  it("divides a model's cost by every card done in the window, so the rows add up", () => {
    const rows = costPerDoneByModel([group("sonnet", 3_000_000), group("haiku", 1), group(null, 0)], 4);
    expect(rows.map((r) => [r.key, r.per_done_micro_usd])).toEqual([
      ["sonnet", 750_000],
      ["haiku", 0],
      ["(unknown model)", 0],
    ]);
    expect(costPerDoneByModel([group("sonnet", 5)], 0)[0]?.per_done_micro_usd).toBeNull();
  });
});

describe("drill-downs", () => {
  it("round-trip through the URL and refuse anything else", () => {
    for (const d of [
      { kind: "day", day: "2026-12-01" },
      { kind: "ready" },
      { kind: "blocked", reason: "needs_input" },
      { kind: "profile", profile: "coder" },
    ] as const)
      expect(parseDrill(drillParam(d))).toEqual(d);
    expect(parseDrill("day:yesterday")).toBeNull();
    expect(parseDrill("blocked:")).toBeNull();
    expect(parseDrill("nonsense")).toBeNull();
    expect(parseDrill(null)).toBeNull();
  });

  it("a day's bar stands for the cards done within that UTC day", () => {
    const { since, until } = dayRange("2026-12-01");
    expect(until - since).toBe(86_400);
    const d = { kind: "day", day: "2026-12-01" } as const;
    const card = (status: string, completed_at: number | null) => ({ status, assignee: null, completed_at });
    expect(matchesDrill(card("done", since), d)).toBe(true);
    expect(matchesDrill(card("done", until - 1), d)).toBe(true);
    expect(matchesDrill(card("done", until), d)).toBe(false);
    expect(matchesDrill(card("review", since + 5), d)).toBe(false);
  });

  it("a ready or profile drill goes by the card's status or assignee", () => {
    const card = (status: string, assignee: string | null) => ({ status, assignee, completed_at: null });
    expect(matchesDrill(card("ready", null), { kind: "ready" })).toBe(true);
    expect(matchesDrill(card("blocked", null), { kind: "ready" })).toBe(false);
    expect(matchesDrill(card("running", "coder"), { kind: "profile", profile: "coder" })).toBe(true);
    expect(matchesDrill(card("running", null), { kind: "profile", profile: "(none)" })).toBe(true);
    expect(matchesDrill(card("blocked", null), { kind: "blocked", reason: "untyped" })).toBe(false);
  });

  it("links the board to the picked cards, and the board reads them back", () => {
    expect(boardIdsHref("ops", [])).toBeNull();
    const href = boardIdsHref("ops", ["t_1", "t_2"]) as string;
    expect(href).toBe("/?board=ops&ids=t_1%2Ct_2");
    const ids = parseIds(new URLSearchParams(href.slice(2)).get("ids"));
    expect(ids).toEqual(new Set(["t_1", "t_2"]));
    expect(parseIds(null)).toBeNull();
    expect(parseIds(" , ")).toBeNull();
    const many = Array.from({ length: MAX_LINKED_IDS + 5 }, (_, i) => `t_${i}`);
    expect(parseIds(new URLSearchParams((boardIdsHref(null, many) as string).slice(2)).get("ids"))?.size).toBe(
      MAX_LINKED_IDS,
    );
  });
});
