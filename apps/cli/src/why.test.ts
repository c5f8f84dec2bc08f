import { type RunningServer, silentLogger, startServer } from "@kanban/api";
import { afterEach, describe, expect, it } from "vitest";
import { cli, cliJson, createdId, type TempHome, tempHome } from "./testing/harness.ts";

/**
 * `kanban why <id>` (text and --json), locally (in-process API) and against a real `kanban serve` on
 * an ephemeral loopback port: the motion's line, next action and code, the same as `tasks.why`.
 */
let h: TempHome | null = null;
let server: RunningServer | null = null;

afterEach(async () => {
  await server?.close();
  server = null;
  h?.cleanup();
  h = null;
});

describe.each(["local", "remote"] as const)("kanban why (%s)", (mode) => {
  async function setUp() {
    h = tempHome({ profiles: { coder: { command: ["true"] } } });
    if (mode === "remote") {
      server = await startServer({ host: "127.0.0.1", port: 0, location: { home: h.home }, logger: silentLogger });
      h.env.KANBAN_URL = server.url;
    }
    return h;
  }

  it("prints the line, the next action and the code; --json the whole motion", async () => {
    const { env } = await setUp();
    const parent = createdId((await cli(["create", "Design the export format", "--assignee", "coder"], env)).out);
    const child = createdId((await cli(["create", "Implement", "--assignee", "coder", "--parent", parent], env)).out);
    const text = await cli(["why", child], env);
    expect(text.err).toBe("");
    expect(text.code).toBe(0);
    expect(text.out).toBe(
      [
        `Waiting on 1 parent: "Design the export format" (${parent}, ready).`,
        "next: It becomes ready by itself when they are done (or archived); finish or unlink them.",
        "code: waiting_on_parents",
      ].join("\n"),
    );
    const json = await cliJson<Record<string, unknown>>(["why", child], env);
    expect(json).toEqual({
      moving: false,
      code: "waiting_on_parents",
      line: `Waiting on 1 parent: "Design the export format" (${parent}, ready).`,
      next: "It becomes ready by itself when they are done (or archived); finish or unlink them.",
      detail: { parents: [{ id: parent, title: "Design the export format", status: "ready" }], hidden_parents: 0 },
    });
    // No dispatcher runs for this home: the parent itself says so.
    const ready = await cliJson<{ code: string; line: string }>(["why", parent], env);
    expect(ready.code).toBe("no_dispatcher");
    const loose = createdId((await cli(["create", "loose"], env)).out);
    expect((await cli(["why", loose], env)).out.split("\n")[0]).toBe(
      "Ready, but nobody is assigned: the dispatcher only starts workers for assigned tasks.",
    );
  });

  it("an unknown task is one line and exit 1; a missing id is usage (exit 2)", async () => {
    const { env } = await setUp();
    const r = await cli(["why", "t_0123456789"], env);
    expect([r.code, r.out, r.err]).toEqual([1, "", "kanban: no such task: t_0123456789"]);
    expect((await cli(["why"], env)).code).toBe(2);
  });
});
