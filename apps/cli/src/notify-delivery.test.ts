import { type RunningServer, silentLogger, startServer } from "@kanban/api";
import { deadUrl, startReceiver, type TestReceiver } from "@kanban/notify/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { cli, cliJson, createdId, type TempHome, tempHome } from "./testing/harness.ts";

/**
 * Issue 17: `kanban notify-test` and `kanban notify-log`, locally (in-process API) and against a
 * real server (KANBAN_URL), with a real receiver on 127.0.0.1. The channel's URL and secret, which
 * live in config.json only, never appear in any output.
 */
const SECRET = "whsec-cli-test-0123456789";
let h: TempHome;
let server: RunningServer | null = null;
let r: TestReceiver;
let dead: string;

for (const mode of ["local", "remote"] as const) {
  describe(`notify-test and notify-log (${mode})`, () => {
    beforeEach(async () => {
      r = await startReceiver();
      dead = await deadUrl();
      h = tempHome({
        notify_channels: {
          ops: { type: "webhook", url: r.url, secret: SECRET },
          down: { type: "discord", url: dead },
        },
      });
      if (mode === "remote") {
        server = await startServer({ host: "127.0.0.1", port: 0, location: { home: h.home }, logger: silentLogger });
        h.env.KANBAN_URL = server.url;
      }
    });
    afterEach(async () => {
      await server?.close();
      server = null;
      h.cleanup();
      await r.close();
    });

    it("sends a test message, prints one line, and the log shows it; a dead channel exits 1 with one line", async () => {
      const id = createdId((await cli(["create", "watched"], h.env)).out);
      const ok = await cli(["notify-test", id, "webhook", "ops"], h.env);
      expect(ok.code).toBe(0);
      expect(ok.out).toMatch(new RegExp(`^Test message delivered to webhook:ops for ${id} \\(HTTP 200, \\d+ ms\\)$`));
      expect(r.received).toHaveLength(1);
      expect(r.received[0]?.json.task).toMatchObject({ id });

      const bad = await cli(["notify-test", id, "discord", "down", "--thread", "T9"], h.env);
      expect(bad.code).toBe(1);
      expect(bad.err.trim()).toBe("kanban: test message to discord:down:T9 failed: network error: ECONNREFUSED");

      const unknown = await cli(["notify-test", id, "webhook", "nope"], h.env);
      expect(unknown.code).toBe(1);
      expect(unknown.err.trim().split("\n")).toHaveLength(1);
      expect(unknown.err).toContain("no webhook channel named 'nope'");

      const log = await cli(["notify-log", id], h.env);
      expect(log.code).toBe(0);
      const lines = log.out.split("\n");
      expect(lines).toHaveLength(2);
      expect(lines[0]).toContain(`${id}  discord:down:T9  test  test  network error: ECONNREFUSED`);
      expect(lines[1]).toContain(`${id}  webhook:ops  test  test HTTP 200`);
      const rows = await cliJson<{ outcome: string; http_status: number | null }[]>(["notify-log", "--json"], h.env);
      expect(rows.map((x) => x.http_status)).toEqual([null, 200]);

      const everything = [ok, bad, unknown, log].map((x) => x.out + x.err).join("\n");
      for (const secret of [r.url, new URL(r.url).pathname, dead, new URL(dead).pathname, SECRET])
        expect(everything).not.toContain(secret);
    });

    it("an empty log says so", async () => {
      expect((await cli(["notify-log"], h.env)).out).toBe("(no deliveries)");
    });
  });
}
