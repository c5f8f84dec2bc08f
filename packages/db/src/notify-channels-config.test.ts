import { describe, expect, it } from "vitest";
import { KanbanDbError } from "./errors.ts";
import { parseHomeConfig } from "./home-config.ts";

// Issue 17: `notify_channels` and the `kanban.notify_*` / `kanban.public_url` settings of config.json.
// A channel's URL and secret are secrets: no refusal ever quotes them.

const URL_ = "https://hooks.example.com/services/T01/B02/s3cr3tPathToken";
const SECRET = "hmac-key-0123456789abcdef";

function problem(value: unknown): string {
  try {
    parseHomeConfig(value);
  } catch (err) {
    if (err instanceof KanbanDbError) return err.message;
    throw err;
  }
  throw new Error("expected a refusal");
}

describe("notify_channels", () => {
  it("reads channels with their defaults, and the notifier's settings with theirs", () => {
    const c = parseHomeConfig({
      notify_channels: { ops: { type: "webhook", url: URL_, secret: SECRET }, team: { type: "slack", url: URL_ } },
    });
    expect(c.notify_channels).toEqual({
      ops: { type: "webhook", url: URL_, secret: SECRET, timeout_seconds: 10 },
      team: { type: "slack", url: URL_, timeout_seconds: 10 },
    });
    expect(c.kanban).toMatchObject({
      notify_enabled: true,
      notify_interval_seconds: 5,
      notify_max_failures: 12,
      public_url: null,
    });
    expect(parseHomeConfig({}).notify_channels).toEqual({});
    const k = parseHomeConfig({
      kanban: {
        notify_enabled: false,
        notify_interval_seconds: 1,
        notify_max_failures: 3,
        public_url: "http://h:3000",
      },
    }).kanban;
    expect(k).toMatchObject({ notify_enabled: false, notify_max_failures: 3, public_url: "http://h:3000" });
  });

  it("refuses a bad entry naming its key, never quoting the URL or the secret", () => {
    const badUrl = problem({ notify_channels: { ops: { type: "webhook", url: `ftp://${URL_}`, secret: SECRET } } });
    expect(badUrl).toBe("invalid config.json: notify_channels.ops.url: must be an http(s) URL");
    const badType = problem({ notify_channels: { ops: { type: "teams", url: URL_, secret: SECRET } } });
    expect(badType).toMatch(/^invalid config\.json: notify_channels\.ops\.type: /);
    const typo = problem({ notify_channels: { ops: { type: "webhook", url: URL_, secert: SECRET } } });
    expect(typo).toBe('invalid config.json: notify_channels.ops.secert: unknown key; did you mean "secret"?');
    const badName = problem({ notify_channels: { [URL_]: { type: "slack", url: URL_ } } });
    expect(badName).toMatch(/^invalid config\.json: notify_channels: channel name of \d+ characters \(not shown/);
    expect(problem({ kanban: { public_url: "board.example" } })).toBe(
      "invalid config.json: kanban.public_url: must be an http(s) URL",
    );
    for (const m of [badUrl, badType, typo, badName]) {
      expect(m).not.toContain("s3cr3tPathToken");
      expect(m).not.toContain(SECRET);
    }
  });
});
