import { type RunningServer, silentLogger, startServer } from "@kanban/api";
import { boardLocationFromEnv } from "@kanban/db";
import { openBoard } from "@kanban/kernel";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { whenArg } from "./commands/flow.ts";
import { cli, cliJson, createdId, type TempHome, tempHome } from "./testing/harness.ts";

/** `kanban stats --flow [--since] [--until] [--json]` (issue 21), local and remote. */
let h: TempHome;
let server: RunningServer;

beforeEach(async () => {
  h = tempHome();
  server = await startServer({ host: "127.0.0.1", port: 0, location: { home: h.home }, logger: silentLogger });
});

afterEach(async () => {
  await server.close();
  h.cleanup();
});

interface Flow {
  since: number;
  until: number;
  done: number;
  throughput: { day: string; done: number }[];
  blocked: { reason: string; episodes: number; open: number }[];
  rework: { runs_per_done_card: number | null };
}

describe("kanban stats --flow", () => {
  it("prints the flow as text and as JSON, locally and through the API, with the same numbers", async () => {
    const done = createdId((await cli(["create", "shipped", "--assignee", "coder"], h.env)).out);
    const stuck = createdId((await cli(["create", "stuck", "--assignee", "coder"], h.env)).out);
    const board = openBoard({ location: boardLocationFromEnv(h.env), warn: () => {} });
    try {
      await board.claimTask(done);
      await board.completeTask(done, { summary: "ok" });
    } finally {
      board.close();
    }
    expect((await cli(["block", stuck, "which key?", "--kind", "needs_input"], h.env)).code).toBe(0);

    const local = await cliJson<Flow>(["stats", "--flow", "--since", "7d"], h.env);
    expect(local.done).toBe(1);
    expect(local.until - local.since).toBeGreaterThanOrEqual(7 * 86_400);
    expect(local.until - local.since).toBeLessThanOrEqual(7 * 86_400 + 5);
    expect(local.throughput.reduce((n, d) => n + d.done, 0)).toBe(1);
    expect(local.blocked).toEqual([expect.objectContaining({ reason: "needs_input", episodes: 1, open: 1 })]);
    expect(local.rework.runs_per_done_card).toBe(1);

    const remote = await cliJson<Flow>(["stats", "--flow", "--since", "7d"], { ...h.env, KANBAN_URL: server.url });
    // An open block and the ready queue are measured against "now", which the two processes read a
    // moment apart (a second boundary can fall between them); everything else must match exactly.
    const timeless = (f: Flow) => ({
      ...f,
      since: 0,
      until: 0,
      blocked: f.blocked.map((b) => ({ ...b, seconds: null })),
      ready_queue: null,
    });
    expect(timeless(remote)).toEqual(timeless(local));
    expect(Math.abs(remote.until - local.until)).toBeLessThanOrEqual(5);

    const text = await cli(["stats", "--flow"], h.env);
    expect(text.code, text.err).toBe(0);
    expect(text.out).toContain("1 card(s) done");
    expect(text.out).toMatch(/Cycle time \(first claim → done\): p50 \d+s/);
    expect(text.out).toMatch(/needs_input\s+1 episode\(s\)\s+1 open/);
    expect(text.out).toMatch(/coder\s+1 run\(s\)\s+100% completed/);
  });

  it("refuses a bad --since (exit 2), a reversed window (exit 1), and --since without --flow, each in one line", async () => {
    const bad = await cli(["stats", "--flow", "--since", "last tuesday"], h.env);
    expect(bad.code).toBe(2);
    expect(bad.err.trim().split("\n")).toHaveLength(1);
    expect(bad.err).toContain("expected 7d, 12h, a date");

    const reversed = await cli(["stats", "--flow", "--since", "2026-11-02", "--until", "2026-11-01"], h.env);
    expect(reversed.code).toBe(1);
    expect(reversed.err.trim().split("\n")).toHaveLength(1);
    expect(reversed.err).toContain("must be before until");

    const alone = await cli(["stats", "--since", "7d"], h.env);
    expect(alone.code).toBe(2);
    expect(alone.err).toContain("--since and --until go with --flow");
  });

  it("reads durations, dates, ISO times and unix seconds", () => {
    expect(whenArg("7d")).toEqual({ ago: 7 * 86_400 });
    expect(whenArg("12h")).toEqual({ ago: 12 * 3600 });
    expect(whenArg("2w")).toEqual({ ago: 14 * 86_400 });
    expect(whenArg("2026-11-01")).toEqual({ at: 1_793_491_200 });
    expect(whenArg("2026-11-01T06:00:00Z")).toEqual({ at: 1_793_491_200 + 6 * 3600 });
    expect(whenArg("1793491200")).toEqual({ at: 1_793_491_200 });
    expect(() => whenArg("soon")).toThrow(/expected 7d/);
  });
});
