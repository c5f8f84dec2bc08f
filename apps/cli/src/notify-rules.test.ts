import { type RunningServer, silentLogger, startServer } from "@kanban/api";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { cli, cliJson, createdId, type TempHome, tempHome } from "./testing/harness.ts";

/**
 * Issue 17: `kanban notify-subscribe --board-wide / --assignee`, `notify-rules` and
 * `notify-unsubscribe --rule`, locally (in-process API) and against a real server.
 */
let h: TempHome;
let server: RunningServer | null = null;

for (const mode of ["local", "remote"] as const) {
  describe(`notify rules (${mode})`, () => {
    beforeEach(async () => {
      h = tempHome();
      if (mode === "remote") {
        server = await startServer({ host: "127.0.0.1", port: 0, location: { home: h.home }, logger: silentLogger });
        h.env.KANBAN_URL = server.url;
      }
    });
    afterEach(async () => {
      await server?.close();
      server = null;
      h.cleanup();
    });

    it("adds board and assignee rules, new cards get their subscriptions, and a rule is removed by id", async () => {
      const board = await cli(
        ["notify-subscribe", "--board-wide", "--platform", "desktop", "--chat-id", "board"],
        h.env,
      );
      expect(board).toMatchObject({ code: 0, out: "Subscribed desktop:board to every new card (rule 1)" });
      const dev = await cli(
        ["notify-subscribe", "--assignee", "coder", "--platform", "slack", "--chat-id", "dev", "--thread-id", "T1"],
        h.env,
      );
      expect(dev.out).toBe("Subscribed slack:dev:T1 to each card assigned to coder (rule 2)");
      expect((await cli(["notify-rules"], h.env)).out).toBe(
        ["     1  board  desktop:board mode=notify", "     2  assignee=coder  slack:dev:T1 mode=notify"].join("\n"),
      );
      const rules = await cliJson<{ id: number; scope: string; scope_key: string }[]>(
        ["notify-rules", "--json"],
        h.env,
      );
      expect(rules.map((r) => [r.id, r.scope, r.scope_key])).toEqual([
        [1, "board", ""],
        [2, "assignee", "coder"],
      ]);
      const id = createdId((await cli(["create", "watched", "--assignee", "coder"], h.env)).out);
      const subs = await cliJson<{ platform: string; chat_id: string }[]>(["notify-list", id, "--json"], h.env);
      expect(subs.map((s) => `${s.platform}:${s.chat_id}`).sort()).toEqual(["desktop:board", "slack:dev"]);
      expect((await cli(["notify-unsubscribe", "--rule", "1"], h.env)).out).toBe(
        "Removed rule 1 (cards it subscribed keep their subscriptions)",
      );
      const gone = await cli(["notify-unsubscribe", "--rule", "1"], h.env);
      expect(gone.code).toBe(1);
      expect(gone.err.trim()).toBe("kanban: (no such rule 1)");
      expect((await cli(["notify-rules", "--json"], h.env)).out).toContain('"scope": "assignee"');
    });

    it("bad input: one readable line and a usage exit code", async () => {
      const both = await cli(
        ["notify-subscribe", "--board-wide", "--assignee", "x", "--platform", "slack", "--chat-id", "c"],
        h.env,
      );
      expect(both.code).toBe(2);
      expect(both.err.trim()).toBe("kanban: name exactly one of: a task id, --board-wide, --assignee <profile>");
      const alt = await cli(
        ["notify-subscribe", "--board-wide", "--user-id-alt", "u", "--platform", "slack", "--chat-id", "c"],
        h.env,
      );
      expect(alt.code).toBe(2);
      expect(alt.err.trim()).toBe(
        "kanban: --user-id-alt is for one task's subscription, not --board-wide or --assignee",
      );
      const none = await cli(["notify-subscribe", "--platform", "slack", "--chat-id", "c"], h.env);
      expect(none.code).toBe(2);
      const badRule = await cli(["notify-unsubscribe", "--rule", "abc"], h.env);
      expect(badRule.code).toBe(2);
      expect(badRule.err.trim()).toBe("kanban: --rule takes a rule id (a positive integer), got 'abc'");
      const mixed = await cli(["notify-unsubscribe", "t_1", "--rule", "1"], h.env);
      expect(mixed.code).toBe(2);
      const halfKey = await cli(["notify-unsubscribe", "t_1", "--platform", "slack"], h.env);
      expect(halfKey.code).toBe(2);
      expect(halfKey.err.trim()).toBe("kanban: name a task id with --platform and --chat-id, or --rule <id>");
      expect((await cli(["notify-rules"], h.env)).out).toBe("(no rules)");
    });
  });
}
