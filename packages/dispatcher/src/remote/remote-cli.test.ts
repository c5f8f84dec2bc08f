import { afterEach, describe, expect, it } from "vitest";
import { type FakeServer, startFakeServer } from "../../test/fake-host-server.ts";
import { fakeProfile, killAll, makeHome, runBin, startBin, type TestHome, waitFor } from "../../test/helpers.ts";
import { loadConfig } from "../config.ts";

/** `kanban-dispatcher --server …` as a real process: its flags, its config.json, its refusals. */
const TOKEN = "host-token-cli-test-0123456789";

let home: TestHome | null = null;
let fake: FakeServer | null = null;
afterEach(async () => {
  await killAll();
  await fake?.close();
  home?.cleanup();
  home = null;
  fake = null;
});

function setup(config: Record<string, unknown> = {}): TestHome {
  home = makeHome({ profiles: { alice: fakeProfile("crash") }, ...config });
  return home;
}

describe("remote host configuration", () => {
  it("takes --token over KANBAN_HOST_TOKEN over config.json, checks labels, and never hands the host token to workers", () => {
    const h = setup({ remote: { server: "http://127.0.0.1:9/", token: "from-file", labels: ["GPU"], capacity: 3 } });
    const fromFile = loadConfig(h.env).remote;
    expect(fromFile).toEqual({
      server: "http://127.0.0.1:9",
      trpcUrl: "http://127.0.0.1:9/trpc",
      token: "from-file",
      labels: ["gpu"],
      capacity: 3,
    });
    const env = { ...h.env, KANBAN_HOST_TOKEN: "from-env" };
    expect(loadConfig(env).remote?.token).toBe("from-env");
    const flags = loadConfig(env, { token: "from-flag", labels: ["b", "a", "a"], maxWorkers: 2 });
    expect(flags.remote).toMatchObject({ token: "from-flag", labels: ["a", "b"], capacity: 2 });
    expect(flags.baseEnv.KANBAN_HOST_TOKEN).toBeUndefined();
    expect(() => loadConfig(h.env, { labels: ["no spaces"] })).toThrow(/invalid --labels: 'no spaces'/);
    expect(() => loadConfig(h.env, { server: "ftp://x" })).toThrow(/invalid --server: must be an http\(s\) URL/);
    expect(() => loadConfig(h.env, { server: "http://u:secret@host:1" })).toThrow(/no credentials in the URL/);
  });

  it("a plain home is no remote host, and host flags without a server are refused (--labels is a local dispatcher's too)", () => {
    const h = setup();
    expect(loadConfig(h.env).remote).toBeNull();
    expect(() => loadConfig(h.env, { maxWorkers: 2 })).toThrow(/pass --server <url> too/);
    expect(() => loadConfig(h.env, { token: "t" })).toThrow(/pass --server <url> too/);
    expect(loadConfig(h.env, { labels: ["a"] }).settings.labels).toEqual(["a"]);
  });
});

describe("kanban-dispatcher --server", { timeout: 60_000 }, () => {
  it("refuses --once, a missing token, and a token the server does not know (one line, no token echoed)", async () => {
    const h = setup();
    fake = await startFakeServer(TOKEN);
    const once = await runBin(["--server", fake.url, "--once"], h.env);
    expect(once.code).toBe(2);
    expect(once.stderr).toContain("--server runs the remote host loop; it has no --once");
    const none = await runBin(["--server", fake.url], h.env);
    expect(none.code).toBe(1);
    expect(none.stderr).toBe(
      "kanban-dispatcher: a remote host needs its host token: --token, KANBAN_HOST_TOKEN or config.json remote.token\n",
    );
    const wrong = await runBin(["--server", fake.url, "--token", "not-the-host-token-at-all"], h.env);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain("the server refused this host (UNAUTHORIZED)");
    expect(wrong.stderr).not.toContain("not-the-host-token-at-all");
    expect(wrong.stderr.split("\n").filter((l) => l.includes("refused"))).toHaveLength(1);
  });

  it("runs from config.json's remote section, one host per home, and stops on SIGTERM", async () => {
    fake = await startFakeServer(TOKEN);
    const h = setup({ remote: { server: fake.url, token: TOKEN, labels: ["macos"], capacity: 2 } });
    const first = startBin([], h.env);
    const hello = await waitFor(() => fake?.of("hosts.hello")[0]?.input, "hello", 30_000);
    expect(hello).toMatchObject({ labels: ["macos"], capacity: 2 });
    const second = await runBin([], h.env);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/another remote host is already running for .* \(pid \d+\)/);
    first.child.kill("SIGTERM");
    expect((await first.exited).code).toBe(0);
    expect(first.stderr()).toContain("stopped (its workers keep running; the next start adopts them)");
    expect(first.stderr()).not.toContain(TOKEN);
  });
});
