import { type RunningServer, silentLogger, startServer } from "@kanban/api";
import { boardLocationFromEnv } from "@kanban/db";
import { openBoard } from "@kanban/kernel";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { cli, cliJson, createdId, type TempHome, tempHome } from "./testing/harness.ts";

/**
 * `kanban incidents [--all] [--json]` and `kanban incidents resume <id>` (issue 17, incident
 * folding), in local mode (the in-process API) and remote mode (a real `kanban serve`).
 */
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

interface Incident {
  id: number;
  scope_key: string;
  failures: number;
  open: boolean;
  closed_by: string | null;
}

/** Three cards of `coder` whose spawns fail the same way: the board opens one incident. */
async function outage(env: Record<string, string | undefined>): Promise<void> {
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) {
    const r = await cli(["create", `card ${i}`, "--assignee", "coder"], env);
    expect(r.code, r.err).toBe(0);
    ids.push(createdId(r.out));
  }
  const board = openBoard({ location: boardLocationFromEnv(h.env), warn: () => {} });
  try {
    for (const id of ids) {
      await board.claimTask(id);
      await board.recordTaskFailure(id, {
        error: "HTTP 503 Service Unavailable",
        outcome: "crashed",
        releaseClaim: true,
      });
    }
  } finally {
    board.close();
  }
}

describe.each(["local", "remote"] as const)("%s mode", (mode) => {
  const env = () => (mode === "remote" ? { ...h.env, KANBAN_URL: server.url } : h.env);

  it("lists the open incident, resumes it, then lists it only with --all; unknown ids are refused", async () => {
    expect((await cli(["incidents"], env())).out).toContain("no open incidents");
    await outage(env());
    const { incidents } = await cliJson<{ incidents: Incident[] }>(["incidents"], env());
    expect(incidents.map((i) => [i.scope_key, i.failures, i.open])).toEqual([["coder", 3, true]]);
    const id = incidents[0]?.id as number;
    const text = await cli(["incidents"], env());
    expect(text.code, text.err).toBe(0);
    expect(text.out).toMatch(new RegExp(`#${id}\\s+paused\\s+profile coder\\s+spawn_failed\\s+3\\s+3`));
    expect(text.out).toContain("kanban incidents resume <id>");

    const resumed = await cli(["incidents", "resume", String(id)], env());
    expect(resumed.code, resumed.err).toBe(0);
    expect(resumed.out).toContain(`Resumed incident #${id}: profile coder runs again.`);
    expect((await cliJson<{ incidents: Incident[] }>(["incidents"], env())).incidents).toEqual([]);
    const all = await cliJson<{ incidents: Incident[] }>(["incidents", "--all"], env());
    expect(all.incidents.map((i) => [i.id, i.open, i.closed_by])).toEqual([[id, false, "person:user"]]);

    const again = await cli(["incidents", "resume", String(id)], env());
    expect(again.code).not.toBe(0);
    expect(again.err).toContain(`incident ${id} is already closed`);
    const unknown = await cli(["incidents", "resume", "999"], env());
    expect(unknown.code).not.toBe(0);
    expect(unknown.err).toContain("incident 999 not found");
    const bad = await cli(["incidents", "stop", String(id)], env());
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("unknown action 'stop'");
  });
});
